"""pytest plugin for ``scripts/compat.py``: each test id's outcome, as JSON.

Loaded into the run of Flask 3.1.3's suite with ``-p compat_report``; it
writes ``{"outcomes": {nodeid: outcome}, "skips": {nodeid: reason}}`` to
the file named by ``COMPAT_REPORT``. The
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
skips: dict[str, str] = {}


def record(nodeid: str, outcome: str) -> None:
    old = outcomes.get(nodeid)
    if old is None or RANK.index(outcome) > RANK.index(old):
        outcomes[nodeid] = outcome


def reason(report: pytest.TestReport | pytest.CollectReport) -> str:
    text = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    return str(text).removeprefix("Skipped: ").strip().replace("\n", " ")


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    xfail = hasattr(report, "wasxfail")
    if report.failed:
        record(report.nodeid, "failed" if report.when == "call" else "error")
    elif report.skipped:
        record(report.nodeid, "xfailed" if xfail else "skipped")
        if not xfail:
            skips[report.nodeid] = reason(report)
    elif report.when == "call":
        record(report.nodeid, "xpassed" if xfail else "passed")


def pytest_collectreport(report: pytest.CollectReport) -> None:
    if report.failed:
        record(report.nodeid, "error")
    elif report.skipped:  # pytest.skip(allow_module_level=True)
        record(report.nodeid, "skipped")
        skips[report.nodeid] = reason(report)


def pytest_sessionfinish(session: pytest.Session) -> None:
    report = {"outcomes": outcomes, "skips": skips}
    Path(os.environ["COMPAT_REPORT"]).write_text(json.dumps(report, indent=1))
