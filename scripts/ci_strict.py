"""pytest plugin: under ``CI=true`` a skipped test is a failed test; outside
CI every skip is listed at the end of ``make test``.

CI is meant to run every test it collects; a skip there means a tool or a
service CI should have installed or started is missing, and a green run
would hide that. Load it with ``-p ci_strict`` (``scripts/`` on the path).
A test that may legitimately skip in CI (one tied to a Python version the
run does not use, say) marks itself ``@pytest.mark.ci_may_skip(reason=...)``.

When ``FLASK_SKIP_LOG`` names a file, each skip that stands (and each module
skipped at collection) is appended to it as ``node id<TAB>reason``, so the
several pytest runs of ``make test`` add up to one list, which
``python scripts/ci_strict.py --summary FILE`` prints as the run's last
lines.
"""

from __future__ import annotations

import argparse
import os
import sys
import typing as t
from pathlib import Path

import pytest

SKIP_LOG = "FLASK_SKIP_LOG"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "ci_may_skip(reason): this test may skip under CI=true"
    )


def _reason(longrepr: object) -> str:
    text = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    return str(text).removeprefix("Skipped: ").strip().replace("\n", " ")


def record_skip(nodeid: str, reason: str) -> None:
    """Append one skip to the file ``FLASK_SKIP_LOG`` names, if it names one."""
    path = os.environ.get(SKIP_LOG)
    if not path:
        return
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as f:
        f.write(f"{nodeid}\t{reason}\n")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> t.Generator[None, t.Any, None]:
    outcome = yield
    report = outcome.get_result()
    if not report.skipped or hasattr(report, "wasxfail"):
        return
    reason = _reason(report.longrepr)
    if os.environ.get("CI") == "true" and not item.get_closest_marker("ci_may_skip"):
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true, where every test must run: {reason}"
        return
    record_skip(report.nodeid, reason)


def pytest_collectreport(report: pytest.CollectReport) -> None:
    # A module that skips itself (pytest.importorskip, allow_module_level)
    # never reaches makereport: list it under its own name.
    if report.skipped:
        record_skip(report.nodeid, _reason(report.longrepr))


def summary(path: Path) -> str:
    """The skip list of one ``make test`` run, as printed at its end."""
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    if not lines:
        return "skipped: none"
    out = [f"skipped: {len(lines)} test(s) did not run"]
    for line in lines:
        nodeid, _, reason = line.partition("\t")
        out.append(f"  {nodeid}: {reason}")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Print the skip list a make test run collected.")
    parser.add_argument("--summary", type=Path, required=True, help="the FLASK_SKIP_LOG file")
    args = parser.parse_args(argv)
    print(summary(args.summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
