"""Request contexts stay isolated under real concurrency.

64 clients on real sockets (127.0.0.1) hit ``tests/concurrency_app.py`` at
once; each route holds every request at a barrier until all 64 are inside
it, then reports what ``request``, ``session`` and ``g`` hold. Each
request must see only its own token: in the view, in a thread started
with ``copy_current_request_context``, and in a body streamed with
``stream_with_context`` after the view returned. Once with Werkzeug's
threaded development server (one thread per request), once with
``gunicorn -k gevent`` (one greenlet per request) in a subprocess.
"""

from __future__ import annotations

import http.client
import importlib.util
import json
import os
import queue
import re
import secrets
import subprocess
import sys
import threading
import typing as t
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from itsdangerous import URLSafeTimedSerializer
from waits import next_item

import flask
from flask.json.tag import TaggedJSONSerializer

HERE = Path(__file__).resolve().parent
PARTIES = 64
ROUTES = ["view", "copy", "stream"]


def serializer() -> URLSafeTimedSerializer:
    # Flask's documented cookie session format, made by ItsDangerous itself.
    import hashlib

    from concurrency_app import SECRET

    return URLSafeTimedSerializer(
        SECRET,
        salt="cookie-session",
        serializer=TaggedJSONSerializer(),
        signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha1},
    )


def fetch(port: int, route: str, token: str, cookie: str) -> tuple[int, dict[str, t.Any], str | None]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request(
            "GET",
            f"/{route}/{token}?t={token}",
            headers={"X-Token": token, "Cookie": f"session={cookie}"},
        )
        response = conn.getresponse()
        body = response.read()
        status = response.status
        set_cookie = response.getheader("Set-Cookie")
    finally:
        conn.close()
    return status, json.loads(body) if status == 200 else {"body": body.decode()}, set_cookie


def check_isolation(port: int) -> None:
    tokens = [f"t{i:02d}-{secrets.token_hex(4)}" for i in range(PARTIES)]
    signer = serializer()
    cookies = {token: signer.dumps({"t": token}) for token in tokens}
    for route in ROUTES:
        with ThreadPoolExecutor(PARTIES) as pool:
            results = list(pool.map(lambda tok: fetch(port, route, tok, cookies[tok]), tokens))
        for token, (status, data, set_cookie) in zip(tokens, results):
            assert status == 200, (route, data)
            own = {"arg": token, "header": token, "view_arg": token, "g": token, "session": token}
            assert data == {"before": own, "after": own}, route
            if route == "view":
                value = set_cookie.split(";")[0].split("=", 1)[1]  # type: ignore[union-attr]
                assert signer.loads(value) == {"t": token, "n": token}


def test_64_threads_of_the_development_server() -> None:
    from werkzeug.serving import make_server

    from concurrency_app import create_app

    server = make_server("127.0.0.1", 0, create_app(), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        check_isolation(server.server_port)
    finally:
        server.shutdown()
        thread.join(10)


def missing(*modules: str) -> list[str]:
    return [name for name in modules if importlib.util.find_spec(name) is None]


@pytest.mark.skipif(
    bool(missing("gevent", "gunicorn")),
    reason=f"needs {' and '.join(missing('gevent', 'gunicorn'))} (pip install -e '.[dev]')",
)
def test_64_greenlets_of_gunicorn_gevent() -> None:
    env = dict(os.environ)
    # The worker imports this very flask, and concurrency_app from here.
    env["PYTHONPATH"] = os.pathsep.join(
        [str(HERE), str(Path(flask.__file__).parent.parent), env.get("PYTHONPATH", "")]
    )
    server = subprocess.Popen(
        [
            sys.executable, "-m", "gunicorn", "-k", "gevent", "-w", "1",
            "--worker-connections", "256", "-b", "127.0.0.1:0",
            "--graceful-timeout", "2", "concurrency_app:app",
        ],
        env=env, stderr=subprocess.PIPE, text=True,
    )
    try:
        port = None
        log: list[str] = []
        assert server.stderr is not None
        # Its log is read on a thread to the end, so that a full pipe never
        # blocks it and a silent hang meets the hang bound, not a readline.
        lines: queue.Queue[str] = queue.Queue()
        stream = server.stderr

        def pump() -> None:
            for text in stream:
                lines.put(text)
            lines.put("")

        threading.Thread(target=pump, daemon=True).start()
        while True:
            line = next_item(lines, hang_bound=60, what="gunicorn's 'Booting worker' line")
            if not line:
                break
            log.append(line)
            found = re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", line)
            if found:
                port = int(found.group(1))
            if port and "Booting worker" in line:
                break
        assert port, "gunicorn did not start:\n" + "".join(log)
        check_isolation(port)
    finally:
        server.terminate()
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


# -- the process's thread pools (flask.concurrency.pool, in_background_thread) ----


@pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork is POSIX only")
# Python 3.12+ warns of any fork with threads; forking after start-up used
# the pool is the case under test.
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_a_forked_child_gets_pools_of_its_own() -> None:
    """A server may fork its workers after the app used the pool (a
    preloaded app's start-up): the child has none of the parent's threads,
    so its hops and background tasks must get threads of its own, and its
    exit must not wait for the parent's work."""
    import asyncio

    from flask import concurrency
    from waits import wait_until

    release = threading.Event()

    async def hop_once(func: t.Callable[[], t.Any]) -> t.Any:
        return await concurrency.run_sync(func)

    # The parent's pool has an idle thread and one that is busy.
    assert asyncio.run(hop_once(lambda: "parent")) == "parent"
    busy = concurrency.in_background_thread(lambda: release.wait(timeout=60))
    pid = os.fork()
    if pid == 0:  # the child: report by exit status only
        code = 1
        try:
            if asyncio.run(hop_once(lambda: "child")) == "child":
                code = 0 if concurrency.in_background_thread(lambda: 7).result(timeout=30) == 7 else 2
        finally:
            concurrency.pool().drain()
            os._exit(code)
    def exited() -> tuple[int] | None:
        done, status = os.waitpid(pid, os.WNOHANG)
        return (status,) if done else None  # a tuple: a status of 0 is an answer

    try:
        (status,) = wait_until(exited, hang_bound=60, what="the forked child's exit")
    except BaseException:
        os.kill(pid, 9)  # a child hung on its parent's threads
        os.waitpid(pid, 0)
        raise
    finally:
        release.set()
    assert busy.result(timeout=30) is True
    assert os.waitstatus_to_exitcode(status) == 0
