"""WebSocket routes on real ASGI servers, with a real client.

Each of uvicorn, hypercorn and granian serves ``tests/wsapps/ws_server_app.py``
on a free loopback port; the ``websockets`` package (an independent
implementation of RFC 6455) connects to it. Every wait is bounded.
"""

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
from waits import wait_until

APPS = Path(__file__).parent / "wsapps"
SERVERS = ("uvicorn", "hypercorn", "granian")
START_TIMEOUT = 20.0
TIMEOUT = 5.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _command(server: str, port: int) -> list[str]:
    target = "ws_server_app:asgi"
    if server == "uvicorn":
        return [sys.executable, "-m", "uvicorn", target, "--port", str(port), "--log-level", "warning"]
    if server == "hypercorn":
        return [sys.executable, "-m", "hypercorn", target, "--bind", f"127.0.0.1:{port}"]
    return [
        sys.executable, "-m", "granian", "--interface", "asgi", "--host", "127.0.0.1",
        "--port", str(port), "--log-level", "warning", target,
    ]  # fmt: skip


@pytest.fixture(scope="module")
def track_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("ws") / "track.log"


@pytest.fixture(scope="module", params=SERVERS)
def server(request: pytest.FixtureRequest, track_file: Path) -> t.Iterator[tuple[str, int]]:
    name = request.param
    missing = [m for m in (name, "websockets") if importlib.util.find_spec(m) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed (pip install -e '.[dev]')")
    port = _free_port()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(APPS), os.environ.get("PYTHONPATH", "")]),
        "WS_TRACK_FILE": str(track_file),
    }
    proc = subprocess.Popen(
        _command(name, port),
        cwd=APPS,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        def listening() -> bool:
            if proc.poll() is not None:
                pytest.fail(f"{name} exited: {proc.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return True

        wait_until(listening, hang_bound=START_TIMEOUT, what=f"{name} to listen on port {port}",
                   retry_on=(OSError,))
        yield name, port
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


def _connect(port: int, path: str, **kwargs: t.Any) -> t.Any:
    from websockets.sync.client import connect

    return connect(f"ws://127.0.0.1:{port}{path}", open_timeout=TIMEOUT, close_timeout=TIMEOUT, **kwargs)


def _session_cookie() -> str:
    sys.path.insert(0, str(APPS))
    try:
        from ws_server_app import app
    finally:
        sys.path.remove(str(APPS))
    client = app.test_client()
    client.post("/login")
    cookie = client.get_cookie("session")
    assert cookie is not None
    return f"session={cookie.value}"


def test_echo_text_bytes_subprotocol_and_session(server: tuple[str, int]) -> None:
    _, port = server
    with _connect(
        port, "/echo/2", subprotocols=["chat.v1"], additional_headers={"Cookie": _session_cookie()}
    ) as ws:
        assert ws.subprotocol == "chat.v1"
        assert ws.recv(TIMEOUT) == "user=ann"
        ws.send("hi")
        assert [ws.recv(TIMEOUT), ws.recv(TIMEOUT)] == ["hi", "hi"]
        ws.send(b"\x00\xff")
        assert ws.recv(TIMEOUT) == b"\x00\xff"


def test_json_and_sync_handler(server: tuple[str, int]) -> None:
    _, port = server
    with _connect(port, "/json") as ws:
        ws.send('{"a": [1, 2]}')
        assert ws.recv(TIMEOUT) == '{"echo": {"a": [1, 2]}}'
    with _connect(port, "/sync") as ws:
        for message in ("one", b"two", "three" * 50):
            ws.send(message)
            assert ws.recv(TIMEOUT) == message


def test_refusal_is_403(server: tuple[str, int]) -> None:
    from websockets.exceptions import InvalidStatus

    name, port = server
    with pytest.raises(InvalidStatus) as info:
        _connect(port, "/deny")
    response = info.value.response
    assert response.status_code == 403
    if name in ("uvicorn", "hypercorn"):
        # Both implement ASGI's denial response: the app's own answer.
        assert response.headers.get("X-Refused") == "yes"
        assert response.body == b"refused by the app"


def test_origin_check(server: tuple[str, int]) -> None:
    from websockets.exceptions import InvalidStatus

    _, port = server
    with pytest.raises(InvalidStatus) as info:
        _connect(port, "/echo/1", origin="http://evil.test")  # type: ignore[arg-type]
    assert info.value.response.status_code == 403
    with _connect(port, "/echo/1", origin=f"http://127.0.0.1:{port}") as ws:  # type: ignore[arg-type]
        assert ws.recv(TIMEOUT) == "user=None"


def test_error_after_accept_closes_1011(server: tuple[str, int]) -> None:
    from websockets.exceptions import ConnectionClosedError

    _, port = server
    with _connect(port, "/fail") as ws:
        assert ws.recv(TIMEOUT) == "about to fail"
        with pytest.raises(ConnectionClosedError) as info:
            ws.recv(TIMEOUT)
    assert info.value.rcvd is not None and info.value.rcvd.code == 1011


def test_message_too_big_closes_1009(server: tuple[str, int]) -> None:
    from websockets.exceptions import ConnectionClosedError

    _, port = server
    with _connect(port, "/echo/1") as ws:
        ws.recv(TIMEOUT)
        ws.send("x" * 1001)
        with pytest.raises(ConnectionClosedError) as info:
            ws.recv(TIMEOUT)
    assert info.value.rcvd is not None and info.value.rcvd.code == 1009


def test_unknown_path_and_http_route_refused(server: tuple[str, int]) -> None:
    from websockets.exceptions import InvalidStatus

    _, port = server
    for path in ("/nope", "/page"):
        with pytest.raises(InvalidStatus) as info:
            _connect(port, path)
        assert 400 <= info.value.response.status_code < 500


def test_disconnect_reaches_handler_and_teardown_runs(server: tuple[str, int], track_file: Path) -> None:
    name, port = server
    track_file.write_text("")
    with _connect(port, "/track") as ws:
        ws.send("x")
        ws.close(4000, "bye")
    def both_lines() -> list[str] | None:
        found = track_file.read_text().splitlines()
        return found if len(found) >= 2 else None

    lines = wait_until(both_lines, hang_bound=TIMEOUT, what="the handler's disconnect and teardown lines")
    # Hypercorn passes on 1000 or 1006 from its stream state rather than
    # the client's code (hypercorn/protocol/ws_stream.py, StreamClosed).
    codes = ("1000", "1006") if name == "hypercorn" else ("4000",)
    assert lines in [["disconnect " + code, "teardown /track None"] for code in codes]


def test_a_handler_that_only_sends_stops_when_the_client_leaves(
    server: tuple[str, int], track_file: Path
) -> None:
    # Under granian a send after the client left used to vanish: the handler
    # ticked on until the process ended and its teardown never ran.
    track_file.write_text("")
    with _connect(server[1], "/ticker") as ws:
        assert [ws.recv(TIMEOUT), ws.recv(TIMEOUT)] == ["tick", "tick"]

    def both_lines() -> list[str] | None:
        found = track_file.read_text().splitlines()
        return found if len(found) >= 2 else None

    lines = wait_until(both_lines, hang_bound=TIMEOUT, what="the ticker's disconnect and teardown lines")
    assert lines == ["ticker disconnect", "teardown /ticker None"]


def test_a_subprotocol_not_offered_is_a_clean_refusal(server: tuple[str, int]) -> None:
    # Hypercorn raised a bare Exception for it, uvicorn sent it and the
    # client dropped the connection: now the app refuses the handshake.
    from websockets.exceptions import InvalidStatus

    with pytest.raises(InvalidStatus) as info:
        _connect(server[1], "/unoffered", subprotocols=["chat.v1"])  # type: ignore[list-item]
    assert info.value.response.status_code in (403, 500)
