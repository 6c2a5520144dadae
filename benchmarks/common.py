"""Paths, participants and process helpers shared by the benchmark scripts."""

from __future__ import annotations

import atexit
import datetime as dt
import os
import platform
import shutil
import signal
import subprocess
import typing as t
from pathlib import Path

import harness  # benchmarks/harness.py: scenario definitions (stdlib only)

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks"
APPS = BENCH / "apps"
HARNESS = BENCH / "harness.py"
CACHE = ROOT / ".cache" / "bench"
OUTPUT = ROOT / "BENCHMARKS.md"

SCENARIOS = list(harness.SCENARIOS)
REF_SCENARIOS = ("hello", "param")

# The same versions everywhere: the comparison is between flask packages only.
CONSTRAINTS = """\
Werkzeug==3.1.9
Jinja2==3.1.6
MarkupSafe==3.0.4
itsdangerous==2.2.0
click==8.5.1
blinker==1.9.0
gunicorn==27.0.1
bottle==0.13.4
falcon==4.4.0
"""

VENVS: dict[str, list[str]] = {
    "ours": ["-e", str(ROOT), "gunicorn"],
    "pallets": ["flask==3.1.3", "gunicorn"],
    "others": ["bottle", "falcon", "gunicorn"],
}

# participant -> (venv, harness target, gunicorn module)
PARTICIPANTS: dict[str, tuple[str, str, str]] = {
    "ours": ("ours", "flask", "flask_app"),
    "ours_off": ("ours", "flask", "flask_app"),
    "pallets": ("pallets", "flask", "flask_app"),
    "bottle": ("others", "bottle", "bottle_app"),
    "falcon": ("others", "falcon", "falcon_app"),
    "raw": ("others", "raw", "raw_app"),
}
REFERENCES = ("bottle", "falcon", "raw")
# The Flask implementations: each is checked against Pallets and runs every scenario.
FLASKS = ("ours", "ours_off", "pallets")

# What a participant's processes get on top of clean_env(). "ours_off" is
# the "ours" venv with every shortcut of flask/_accel/ switched off, so the
# cost of the switch is measured on the same interpreter and packages.
SHORTCUTS_OFF = {"FLASK_NO_SHORTCUTS": "1"}
PARTICIPANT_ENV: dict[str, dict[str, str]] = {"ours_off": SHORTCUTS_OFF}

CHILDREN: list[subprocess.Popen[t.Any]] = []


def log(msg: str = "") -> None:
    print(msg, flush=True)


def loud(msg: str) -> None:
    bar = "!" * 78
    print(f"\n{bar}\n{msg}\n{bar}\n", flush=True)


def clean_env() -> dict[str, str]:
    """The environment for child processes, without anything that could make
    one venv import another venv's packages."""
    env = dict(os.environ)
    for key in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP", "PYTHONDONTWRITEBYTECODE"):
        env.pop(key, None)
    env["PYTHONHASHSEED"] = "0"
    return env


def participant_env(part: str) -> dict[str, str]:
    """clean_env() with the participant's own variables."""
    return {**clean_env(), **PARTICIPANT_ENV.get(part, {})}


def worker_of(part: str) -> str:
    """The in-process harness a participant is timed in: its venv's, or its
    own where it runs with variables of its own."""
    return part if part in PARTICIPANT_ENV else PARTICIPANTS[part][0]


def kill_group(proc: subprocess.Popen[t.Any]) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=5)


@atexit.register
def _cleanup() -> None:
    for proc in CHILDREN:
        kill_group(proc)



def venv_python(name: str) -> Path:
    return CACHE / name / "bin" / "python"


def machine_info() -> dict[str, str]:
    """The machine and the date of a run, as the results file records them."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    wrk = shutil.which("wrk")
    wrk_version = ""
    if wrk:
        proc = subprocess.run([wrk, "-v"], capture_output=True, text=True)
        wrk_version = (proc.stdout + proc.stderr).strip().splitlines()[0] if (proc.stdout + proc.stderr).strip() else ""
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "os": f"{platform.system()} {platform.release()}",
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "wrk": wrk_version,
    }
