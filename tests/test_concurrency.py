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


# -- the thread pool (flask.concurrency.Workers) ------------------------------------
# Compared with what asyncio's own executor hop (loop.run_in_executor on a
# ThreadPoolExecutor) gives for the same function.


def _outcome(awaitable_factory: t.Callable[[], t.Any]) -> tuple[str, t.Any]:
    import asyncio

    async def main() -> tuple[str, t.Any]:
        try:
            return "value", await awaitable_factory()
        except BaseException as e:  # compared below, whatever it is
            return "error", (type(e), str(e))

    return asyncio.run(main())


def _returns() -> str:
    return "done"


def _raises() -> None:
    raise LookupError("missing")


def _interrupts() -> None:
    raise KeyboardInterrupt("stop")


@pytest.mark.parametrize("func", [_returns, _raises, _interrupts])
def test_a_hop_answers_as_the_executor_does(func: t.Callable[[], t.Any]) -> None:
    import asyncio

    from flask.concurrency import Workers

    workers = Workers(2, "test-hop")
    with ThreadPoolExecutor(2) as executor:
        expected = _outcome(lambda: asyncio.get_running_loop().run_in_executor(executor, func))
    assert _outcome(lambda: workers.hop(asyncio.get_running_loop(), func)) == expected


def test_a_hop_raising_stopiteration_fails_instead_of_hanging() -> None:
    import asyncio

    from flask.concurrency import Workers

    workers = Workers(1, "test-hop")
    kind, (error, text) = _outcome(lambda: workers.hop(asyncio.get_running_loop(), iter(()).__next__))
    assert (kind, error) == ("error", RuntimeError) and "StopIteration" in text


def test_a_cancelled_hop_waiting_for_a_thread_never_runs() -> None:
    import asyncio

    from flask.concurrency import Workers

    workers = Workers(1, "test-hop")
    release = threading.Event()
    ran: list[str] = []

    async def main() -> None:
        loop = asyncio.get_running_loop()
        busy = workers.hop(loop, release.wait)  # holds the only thread
        waiting = workers.hop(loop, lambda: ran.append("waiting"))
        waiting.cancel()
        release.set()
        await busy
        # Work after it on the same thread shows the queue moved past it.
        await workers.hop(loop, lambda: ran.append("after"))

    asyncio.run(main())
    assert ran == ["after"]


def test_the_pool_grows_to_its_size_and_no_further() -> None:
    import asyncio

    from flask.concurrency import Workers

    workers = Workers(3, "test-grow")
    inside = threading.Barrier(4)  # three threads and this test
    release = threading.Event()
    names: list[str] = []

    def hold() -> None:
        inside.wait(timeout=30)
        release.wait(timeout=30)

    def note() -> None:
        names.append(threading.current_thread().name)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        held = [workers.hop(loop, hold) for _ in range(3)]
        queued = [workers.hop(loop, note) for _ in range(2)]
        await loop.run_in_executor(None, inside.wait, 30)  # three are running
        assert len(workers.threads) == 3 and not names
        release.set()
        await asyncio.gather(*held, *queued)

    asyncio.run(main())
    assert len(workers.threads) == 3
    assert len(names) == 2 and set(names) <= {f"test-grow-{i}" for i in range(3)}


def test_a_hop_finishing_after_its_loop_closed_leaves_the_thread_working() -> None:
    import asyncio

    from flask.concurrency import Workers

    workers = Workers(1, "test-closed")
    started, release = threading.Event(), threading.Event()

    def slow() -> str:
        started.set()
        release.wait(timeout=30)
        return "late"

    async def leave() -> None:
        workers.hop(asyncio.get_running_loop(), slow)
        await asyncio.get_running_loop().run_in_executor(None, started.wait, 30)

    asyncio.run(leave())  # the loop is closed with the hop still running
    release.set()
    assert _outcome(lambda: workers.hop(asyncio.get_running_loop(), _returns)) == ("value", "done")


def test_drain_waits_for_the_work_in_flight() -> None:
    from flask.concurrency import Workers

    workers = Workers(2, "test-drain")
    release = threading.Event()
    future = workers.submit(lambda: release.wait(timeout=30))
    assert not workers.drain(timeout=0)
    release.set()
    assert workers.drain(timeout=30)
    assert future.result() is True


def test_submitted_work_runs_in_a_fresh_context() -> None:
    import contextvars

    from flask.concurrency import Workers

    var: contextvars.ContextVar[str] = contextvars.ContextVar("var", default="unset")
    var.set("caller")
    workers = Workers(1, "test-context")
    first = workers.submit(lambda: (var.get(), var.set("first"))[0])
    second = workers.submit(var.get)
    assert (first.result(timeout=30), second.result(timeout=30)) == ("unset", "unset")


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
