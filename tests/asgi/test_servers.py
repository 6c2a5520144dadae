"""The example blog served by real ASGI servers: uvicorn, hypercorn and
granian, each on a free loopback port, bounded in time.

Each server gets pages, the JSON API, a session round trip (logging in),
a streamed response, lifespan hooks, and concurrent load mixing sync and
async views that must all answer 200. A server whose package is absent is
skipped (never under CI=true: they are in the ``dev`` extra).
"""

from __future__ import annotations

import http.client
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

import pytest
from waits import wait_until

ROOT = Path(__file__).resolve().parents[2]
BLOG = ROOT / "examples" / "blog"

APP_MODULE = textwrap.dedent(
    """
    import asyncio, os, sys
    sys.path.insert(0, {blog!r})
    from werkzeug.security import generate_password_hash
    import flask
    from blog import create_app
    from blog.extensions import db
    from blog.models import User

    # A throwaway SQLite file, migrated on creation; no environment, so a
    # developer's DATABASE_URL or REDIS_URL is never used.
    app = create_app(
        {{
            "SECRET_KEY": "served",
            "SQLALCHEMY_DATABASE_URI": "sqlite:///" + {db!r},
            "WTF_CSRF_ENABLED": False,
            "MAIL_OUTBOX_DIR": {db!r} + ".outbox",
        }},
        environ={{}},
    )
    with app.app_context():
        db.session.add(
            User(
                username="alice",
                password_hash=generate_password_hash("wonderland", method="pbkdf2:sha256:1000"),
            )
        )
        db.session.commit()

    # A test app's routes on the same app object: streams, sessions, and
    # views of both kinds for the load test.
    @app.route("/_t/stream")
    def sync_stream():
        @flask.stream_with_context
        def gen():
            for i in range(5):
                yield f"{{flask.request.path}} {{i}}\\n"
        return gen()

    @app.route("/_t/astream")
    async def async_stream():
        async def gen():
            for i in range(5):
                await asyncio.sleep(0)  # a turn of the loop, not a delay
                yield f"async {{i}}\\n"
        return gen()

    @app.route("/_t/count")
    async def count():
        flask.session["n"] = flask.session.get("n", 0) + 1
        return {{"n": flask.session["n"]}}

    @app.route("/_t/sync/<int:n>")
    def sync_n(n):
        flask.g.n = n
        return str(flask.g.n)

    @app.route("/_t/async/<int:n>")
    async def async_n(n):
        flask.g.n = n
        await asyncio.sleep(0)  # a turn of the loop, not a delay
        return str(flask.g.n)

    @app.before_serving
    async def started():
        with open({marker!r}, "a") as f:
            f.write("started\\n")

    @app.after_serving
    def stopped():
        with open({marker!r}, "a") as f:
            f.write("stopped\\n")

    asgi = app.asgi_app
    """
)

FAILING_MODULE = textwrap.dedent(
    """
    import flask
    app = flask.Flask(__name__)

    @app.before_serving
    def broken():
        raise ConnectionError("no database")

    asgi = app.asgi_app
    """
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _command(server: str, target: str, port: int) -> list[str]:
    if server == "uvicorn":
        return [sys.executable, "-m", "uvicorn", target, "--port", str(port),
                "--host", "127.0.0.1", "--lifespan", "on", "--log-level", "warning"]
    if server == "hypercorn":
        return [sys.executable, "-m", "hypercorn", target, "--bind", f"127.0.0.1:{port}"]
    return [sys.executable, "-m", "granian", "--interface", "asgi", "--host", "127.0.0.1",
            "--port", str(port), "--no-ws", "--log-level", "warning", target]


def _need(server: str) -> None:
    if importlib.util.find_spec(server) is None:
        pytest.skip(f"{server} is not installed (pip install -e '.[dev]')")


class Server:
    def __init__(self, server: str, target: str, cwd: Path) -> None:
        self.port = _free_port()
        self.log = cwd / f"{server}.log"
        self.proc = subprocess.Popen(
            _command(server, target, self.port),
            cwd=cwd,
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONPATH": os.fspath(cwd)},
        )
        self.cookie: str | None = None

    def wait_ready(self, hang_bound: float = 30) -> None:
        def listening() -> bool:
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited: {self.log.read_text()}")
            socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
            return True

        wait_until(listening, hang_bound=hang_bound, retry_on=(OSError,), poll=0.1,
                   what=f"the server to listen on port {self.port} (its log: {self.log})")

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, http.client.HTTPMessage, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
        headers = dict(headers or {})
        if self.cookie:
            headers["Cookie"] = self.cookie
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
        cookie = response.getheader("Set-Cookie")
        if cookie:
            self.cookie = cookie.split(";", 1)[0]
        conn.close()
        return response.status, response.headers, data

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        return self.proc.returncode


@pytest.fixture(params=["uvicorn", "hypercorn", "granian"])
def server_name(request: pytest.FixtureRequest) -> str:
    _need(request.param)
    return str(request.param)


def test_server_serves_the_example_app(server_name: str, tmp_path: Path) -> None:
    marker = tmp_path / "lifespan.txt"
    (tmp_path / "served_app.py").write_text(
        APP_MODULE.format(blog=os.fspath(BLOG), db=os.fspath(tmp_path / "blog.db"), marker=os.fspath(marker))
    )
    target = "served_app:app.asgi_app" if server_name == "uvicorn" else "served_app:asgi"
    server = Server(server_name, target, tmp_path)
    try:
        server.wait_ready()
        assert marker.read_text() == "started\n"

        # Pages.
        status, headers, body = server.request("GET", "/")
        assert status == 200 and headers["Content-Type"].startswith("text/html")
        assert b"First light" not in body  # nothing posted yet
        status, _, body = server.request("GET", "/auth/login")
        assert status == 200 and b"<form" in body
        status, _, _ = server.request("GET", "/no/such/page")
        assert status == 404

        # The JSON API and the health check.
        status, headers, body = server.request("GET", "/health")
        assert status == 200 and json.loads(body) == {"status": "ok"}
        status, headers, body = server.request("GET", "/api/posts")
        assert status == 200 and headers["Content-Type"] == "application/json"
        assert isinstance(json.loads(body), dict)

        # Session round trip: log in with the form, then the cookie is who
        # we are (the new-post page needs a login).
        status, _, _ = server.request("GET", "/posts/new")
        assert status == 302
        form = urlencode({"username": "alice", "password": "wonderland"}).encode()
        status, headers, _ = server.request(
            "POST", "/auth/login", form, {"Content-Type": "application/x-www-form-urlencoded"}
        )
        assert status == 302 and server.cookie
        status, _, body = server.request("GET", "/posts/new")
        assert status == 200 and b"alice" in body
        for n in (1, 2, 3):
            status, _, body = server.request("GET", "/_t/count")
            assert json.loads(body) == {"n": n}

        # Streamed responses, sync and async; HEAD has no body.
        status, headers, body = server.request("GET", "/_t/stream")
        assert status == 200 and body == b"".join(f"/_t/stream {i}\n".encode() for i in range(5))
        status, _, body = server.request("GET", "/_t/astream")
        assert body == b"".join(f"async {i}\n".encode() for i in range(5))
        status, headers, body = server.request("HEAD", "/health")
        assert status == 200 and body == b""

        # Load: 400 requests on 16 connections, sync and async views mixed.
        def one(n: int) -> tuple[int, bytes]:
            kind = "async" if n % 2 else "sync"
            status, _, body = server.request("GET", f"/_t/{kind}/{n}")
            return status, body

        with ThreadPoolExecutor(16) as pool:
            results = list(pool.map(one, range(400)))
        assert results == [(200, str(n).encode()) for n in range(400)]
    finally:
        server.stop()
    assert marker.read_text() == "started\nstopped\n", server.log.read_text()


@pytest.mark.parametrize("server_name", ["uvicorn", "hypercorn", "granian"])
def test_failed_startup_stops_the_server(server_name: str, tmp_path: Path) -> None:
    _need(server_name)
    (tmp_path / "failing_app.py").write_text(FAILING_MODULE)
    server = Server(server_name, "failing_app:asgi", tmp_path)
    try:
        code = server.proc.wait(30)
    finally:
        server.stop()
    # The server stops instead of serving; hypercorn exits with status 0.
    assert code is not None
    assert code != 0 or server_name == "hypercorn"
    assert "no database" in server.log.read_text()
