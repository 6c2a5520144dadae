"""Flask 3.1.3's own typing tests (``tests/type_check`` in its sdist, fetched
by scripts/compat.py) pass ``mypy --strict`` and pyright against this
package: users' type checkers read our annotations (``py.typed``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
import compat  # noqa: E402


@pytest.fixture(scope="module")
def type_check_dir() -> Path:
    compat.fetch()
    path = compat.TREE / "tests" / "type_check"
    assert sorted(p.name for p in path.glob("*.py")), "no type_check files in the sdist"
    return path


def _tool(name: str) -> str:
    pytest.importorskip(name, reason=f"{name} is not installed (pip install -e '.[lint]')")
    return os.path.join(os.path.dirname(sys.executable), name)


def test_mypy_strict_accepts_flasks_type_checks(type_check_dir: Path) -> None:
    mypy = _tool("mypy")
    proc = subprocess.run(
        [mypy, "--strict", "--no-incremental", "."],
        cwd=type_check_dir, capture_output=True, text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Success: no issues found in 3 source files" in proc.stdout


def test_pyright_accepts_flasks_type_checks(type_check_dir: Path) -> None:
    pyright = _tool("pyright")
    proc = subprocess.run(
        [pyright, "--pythonpath", sys.executable, "."],
        cwd=type_check_dir, capture_output=True, text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 errors" in proc.stdout


def test_mypy_sees_a_wrong_view_type(tmp_path: Path) -> None:
    """The checks above can fail: a view returning an int is rejected."""
    mypy = _tool("mypy")
    (tmp_path / "bad.py").write_text(
        "from flask import Flask\n"
        "app = Flask(__name__)\n"
        "@app.route('/')\n"
        "def index() -> int:\n"
        "    return 1\n"
    )
    proc = subprocess.run(
        [mypy, "--strict", "--no-incremental", "bad.py"],
        cwd=tmp_path, capture_output=True, text=True,
    )
    assert proc.returncode == 1, proc.stdout
    assert "bad.py:3" in proc.stdout
