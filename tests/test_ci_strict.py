"""scripts/ci_strict.py: skips fail under CI and are listed outside it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"
sys.path.insert(0, str(SCRIPTS))

import ci_strict  # noqa: E402

SUITE = '''
import pytest

def test_skips():
    pytest.skip("no nginx here")

@pytest.mark.xfail
def test_expected_failure():
    assert False

@pytest.mark.ci_may_skip(reason="tied to another Python")
def test_may_skip():
    pytest.skip("wrong Python")

def test_passes():
    pass
'''


def _run(tmp_path: Path, log: Path, ci: bool) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_demo.py").write_text(SUITE)
    (tmp_path / "test_module_skip.py").write_text('import pytest\npytest.skip("no Chromium", allow_module_level=True)\n')
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env.update(FLASK_SKIP_LOG=str(log), PYTHONPATH=str(SCRIPTS), **({"CI": "true"} if ci else {}))
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "ci_strict", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )


def test_outside_ci_every_skip_is_listed_with_its_reason(tmp_path: Path) -> None:
    log = tmp_path / "skips.txt"
    proc = _run(tmp_path, log, ci=False)
    assert proc.returncode == 0, proc.stdout
    lines = sorted(log.read_text().splitlines())
    assert lines == [
        "test_demo.py::test_may_skip\twrong Python",
        "test_demo.py::test_skips\tno nginx here",
        "test_module_skip.py\tno Chromium",
    ]
    text = ci_strict.summary(log)
    assert text.splitlines()[0] == "skipped: 3 test(s) did not run"
    assert "  test_demo.py::test_skips: no nginx here" in text.splitlines()


def test_under_ci_a_skip_fails_unless_it_may(tmp_path: Path) -> None:
    log = tmp_path / "skips.txt"
    proc = _run(tmp_path, log, ci=True)
    assert proc.returncode == 1
    assert "FAILED test_demo.py::test_skips" in proc.stdout
    assert "test_may_skip" not in proc.stdout.split("short test summary")[-1]
    assert "test_demo.py::test_skips" not in log.read_text()


def test_summary_of_a_run_without_skips(tmp_path: Path) -> None:
    assert ci_strict.summary(tmp_path / "absent.txt") == "skipped: none"
