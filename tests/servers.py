"""Real servers, each on a free loopback port, for end-to-end tests.

:func:`serve` starts an app module under one of :data:`SERVERS` (WSGI:
gunicorn sync and gthread, uWSGI, waitress, Werkzeug's threaded server;
ASGI: uvicorn, hypercorn, granian) in a process group of its own, waits
until the port listens (the bound only stops a hang), and kills the group
when the block ends, whatever happened in it.

The module must define ``app`` (the WSGI callable, a Flask app) and
``asgi`` (``app.asgi_app``); each server is given the one it speaks. To
reuse the matrix in a test module (tests/conftest.py makes the
``server_name`` fixture available everywhere)::

    from servers import serve

    def test_x(server_name: str, tmp_path: Path) -> None:
        (tmp_path / "myapp.py").write_text(APP)
        with serve(server_name, "myapp", tmp_path) as served:
            served.request("GET", "/")

``server_name`` is parametrized over every server and skips one whose
package is absent (never under CI=true: they are in the ``dev`` extra).
"""

from __future__ import annotations

import contextlib
import dataclasses
import http.client
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import typing as t
from pathlib import Path

import pytest
from waits import HangBound, wait_until

BIN = Path(sys.executable).parent


@dataclasses.dataclass(frozen=True)
class ServerKind:
    name: str
    #: "wsgi" or "asgi": which callable of the module it serves.
    interface: str
    #: The importable package that must be installed.
    package: str
    command: t.Callable[[str, int], list[str]]


def _gunicorn(worker: str, *extra: str) -> t.Callable[[str, int], list[str]]:
    def command(module: str, port: int) -> list[str]:
        return [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "1",
                "--worker-class", worker, *extra, "--graceful-timeout", "5", f"{module}:app"]

    return command


def _uwsgi(module: str, port: int) -> list[str]:
    # The pyuwsgi wheel's executable; --die-on-term so SIGTERM stops it
    # rather than reloading.
    return [os.fspath(BIN / "uwsgi"), "--http-socket", f"127.0.0.1:{port}", "--module",
            f"{module}:app", "--master", "--processes", "1", "--threads", "4",
            "--enable-threads", "--die-on-term", "--need-app", "--pythonpath", ".",
            "--disable-logging"]


def _waitress(module: str, port: int) -> list[str]:
    return [sys.executable, "-m", "waitress", f"--listen=127.0.0.1:{port}", "--threads=4",
            "--channel-request-lookahead=1",
            f"{module}:app"]


def _werkzeug(module: str, port: int) -> list[str]:
    code = (f"import {module}; from werkzeug.serving import run_simple; "
            f"run_simple('127.0.0.1', {port}, {module}.app, threaded=True)")
    return [sys.executable, "-c", code]


def _uvicorn(module: str, port: int) -> list[str]:
    return [sys.executable, "-m", "uvicorn", f"{module}:asgi", "--host", "127.0.0.1", "--port",
            str(port), "--log-level", "warning"]


def _hypercorn(module: str, port: int) -> list[str]:
    return [sys.executable, "-m", "hypercorn", f"{module}:asgi", "--bind", f"127.0.0.1:{port}"]


def _granian(module: str, port: int) -> list[str]:
    return [sys.executable, "-m", "granian", "--interface", "asgi", "--host", "127.0.0.1",
            "--port", str(port), "--no-ws", "--log-level", "warning", f"{module}:asgi"]


SERVERS: dict[str, ServerKind] = {
    kind.name: kind
    for kind in [
        ServerKind("gunicorn-sync", "wsgi", "gunicorn", _gunicorn("sync", "--timeout", "60")),
        ServerKind("gunicorn-gthread", "wsgi", "gunicorn", _gunicorn("gthread", "--threads", "4")),
        ServerKind("uwsgi", "wsgi", "pyuwsgi", _uwsgi),
        ServerKind("waitress", "wsgi", "waitress", _waitress),
        ServerKind("werkzeug", "wsgi", "werkzeug", _werkzeug),
        ServerKind("uvicorn", "asgi", "uvicorn", _uvicorn),
        ServerKind("hypercorn", "asgi", "hypercorn", _hypercorn),
        ServerKind("granian", "asgi", "granian", _granian),
    ]
}
WSGI = [k for k, v in SERVERS.items() if v.interface == "wsgi"]
ASGI = [k for k, v in SERVERS.items() if v.interface == "asgi"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Served:
    """A running server: its port, its log, and plain HTTP requests."""

    def __init__(self, kind: ServerKind, proc: subprocess.Popen[bytes], port: int, log: Path) -> None:
        self.kind = kind
        self.proc = proc
        self.port = port
        self.log = log

    @property
    def asgi(self) -> bool:
        return self.kind.interface == "asgi"

    def connect(self, timeout: float = 20) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.port), timeout=timeout)

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def stop(self, hang_bound: float = 15) -> None:
        """SIGTERM to the whole group, then SIGKILL if it hangs."""
        _signal_group(self.proc, signal.SIGTERM)
        try:
            self.proc.wait(hang_bound)
        except subprocess.TimeoutExpired:
            pass
        _signal_group(self.proc, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(5)


def _signal_group(proc: subprocess.Popen[bytes], sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)


@contextlib.contextmanager
def serve(name: str, module: str, cwd: Path, *, hang_bound: float = 60) -> t.Iterator[Served]:
    """Run ``module`` (importable from ``cwd``) under server ``name``."""
    kind = SERVERS[name]
    port = free_port()
    log = cwd / f"{name}.log"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([os.fspath(cwd), *sys.path])}
    with log.open("wb") as out:
        proc = subprocess.Popen(kind.command(module, port), cwd=cwd, stdout=out,
                                stderr=subprocess.STDOUT, env=env, start_new_session=True)
    served = Served(kind, proc, port, log)
    try:
        def listening() -> bool:
            if proc.poll() is not None:
                raise AssertionError(f"{name} exited ({proc.returncode}): {log.read_text()}")
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True

        try:
            wait_until(listening, hang_bound=hang_bound, retry_on=(OSError,), poll=0.1,
                       what=f"{name} to listen on port {port}")
        except HangBound as e:
            raise HangBound(f"{e}; its log: {log.read_text()}") from None
        yield served
    finally:
        served.stop()


def need(name: str) -> None:
    """Skip when the server's package is absent (never under CI=true)."""
    package = SERVERS[name].package
    if importlib.util.find_spec(package) is None:
        pytest.skip(f"{package} is not installed (pip install -e '.[dev]')")


@pytest.fixture(params=list(SERVERS))
def server_name(request: pytest.FixtureRequest) -> str:
    """Each server of the matrix in turn (skipped where not installed)."""
    need(str(request.param))
    return str(request.param)
