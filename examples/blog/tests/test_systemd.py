"""The systemd units: valid for systemd, and the same commands as the Procfile.

``systemd-analyze verify`` checks each unit's syntax and that its commands
exist; the units are rendered with this checkout's paths in place of
/srv/blog, as an install would have them. The Procfile's commands are the
ones ``test_deploy`` runs, so a unit that starts something else is caught.
"""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, os.fspath(Path(__file__).resolve().parents[1] / "deploy"))

import stack  # noqa: E402

UNITS = stack.HERE / "systemd"
VENV_BIN = Path(sys.executable).parent


def render(unit: Path, env_file: Path) -> str:
    text = unit.read_text()
    for old, new in (
        ("/srv/blog/.venv/bin", os.fspath(VENV_BIN)),
        ("/srv/blog", os.fspath(stack.APP_DIR)),
        ("/etc/blog/env", os.fspath(env_file)),
    ):
        assert old in text, f"{unit.name} should mention {old}"
        text = text.replace(old, new)
    return text


def test_units_verify(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze not found; enable this test with: apt-get install systemd")
    env_file = tmp_path / "env"
    env_file.write_text("DATABASE_URL=postgresql://blog@127.0.0.1/blog\n")
    paths = []
    for unit in sorted(UNITS.glob("*.service")):
        name = unit.name.replace("@.", "@8000.")  # an instance of the template
        path = tmp_path / name
        path.write_text(render(unit, env_file))
        paths.append(os.fspath(path))
    assert len(paths) == 3
    result = subprocess.run(
        [analyze, "verify", "--man=no", *paths], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # Warnings (an unknown key, an unparsable value) are printed, not fatal.
    assert "ignoring" not in result.stderr, result.stderr


def exec_start(unit: str) -> str:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.read_string((UNITS / unit).read_text())
    command = parser["Service"]["ExecStart"]
    return command.replace("/srv/blog/.venv/bin/", "")


def test_units_run_the_procfile_commands() -> None:
    procfile = stack.procfile()
    assert exec_start("blog-web@.service") == procfile["web"]
    assert exec_start("blog-migrate.service") == procfile["release"]
    worker = procfile["worker"].split(" --queues")[0]
    assert exec_start("blog-worker.service") == worker
