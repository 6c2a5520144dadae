"""pytest plugin: under ``CI=true`` a skipped test is a failed test.

CI is meant to run every test it collects; a skip there means a tool or a
service CI should have installed or started is missing, and a green run
would hide that. Load it with ``-p ci_strict`` (``scripts/`` on the path).
A test that may legitimately skip in CI (one tied to a Python version the
run does not use, say) marks itself ``@pytest.mark.ci_may_skip(reason=...)``.
"""

from __future__ import annotations

import os
import typing as t

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "ci_may_skip(reason): this test may skip under CI=true"
    )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> t.Generator[None, t.Any, None]:
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("CI") != "true" or not report.skipped:
        return
    if hasattr(report, "wasxfail") or item.get_closest_marker("ci_may_skip"):
        return
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
    report.outcome = "failed"
    report.longrepr = f"skipped under CI=true, where every test must run: {reason}"
