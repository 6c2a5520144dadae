"""``flask run`` for apps with WebSocket routes: over ASGI (uvicorn), with
the reloader and the HTTP debugger; plain apps keep Werkzeug's server."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import typing as t
from pathlib import Path

import pytest
from click.testing import CliRunner
from waits import wait_until

import flask
from flask.cli import ScriptInfo
from flask.cli import run_command

APP_SOURCE = '''
import sys

from flask import Flask, websocket

app = Flask(__name__)


@app.get("/")
def index():
    return "http {version}"


@app.get("/warnoptions")
def warnoptions():
    return ",".join(sys.warnoptions)


@app.get("/boom")
def boom():
    raise ZeroDivisionError("for the debugger")


@app.websocket("/ws")
async def ws():
    await websocket.send("{version}")
'''


def _invoke(app: flask.Flask, monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[str, list[str]]:
    calls: list[str] = []
    monkeypatch.setattr("flask.cli.run_simple", lambda *a, **k: calls.append("wsgi"))
    monkeypatch.setattr("flask.cli.serve_asgi.run_asgi", lambda *a, **k: calls.append("asgi"))
    result = CliRunner().invoke(run_command, list(args), obj=ScriptInfo(create_app=lambda: app))
    assert result.exception is None, result.output
    return result.output, calls


def test_plain_app_keeps_werkzeug(monkeypatch: pytest.MonkeyPatch) -> None:
    app = flask.Flask(__name__)
    app.get("/")(lambda: "")
    _, calls = _invoke(app, monkeypatch)
    assert calls == ["wsgi"]


def test_websocket_app_goes_asgi_and_flags_override(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("uvicorn", reason="uvicorn not installed (pip install -e '.[dev]')")
    app = flask.Flask(__name__)

    @app.websocket("/ws")
    async def ws() -> None:
        pass

    assert _invoke(app, monkeypatch)[1] == ["asgi"]
    assert _invoke(app, monkeypatch, "--wsgi")[1] == ["wsgi"]
    plain = flask.Flask(__name__)
    assert _invoke(plain, monkeypatch, "--asgi")[1] == ["asgi"]


def test_without_uvicorn_it_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "uvicorn" else real_find_spec(name, *a)
    )
    app = flask.Flask(__name__)
    app.websocket("/ws")(lambda: None)
    output, calls = _invoke(app, monkeypatch)
    assert calls == ["wsgi"]
    assert "uvicorn is not installed" in output


# ``flask`` with some modules made unimportable: a ``None`` in sys.modules
# is how the import system spells "not available" (importlib.util.find_spec
# returns None for it and ``import`` raises ImportError).
WITHOUT_MODULES = """
import sys
for name in sys.argv[1].split(","):
    sys.modules[name] = None
from flask.cli import main
sys.argv = ["flask", *sys.argv[2:]]
main()
"""


def _flask_without(tmp_path: Path, modules: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(Path(flask.__file__).parents[1]), os.environ.get("PYTHONPATH", "")])}
    # The timeout only bounds a hang (a server that started after all).
    return subprocess.run([sys.executable, "-c", WITHOUT_MODULES, modules, *args], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=60)


def test_uvicorn_without_a_websocket_library_stops_with_what_to_install(tmp_path: Path) -> None:
    """uvicorn alone answers every handshake with 400: ``flask run`` says so
    and what to install, before it claims to serve WebSocket routes."""
    if importlib.util.find_spec("uvicorn") is None:
        pytest.skip("uvicorn not installed (pip install -e '.[dev]')")
    (tmp_path / "wsapp.py").write_text(APP_SOURCE.format(version="v1"))
    rv = _flask_without(tmp_path, "websockets,wsproto", "--app", "wsapp", "run",
                        "--port", str(_free_port()))
    assert rv.returncode == 2, rv.stdout + rv.stderr
    assert 'pip install "flask[asgi]"' in rv.stderr
    assert "no WebSocket library" in rv.stderr
    assert "erving over ASGI" not in rv.stdout + rv.stderr


@pytest.mark.parametrize(("blocked", "app", "flags"), [
    ("websockets", "wsapp", ()),  # wsproto is enough
    ("websockets,wsproto", "httpapp", ("--asgi",)),  # no WebSocket routes
])
def test_websocket_library_check_passes_when_uvicorn_can_serve(
    tmp_path: Path, blocked: str, app: str, flags: tuple[str, ...]
) -> None:
    """Past the check, ``flask run`` starts uvicorn; it then fails on the
    port taken here, so the test ends without a running server."""
    for module in ("uvicorn", "wsproto"):
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"{module} not installed (pip install -e '.[dev]')")
    (tmp_path / "wsapp.py").write_text(APP_SOURCE.format(version="v1"))
    (tmp_path / "httpapp.py").write_text("from flask import Flask\napp = Flask(__name__)\n")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        rv = _flask_without(tmp_path, blocked, "--app", app, "run", *flags, "--port", str(port))
    output = rv.stdout + rv.stderr
    assert "erving over ASGI with uvicorn" in output, output
    assert "no WebSocket library" not in output
    assert rv.returncode != 0  # the port was taken


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _receive(port: int, expect: str) -> str:
    """Connect until the server answers ``expect`` (it may be starting or
    reloading); 30 s only bound a hang."""
    from websockets.sync.client import connect

    def answer() -> str | None:
        with connect(f"ws://127.0.0.1:{port}/ws", open_timeout=2, close_timeout=2) as ws:
            got = str(ws.recv(2))
        return got if got == expect else None

    return wait_until(answer, hang_bound=30, what=f"{expect!r} over a WebSocket on port {port}",
                      retry_on=(Exception,), poll=0.2)


def test_flask_run_serves_websocket_with_reload_and_debugger(tmp_path: Path) -> None:
    for module in ("uvicorn", "websockets"):
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"{module} not installed (pip install -e '.[dev]')")
    source = tmp_path / "wsrunapp.py"
    source.write_text(APP_SOURCE.format(version="v1"))
    port = _free_port()
    # An interpreter option, which the reloader's children must keep.
    flask_cmd = [sys.executable, "-W", "ignore::FutureWarning", "-m", "flask", "--app", "wsrunapp",
                 "run", "--debug", "--port", str(port)]
    # A file, not a pipe: nothing reads a pipe until the end, and a server
    # that logs more than its buffer holds would block on it.
    log = tmp_path / "out.txt"
    with log.open("w") as sink:
        proc = subprocess.Popen(
            flask_cmd,
            cwd=tmp_path,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            text=True,
        )
    try:
        assert _receive(port, "v1") == "v1"
        import urllib.error
        import urllib.request

        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as rv:
            assert rv.read() == b"http v1"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/warnoptions", timeout=5) as rv:
            assert rv.read() == b"ignore::FutureWarning"
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/boom", timeout=5)
        assert info.value.code == 500
        # Werkzeug's debugger page, not a bare 500.
        assert b"ZeroDivisionError" in info.value.read()

        # The stat reloader looks for a newer mtime: set one rather than
        # wait for the clock to pass the file system's granularity.
        before = source.stat().st_mtime_ns
        source.write_text(APP_SOURCE.format(version="v2"))
        os.utime(source, ns=(before + 2_000_000_000, before + 2_000_000_000))
        assert _receive(port, "v2") == "v2", log.read_text()
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
    out = log.read_text()
    assert "serving over ASGI with uvicorn" in out
    assert "debugger" in out




# -- shutdown ------------------------------------------------------------------------

SHUTDOWN_APP = '''
import os
from flask import Flask, websocket

app = Flask(__name__)


@app.websocket("/ws")
async def ws():
    await websocket.send("up")


@app.after_serving
def write_marker():
    with open(os.environ["MARKER_FILE"], "a") as f:
        f.write("after_serving\\n")
'''


def _wait_for_port(port: int, proc: subprocess.Popen[str]) -> None:
    def listening() -> bool:
        assert proc.poll() is None, "flask run ended before serving"
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True

    wait_until(listening, hang_bound=30, what=f"a server on port {port}", retry_on=(OSError,))


def _serve_then_interrupt(
    tmp_path: Path, flags: tuple[str, ...], interrupt: t.Callable[[subprocess.Popen[str]], None],
    **popen: t.Any,
) -> tuple[int, str, str]:
    for module in ("uvicorn", "websockets"):
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"{module} not installed (pip install -e '.[dev]')")
    (tmp_path / "shutdownapp.py").write_text(SHUTDOWN_APP)
    marker = tmp_path / "marker"
    out = tmp_path / "out.txt"
    port = _free_port()
    cmd = [sys.executable, "-m", "flask", "--app", "shutdownapp", "run", *flags, "--port", str(port)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "MARKER_FILE": str(marker)}
    with out.open("w") as log:
        proc = subprocess.Popen(
            cmd, cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT, text=True, **popen
        )
        try:
            _wait_for_port(port, proc)
            # A connection before the interrupt: the app really served.
            assert _receive(port, "up") == "up"
            interrupt(proc)
            code = proc.wait(timeout=30)  # bounds a hang only
        finally:
            if proc.poll() is None:
                os.killpg(os.getpgid(proc.pid), signal.SIGKILL)
                proc.wait(timeout=10)
    return code, out.read_text(), marker.read_text() if marker.exists() else ""


@pytest.mark.parametrize("flags", [("--debug",), ("--no-reload",)], ids=["debug-reloader", "no-reloader"])
def test_sigint_runs_after_serving_and_logs_shutdown(tmp_path: Path, flags: tuple[str, ...]) -> None:
    """SIGINT to the ``flask run`` process alone (as a process manager
    sends it): with the reloader, the parent passes it to the serving child
    once, which shuts down as it does without the reloader."""
    code, out, marker = _serve_then_interrupt(
        tmp_path, flags, lambda proc: proc.send_signal(signal.SIGINT), start_new_session=True
    )
    assert marker == "after_serving\n", out
    assert "Shutting down" in out and "Application shutdown complete" in out, out
    assert code == 0, out


@pytest.mark.skipif(os.name == "nt", reason="a POSIX terminal")
def test_ctrl_c_in_a_terminal_under_debug_runs_after_serving(tmp_path: Path) -> None:
    """A real Ctrl+C: the terminal sends SIGINT to the foreground process
    group, the reloader's parent and the serving child alike, and the child
    must not get a second one (uvicorn would then skip its shutdown)."""
    import fcntl
    import pty
    import termios

    master, slave = pty.openpty()

    def controlling_terminal() -> None:
        os.setsid()
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    def ctrl_c(proc: subprocess.Popen[str]) -> None:
        os.write(master, b"\x03")  # the terminal's INTR character

    try:
        code, out, marker = _serve_then_interrupt(
            tmp_path, ("--debug",), ctrl_c, stdin=slave, preexec_fn=controlling_terminal
        )
    finally:
        os.close(slave)
        os.close(master)
    assert marker == "after_serving\n", out
    assert "Shutting down" in out and "Application shutdown complete" in out, out
    assert code == 0, out


def test_server_that_cannot_start_waits_for_a_fix_under_the_reloader(tmp_path: Path) -> None:
    """uvicorn exits with 3 when it cannot start, the very status that asks
    the reloader for a restart: the child must wait for a change instead of
    being restarted in a loop, as Werkzeug's reloader waits."""
    for module in ("uvicorn", "websockets"):
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"{module} not installed (pip install -e '.[dev]')")
    broken = SHUTDOWN_APP + "\n\n@app.before_serving\ndef fail():\n    raise RuntimeError('broken start')\n"
    source = tmp_path / "shutdownapp.py"
    source.write_text(broken)
    out = tmp_path / "out.txt"
    port = _free_port()
    cmd = [sys.executable, "-m", "flask", "--app", "shutdownapp", "run", "--debug", "--port", str(port)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "MARKER_FILE": str(tmp_path / "marker")}
    with out.open("w") as log:
        proc = subprocess.Popen(
            cmd, cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT, text=True,
            start_new_session=True,
        )
    try:
        def failed_to_start() -> bool:
            assert proc.poll() is None, out.read_text()
            return "broken start" in out.read_text()

        wait_until(failed_to_start, hang_bound=30, what="the broken start in the log")
        source.write_text(SHUTDOWN_APP)
        # The stat reloader looks for a newer mtime: set one rather than
        # wait for the clock to pass the file system's granularity.
        later = source.stat().st_mtime + 2
        os.utime(source, (later, later))
        assert _receive(port, "up") == "up"
        # One start before the fix and one after it: no restart loop.
        assert out.read_text().count(" * Restarting with") == 2, out.read_text()
        assert "Detected change" in out.read_text()
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
    assert (tmp_path / "marker").read_text() == "after_serving\n"
