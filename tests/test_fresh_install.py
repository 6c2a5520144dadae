"""The documented install, as a new user does it: a fresh virtual
environment, ``pip install "flask[asgi]"`` (from this checkout) and nothing
else, then the README's echo app served by ``flask run`` and by
``uvicorn hello:app``; and with hypercorn and granian added, by ``hypercorn
hello:app`` and ``granian --interface asgi hello:app``. Each answers HTTP
200 and echoes a WebSocket message, on a free loopback port.

The servers run from the fresh environment with ``PYTHONPATH`` removed, so
they import the installed package, never this checkout. The client is the
``websockets`` library of the test's own environment. Every wait is bounded
only to end a hang.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import typing as t
from pathlib import Path

import pytest
from waits import wait_until

ROOT = Path(__file__).resolve().parents[1]
INSTALL_TIMEOUT = 900.0  # bounds a hung pip; a normal install takes seconds
START_TIMEOUT = 60.0
TIMEOUT = 10.0


def _readme_app() -> str:
    """The first Python block of README.md: the echo app it shows first."""
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    app = next(b for b in blocks if "@app.websocket" in b)
    assert '@app.websocket("/echo")' in app and '@app.route("/")' in app, app
    return app


def _clean_env(venv: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["VIRTUAL_ENV"] = str(venv)
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _copy_project(dest: Path) -> Path:
    # A copy, so that the build leaves nothing in the checkout and no
    # earlier build's leftovers (build/) get into the wheel.
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    shutil.copytree(ROOT / "src", dest / "src", ignore=ignore)
    for name in ("pyproject.toml", "README.md", "LICENSE.txt"):
        shutil.copy2(ROOT / name, dest / name)
    return dest


def _make_venv(base: Path, *extra: str) -> Path:
    """A fresh venv in ``base`` with ``pip install <project>[asgi]`` and
    ``extra``; ``base / "app" / "hello.py"`` is the README's app."""
    project = _copy_project(base / "project")
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=INSTALL_TIMEOUT)
    rv = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", f"{project}[asgi]", *extra],
        env=_clean_env(venv), capture_output=True, text=True, timeout=INSTALL_TIMEOUT,
    )
    assert rv.returncode == 0, rv.stdout + rv.stderr
    app_dir = base / "app"
    app_dir.mkdir()
    (app_dir / "hello.py").write_text(_readme_app())
    return venv


@pytest.fixture(scope="module")
def asgi_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``pip install "flask[asgi]"`` and nothing else."""
    return _make_venv(tmp_path_factory.mktemp("asgi-only"))


@pytest.fixture(scope="module")
def servers_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same, plus hypercorn and granian."""
    return _make_venv(tmp_path_factory.mktemp("servers"), "hypercorn", "granian")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def _serving(venv: Path, command: list[str], port: int) -> t.Iterator[Path]:
    log = venv.parent / f"server-{port}.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            command, cwd=venv.parent / "app", env=_clean_env(venv),
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        def listening() -> bool:
            assert proc.poll() is None, f"the server exited:\n{log.read_text()}"
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True

        wait_until(listening, hang_bound=START_TIMEOUT, what=f"a server on port {port}",
                   retry_on=(OSError,))
        yield log
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=TIMEOUT)


def _check_http_and_echo(port: int, log: Path) -> None:
    from websockets.sync.client import connect

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    try:
        conn.request("GET", "/")
        rv = conn.getresponse()
        assert (rv.status, rv.read()) == (200, b"Hello, World!"), log.read_text()
    finally:
        conn.close()
    with connect(f"ws://127.0.0.1:{port}/echo", open_timeout=TIMEOUT, close_timeout=TIMEOUT) as ws:
        for message in ("hello", "wörld " * 100):
            ws.send(message)
            assert ws.recv(TIMEOUT) == message
        ws.send(b"\x00\x01bytes")
        assert ws.recv(TIMEOUT) == b"\x00\x01bytes"


def _command(venv: Path, server: str, port: int) -> list[str]:
    bin_ = venv / "bin"
    return {
        "flask run": [str(bin_ / "flask"), "--app", "hello", "run", "--port", str(port)],
        "uvicorn": [str(bin_ / "uvicorn"), "hello:app", "--host", "127.0.0.1", "--port", str(port)],
        "hypercorn": [str(bin_ / "hypercorn"), "hello:app", "--bind", f"127.0.0.1:{port}"],
        "granian": [
            str(bin_ / "granian"), "--interface", "asgi", "--host", "127.0.0.1",
            "--port", str(port), "hello:app",
        ],
    }[server]


@pytest.mark.parametrize("server", ["flask run", "uvicorn"])
def test_asgi_extra_alone_serves_websockets(asgi_venv: Path, server: str) -> None:
    # Nothing else was installed: no hypercorn, no granian.
    assert not (asgi_venv / "bin" / "hypercorn").exists()
    port = _free_port()
    with _serving(asgi_venv, _command(asgi_venv, server, port), port) as log:
        _check_http_and_echo(port, log)
    if server == "flask run":
        assert "serving over ASGI with uvicorn" in log.read_text()


@pytest.mark.parametrize("server", ["hypercorn", "granian"])
def test_other_servers_serve_app_itself(servers_venv: Path, server: str) -> None:
    port = _free_port()
    with _serving(servers_venv, _command(servers_venv, server, port), port) as log:
        _check_http_and_echo(port, log)
