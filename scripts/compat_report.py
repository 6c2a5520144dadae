"""pytest plugin for ``scripts/compat.py``: each test id's outcome, as JSON.

Loaded into the run of Flask 3.1.3's suite with ``-p compat_report``; it
writes ``{nodeid: outcome}`` to the file named by ``COMPAT_REPORT``. The
outcome is ``passed``, ``failed`` (the test), ``error`` (its setup or
teardown, or collecting its file), ``skipped``, ``xfailed`` or ``xpassed``.
When phases disagree the worse one wins: a pass whose teardown fails is an
``error``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

RANK = ("passed", "xpassed", "xfailed", "skipped", "failed", "error")
outcomes: dict[str, str] = {}


def record(nodeid: str, outcome: str) -> None:
    old = outcomes.get(nodeid)
    if old is None or RANK.index(outcome) > RANK.index(old):
        outcomes[nodeid] = outcome


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    xfail = hasattr(report, "wasxfail")
    if report.failed:
        record(report.nodeid, "failed" if report.when == "call" else "error")
    elif report.skipped:
        record(report.nodeid, "xfailed" if xfail else "skipped")
    elif report.when == "call":
        record(report.nodeid, "xpassed" if xfail else "passed")


def pytest_collectreport(report: pytest.CollectReport) -> None:
    if report.failed:
        record(report.nodeid, "error")
    elif report.skipped:  # pytest.skip(allow_module_level=True)
        record(report.nodeid, "skipped")


def pytest_sessionfinish(session: pytest.Session) -> None:
    Path(os.environ["COMPAT_REPORT"]).write_text(json.dumps(outcomes, indent=1))
