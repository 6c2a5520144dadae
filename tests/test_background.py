"""``app.add_background_task``: work after the response (docs/streaming.md, "Work after the response").

Order is observed with events over real servers (Werkzeug's threaded
server, uvicorn); no test depends on how fast anything runs, and every
timeout only bounds a hang.
"""

from __future__ import annotations

import asyncio
import gc
import importlib.util
import logging
import socket
import subprocess
import sys
import textwrap
import threading
import typing as t
import warnings

import pytest

import flask
from waits import wait_until

BOUND = 10.0


def _get(port: int, path: str = "/") -> bytes:
    """A GET over a fresh connection: the whole body (Content-Length framed)."""
    with socket.create_connection(("127.0.0.1", port), timeout=BOUND) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            length = [int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")]
            if length and len(body) >= length[0]:
                return body
    return data.partition(b"\r\n\r\n")[2]


def _ordering_app() -> tuple[flask.Flask, dict[str, t.Any]]:
    app = flask.Flask(__name__)
    seen: dict[str, t.Any] = {"body_received": threading.Event(), "ran": threading.Event()}

    def task() -> None:
        # Had the task run before the body was sent, the client could not
        # have received it, and this wait would end at the hang bound.
        seen["after_body"] = seen["body_received"].wait(BOUND)
        seen["ran"].set()

    @app.get("/")
    def index() -> str:
        app.add_background_task(task)
        return "the body"

    return app, seen


def _check_order(port: int, seen: dict[str, t.Any]) -> None:
    assert _get(port) == b"the body"
    assert not seen["ran"].is_set()
    seen["body_received"].set()
    assert seen["ran"].wait(BOUND)
    assert seen["after_body"] is True


def test_task_runs_after_the_body_on_werkzeug_threaded_server() -> None:
    from werkzeug.serving import make_server

    app, seen = _ordering_app()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        _check_order(server.port, seen)
    finally:
        server.shutdown()
        thread.join(BOUND)


@pytest.mark.skipif(importlib.util.find_spec("uvicorn") is None, reason="uvicorn not installed")
def test_task_runs_after_the_body_on_uvicorn() -> None:
    import uvicorn

    app, seen = _ordering_app()
    server = uvicorn.Server(uvicorn.Config(app.asgi_app, lifespan="off", log_level="warning"))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        wait_until(lambda: server.started, hang_bound=BOUND, what="uvicorn to start")
        _check_order(sock.getsockname()[1], seen)
    finally:
        server.should_exit = True
        thread.join(BOUND)
        sock.close()


@pytest.fixture(params=[False, True], ids=["wsgi", "asgi"])
def asgi(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


def test_app_context_and_g_copy_available(asgi: bool) -> None:
    app = flask.Flask(__name__)
    seen: dict[str, t.Any] = {}
    torn_down: list[t.Any] = []
    app.teardown_appcontext(lambda exc: torn_down.append(flask.g.get("user")))

    def task(x: int) -> None:
        seen["app"] = flask.current_app._get_current_object()  # type: ignore[attr-defined]
        seen["user"] = flask.g.user
        seen["x"] = x
        seen["request"] = flask.has_request_context()
        flask.g.user = "changed in the task"

    @app.get("/")
    def index() -> str:
        flask.g.user = "ada"
        app.add_background_task(task, x=3)
        return "ok"

    assert app.test_client(asgi=asgi).get("/").data == b"ok"
    assert seen == {"app": app, "user": "ada", "x": 3, "request": False}
    # The request's teardown, then the task's own (its g is a copy).
    assert torn_down == ["ada", "changed in the task"]


@pytest.mark.parametrize("with_teardown", [False, True], ids=["quiet-pop", "pop-in-pool"])
def test_async_on_the_loop_sync_in_the_pool_over_asgi(with_teardown: bool) -> None:
    app = flask.Flask(__name__)
    threads: dict[str, threading.Thread] = {}
    popped: list[str] = []
    if with_teardown:
        app.teardown_appcontext(lambda exc: popped.append(flask.current_app.name))

    async def async_task() -> None:
        threads["async"] = threading.current_thread()

    def sync_task() -> None:
        threads["sync"] = threading.current_thread()

    @app.get("/")
    async def index() -> str:
        threads["loop"] = threading.current_thread()  # an async view runs on the loop
        app.add_background_task(async_task)
        app.add_background_task(sync_task)
        return "ok"

    app.test_client(asgi=True).get("/")
    assert threads["async"] is threads["loop"]
    assert threads["sync"] is not threads["loop"]
    assert threads["sync"].name.startswith("flask-asgi")
    # The request's own app context, then each task's.
    assert popped == ([app.name] * 3 if with_teardown else [])


def test_under_wsgi_tasks_run_in_background_threads() -> None:
    app = flask.Flask(__name__)
    threads: dict[str, threading.Thread] = {}

    async def async_task() -> None:
        threads["async"] = threading.current_thread()

    def sync_task() -> None:
        threads["sync"] = threading.current_thread()

    @app.get("/")
    def index() -> str:
        threads["view"] = threading.current_thread()
        app.add_background_task(async_task)
        app.add_background_task(sync_task)
        return "ok"

    app.test_client(asgi=False).get("/")
    assert threads["sync"] is not threads["view"]
    assert threads["sync"].name.startswith("flask-background")
    assert threads["async"] is not threads["view"]


def test_exception_is_logged(asgi: bool, caplog: pytest.LogCaptureFixture) -> None:
    app = flask.Flask(__name__)

    def broken() -> None:
        raise ValueError("task failed")

    @app.get("/")
    def index() -> str:
        app.add_background_task(broken)
        return "ok"

    with caplog.at_level(logging.ERROR, logger=app.logger.name):
        assert app.test_client(asgi=asgi).get("/").data == b"ok"
    records = [r for r in caplog.records if r.name == app.logger.name]
    assert len(records) == 1
    assert "broken failed" in records[0].getMessage()
    assert records[0].exc_info is not None
    assert isinstance(records[0].exc_info[1], ValueError)


def test_test_client_raises_a_task_error_when_testing(asgi: bool) -> None:
    app = flask.Flask(__name__)
    app.testing = True

    def broken() -> None:
        raise ValueError("task failed")

    @app.get("/")
    def index() -> str:
        app.add_background_task(broken)
        return "ok"

    with pytest.raises(ValueError, match="task failed"):
        app.test_client(asgi=asgi).get("/")


def test_test_client_waits_for_tasks(asgi: bool) -> None:
    app = flask.Flask(__name__)
    done: list[str] = []

    def slow_one() -> None:
        done.append("sync")

    async def async_one() -> None:
        await asyncio.sleep(0)
        done.append("async")

    @app.get("/")
    def index() -> str:
        app.add_background_task(slow_one)
        app.add_background_task(async_one)
        return "ok"

    app.test_client(asgi=asgi).get("/")
    assert sorted(done) == ["async", "sync"]


def test_streamed_response_starts_tasks_after_its_end() -> None:
    app = flask.Flask(__name__)
    events: list[str] = []

    @app.get("/")
    def index() -> flask.Response:
        app.add_background_task(lambda: events.append("task"))

        def body() -> t.Iterator[str]:
            yield "a"
            events.append("last chunk")
            yield "b"

        return flask.Response(body())

    from werkzeug.test import Client

    response = Client(app).get("/")
    assert response.get_data() == b"ab"
    assert events == ["last chunk"]
    response.close()
    app.wait_for_background_tasks(BOUND)
    assert events == ["last chunk", "task"]


def test_wsgi_shutdown_wait_logs_unfinished_by_name(caplog: pytest.LogCaptureFixture) -> None:
    from werkzeug.test import Client

    app = flask.Flask(__name__)
    release = threading.Event()
    started = threading.Event()

    def blocked_task() -> None:
        started.set()
        release.wait(BOUND)

    @app.get("/")
    def index() -> str:
        app.add_background_task(blocked_task)
        return "ok"

    # Werkzeug's own client: closing the body starts the task, nothing waits.
    Client(app).get("/").close()
    assert started.wait(BOUND)
    try:
        with caplog.at_level(logging.ERROR, logger=app.logger.name):
            unfinished = app.wait_for_background_tasks(timeout=0.01)
        assert unfinished == [f"{__name__}.test_wsgi_shutdown_wait_logs_unfinished_by_name.<locals>.blocked_task"]
        assert any(
            "blocked_task still unfinished at shutdown" in r.getMessage() for r in caplog.records
        )
    finally:
        release.set()
    assert app.wait_for_background_tasks(timeout=BOUND) == []


def test_interpreter_exit_waits_then_logs_unfinished(tmp_path: t.Any) -> None:
    script = tmp_path / "app.py"
    script.write_text(
        textwrap.dedent(
            """
            import threading
            import flask
            from werkzeug.test import Client

            app = flask.Flask("exiting")
            app.config["BACKGROUND_TASK_SHUTDOWN_TIMEOUT"] = 0.01
            never = threading.Event()
            finished = threading.Event()

            def finishes():
                finished.set()

            def never_ends():
                never.wait()

            @app.get("/")
            def index():
                app.add_background_task(finishes)
                app.add_background_task(never_ends)
                return "ok"

            Client(app).get("/").close()
            finished.wait(10)
            print("exiting")
            """
        )
    )
    result = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "exiting"
    assert "Background task __main__.never_ends still unfinished at shutdown" in result.stderr
    assert "finishes" not in result.stderr


async def _lifespan_and_request_on_this_loop(app: flask.Flask) -> list[dict[str, t.Any]]:
    """Lifespan startup, one GET /, then lifespan shutdown, on the running
    loop; the lifespan's messages."""
    messages: asyncio.Queue[dict[str, t.Any]] = asyncio.Queue()
    sent: list[dict[str, t.Any]] = []

    async def send(message: dict[str, t.Any]) -> None:
        sent.append(message)

    lifespan = asyncio.ensure_future(app.asgi_app({"type": "lifespan"}, messages.get, send))
    await messages.put({"type": "lifespan.startup"})
    body_sent: list[dict[str, t.Any]] = []

    async def receive() -> dict[str, t.Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def http_send(message: dict[str, t.Any]) -> None:
        body_sent.append(message)

    scope = {"type": "http", "method": "GET", "path": "/", "headers": [], "http_version": "1.1"}
    await app.asgi_app(scope, receive, http_send)
    assert body_sent[-1]["body"] == b"ok"
    await messages.put({"type": "lifespan.shutdown"})
    await asyncio.wait_for(lifespan, BOUND)
    return sent


def _lifespan_and_request(app: flask.Flask) -> list[dict[str, t.Any]]:
    """Lifespan startup, one GET /, then lifespan shutdown, on one loop."""
    return asyncio.run(_lifespan_and_request_on_this_loop(app))


def test_lifespan_shutdown_waits_for_tasks() -> None:
    app = flask.Flask(__name__)
    finished: list[str] = []
    release = asyncio.Event()

    async def waits_for_shutdown() -> None:
        await release.wait()
        finished.append("task")

    @app.after_serving
    async def shutting_down() -> None:
        # Released only once shutdown began: the wait must cover it.
        release.set()

    @app.get("/")
    def index() -> str:
        app.add_background_task(waits_for_shutdown)
        return "ok"

    sent = _lifespan_and_request(app)
    assert finished == ["task"]
    assert sent[-1] == {"type": "lifespan.shutdown.complete"}


def test_lifespan_shutdown_logs_unfinished_by_name(caplog: pytest.LogCaptureFixture) -> None:
    app = flask.Flask(__name__)
    app.config["BACKGROUND_TASK_SHUTDOWN_TIMEOUT"] = 0.01
    cancelled: list[bool] = []

    async def never_ends() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    @app.get("/")
    def index() -> str:
        app.add_background_task(never_ends)
        return "ok"

    with caplog.at_level(logging.ERROR, logger=app.logger.name):
        sent = _lifespan_and_request(app)
    assert sent[-1] == {"type": "lifespan.shutdown.complete"}
    assert [r.getMessage() for r in caplog.records if r.name == app.logger.name] == [
        f"Background task {__name__}.test_lifespan_shutdown_logs_unfinished_by_name.<locals>.never_ends"
        " still unfinished at shutdown"
    ]


def test_outside_a_request_the_task_starts_at_once() -> None:
    app = flask.Flask(__name__)
    ran = threading.Event()
    names: list[str] = []

    def task() -> None:
        names.append(flask.current_app.name)
        ran.set()

    with app.app_context():
        app.add_background_task(task)
    assert ran.wait(BOUND)
    assert names == [app.name]


def test_a_request_without_tasks_returns_the_plain_body() -> None:
    from werkzeug.test import run_wsgi_app

    app = flask.Flask(__name__)
    app.get("/")(lambda: "hello")
    body, status, _ = run_wsgi_app(app, {"REQUEST_METHOD": "GET", "PATH_INFO": "/", "SERVER_NAME": "x", "SERVER_PORT": "80", "wsgi.url_scheme": "http"})
    assert list(body) == [b"hello"] and status == "200 OK"


def test_tasks_of_a_request_whose_response_failed_still_run() -> None:
    app = flask.Flask(__name__)
    ran = threading.Event()

    @app.get("/")
    def index() -> str:
        app.add_background_task(ran.set)
        return "ok"

    def start_response(status: str, headers: t.Any) -> None:
        raise OSError("the server could not start the response")

    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/", "SERVER_NAME": "x", "SERVER_PORT": "80", "wsgi.url_scheme": "http"}
    with pytest.raises(OSError):
        app(environ, start_response)
    assert app.wait_for_background_tasks(BOUND) == []
    assert ran.is_set()


def test_a_failed_task_is_logged_once_and_never_reported_by_asyncio(caplog: pytest.LogCaptureFixture) -> None:
    # Served as a server would (no test client waiting on the tasks; the
    # lifespan shutdown waits for them): the error reaches app.logger, and
    # asyncio's handler, which a task whose exception nobody retrieved
    # reaches when it is collected, never.
    app = flask.Flask(__name__)

    async def broken_async() -> None:
        raise ValueError("async task failed")

    def broken_sync() -> None:
        raise ValueError("sync task failed")

    @app.get("/")
    def index() -> str:
        app.add_background_task(broken_async)
        app.add_background_task(broken_sync)
        return "ok"

    reported: list[dict[str, t.Any]] = []

    async def main() -> list[dict[str, t.Any]]:
        asyncio.get_running_loop().set_exception_handler(lambda loop, context: reported.append(context))
        return await _lifespan_and_request_on_this_loop(app)

    with caplog.at_level(logging.ERROR, logger=app.logger.name):
        sent = asyncio.run(main())
        gc.collect()
    assert sent[-1] == {"type": "lifespan.shutdown.complete"}
    messages = sorted(r.getMessage() for r in caplog.records if r.name == app.logger.name)
    assert messages == [
        f"Background task {__name__}.{name} failed"
        for name in (
            "test_a_failed_task_is_logged_once_and_never_reported_by_asyncio.<locals>.broken_async",
            "test_a_failed_task_is_logged_once_and_never_reported_by_asyncio.<locals>.broken_sync",
        )
    ]
    assert reported == []


@pytest.mark.parametrize("teardown", ["sync", "async"])
def test_a_task_cancelled_at_shutdown_is_still_torn_down(teardown: str) -> None:
    # A sync teardown_appcontext puts the task's pop in the pool, an async
    # one keeps it on the loop: either way it runs for the cancelled task.
    app = flask.Flask(__name__)
    app.config["BACKGROUND_TASK_SHUTDOWN_TIMEOUT"] = 0.01
    torn_down: list[bool] = []

    async def never_ends() -> None:
        flask.g.task = True
        await asyncio.Event().wait()

    def down(exc: BaseException | None) -> None:
        torn_down.append(flask.g.get("task", False))

    async def down_async(exc: BaseException | None) -> None:
        down(exc)

    app.teardown_appcontext(down if teardown == "sync" else down_async)

    @app.get("/")
    def index() -> str:
        app.add_background_task(never_ends)
        return "ok"

    sent = _lifespan_and_request(app)
    # The async teardown at lifespan startup is awaited too (it once failed
    # the startup: a sync pop on the loop cannot await it).
    assert sent[-1] == {"type": "lifespan.shutdown.complete"}
    # Lifespan startup's app context, the request's and shutdown's, then
    # the cancelled task's.
    assert torn_down == [False, False, False, True]


def _serve_once(
    app: flask.Flask, path: str = "/"
) -> tuple[t.Coroutine[t.Any, t.Any, None], list[dict[str, t.Any]]]:
    """One request through app.asgi_app as a server sends it (no test
    client extension): the call to await, and the list of what it sent."""

    async def receive() -> dict[str, t.Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    sent: list[dict[str, t.Any]] = []

    async def send(message: dict[str, t.Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": path, "headers": [], "http_version": "1.1"}
    return app.asgi_app(scope, receive, send), sent


def test_a_task_that_never_waits_ends_with_its_request_on_python_3_12() -> None:
    """On Python 3.12+ a task starts at once (asyncio's ``eager_start``):
    one that never waits has run by the time the app returns, without a
    turn of the loop; before 3.12 it runs at the loop's next turn."""
    app = flask.Flask(__name__)
    ran: list[str] = []

    async def note() -> None:
        ran.append(flask.current_app.name)

    @app.get("/")
    async def index() -> str:
        app.add_background_task(note)
        return "ok"

    async def main() -> tuple[list[str], list[str]]:
        serving, sent = _serve_once(app)
        await serving  # receive and send never wait: no turn of the loop
        assert sent[-1]["body"] == b"ok"
        at_return = list(ran)
        await asyncio.sleep(0)
        return at_return, list(ran)

    at_return, after_a_turn = asyncio.run(main())
    assert at_return == ([app.name] if sys.version_info >= (3, 12) else [])
    assert after_a_turn == [app.name]


def test_a_coroutine_task_waits_in_its_own_task(caplog: pytest.LogCaptureFixture) -> None:
    """A coroutine function's task is an asyncio task of its own from its
    first line (a timeout opened there cancels it, not the request's
    task): it sees what it waited for, keeps its app context and copied
    ``g``, and an error after the wait is logged with the task's name."""
    app = flask.Flask(__name__)
    seen: list[t.Any] = []

    async def waits(fut: asyncio.Future[str], serving: list[t.Any]) -> None:
        seen.append(asyncio.current_task() is not serving[0])
        seen.append(flask.current_app.name)
        seen.append(await fut)
        seen.append(flask.g.get("mark"))
        raise ValueError("after the wait")

    async def main() -> None:
        fut = asyncio.get_running_loop().create_future()
        serving_task: list[t.Any] = []

        @app.get("/")
        async def index() -> str:
            serving_task.append(asyncio.current_task())
            flask.g.mark = "copied"
            app.add_background_task(waits, fut, serving_task)
            return "ok"

        serving, sent = _serve_once(app)
        await serving
        await asyncio.sleep(0)
        assert seen == [True, app.name]  # up to its wait
        fut.set_result("woken")
        for _ in range(5):
            await asyncio.sleep(0)

    with caplog.at_level(logging.ERROR, logger=app.logger.name):
        asyncio.run(main())
    assert seen == [True, app.name, "woken", "copied"]
    failed = [r for r in caplog.records if "waits failed" in r.getMessage()]
    assert len(failed) == 1 and failed[0].exc_info is not None
    assert isinstance(failed[0].exc_info[1], ValueError)


def test_only_running_tasks_are_kept_for_the_shutdown_wait() -> None:
    from flask.background import pending

    app = flask.Flask(__name__)
    release = asyncio.Event()

    async def quick() -> None:
        pass

    async def waits() -> None:
        await release.wait()

    @app.get("/<kind>")
    async def index(kind: str) -> str:
        app.add_background_task(quick if kind == "quick" else waits)
        return "ok"

    async def main() -> tuple[int, list[str], int]:
        for _ in range(20):
            await _serve_once(app, "/quick")[0]
        await _serve_once(app, "/waits")[0]
        for _ in range(3):
            await asyncio.sleep(0)
        kept = [task.name for task in pending(app).tasks]
        release.set()
        for _ in range(3):
            await asyncio.sleep(0)
        return len(kept), kept, len(pending(app).tasks)

    count, kept, after = asyncio.run(main())
    assert (count, after) == (1, 0)
    assert kept[0].endswith("waits")


def _app_adding_a_task_at_index() -> tuple[flask.Flask, list[bool]]:
    """An app whose async view at / adds a background task; the list gets
    True each time the task runs."""
    app = flask.Flask(__name__)
    ran: list[bool] = []

    async def note() -> None:
        ran.append(True)

    @app.get("/")
    async def index() -> str:
        app.add_background_task(note)
        return "ok"

    return app, ran


def test_a_loop_with_its_own_task_factory_makes_the_tasks() -> None:
    """Tools that watch tasks install a task factory: a background task
    comes from it, on every Python version (not started eagerly then)."""
    app, ran = _app_adding_a_task_at_index()
    made: list[str] = []

    def factory(loop: asyncio.AbstractEventLoop, coro: t.Any, **kwargs: t.Any) -> asyncio.Task[t.Any]:
        made.append(getattr(coro, "__qualname__", ""))
        return asyncio.Task(coro, loop=loop, **kwargs)

    async def main() -> None:
        asyncio.get_running_loop().set_task_factory(factory)
        serving, sent = _serve_once(app)
        await serving
        await asyncio.sleep(0)

    asyncio.run(main())
    assert made[0] == "_run_on_loop" and ran == [True]


@pytest.mark.parametrize("handler", ["async", "sync"])
def test_a_websocket_connection_starts_its_tasks_at_once_on_its_loop(handler: str) -> None:
    """A connection has no response to wait for: a task added in a
    WebSocket handler starts while the connection is open (it used to be
    kept for a response that never came, and never ran), on the loop that
    serves the connection even from a sync handler in the pool, in an app
    context with the handler's ``g`` copied."""
    app = flask.Flask(__name__)
    ran = threading.Event()
    seen: dict[str, t.Any] = {}

    async def job(word: str) -> None:
        seen["loop"] = asyncio.get_running_loop()
        seen["app"] = flask.current_app.name
        seen["g"] = flask.g.get("mark")
        seen["word"] = word
        ran.set()

    @app.before_websocket
    async def note_loop() -> None:
        seen["serving"] = asyncio.get_running_loop()
        flask.g.mark = "copied"

    if handler == "async":

        @app.websocket("/ws")
        async def ws() -> None:
            app.add_background_task(job, "hi")
            await flask.websocket.send("added")
            await flask.websocket.receive()

    else:

        @app.websocket("/ws")
        def ws() -> None:
            app.add_background_task(job, "hi")
            flask.websocket.send("added")
            flask.websocket.receive()

    with app.test_client().websocket("/ws") as c:
        assert c.receive() == "added"
        # The handler now waits for a message: the connection is open.
        assert ran.wait(BOUND)
        c.send("bye")
    assert seen["loop"] is seen["serving"]
    assert (seen["app"], seen["g"], seen["word"]) == (app.name, "copied", "hi")


def test_a_websocket_test_session_waits_for_its_tasks_and_raises_their_error() -> None:
    app = flask.Flask(__name__)
    app.testing = True
    release = asyncio.Event()
    done: list[str] = []

    async def job() -> None:
        await release.wait()
        done.append("job")
        raise ValueError("task failed")

    @app.websocket("/ws")
    async def ws() -> None:
        await flask.websocket.accept()
        app.add_background_task(job)
        release.set()  # the session waits for the rest

    with pytest.raises(ValueError, match="task failed"):
        with app.test_client().websocket("/ws"):
            pass
    assert done == ["job"]


def test_a_task_whose_call_is_async_is_awaited(asgi: bool) -> None:
    """An object whose ``__call__`` is a coroutine function (which
    ``inspect`` does not call one) is run to its end, from an async or a
    sync view, under WSGI and over ASGI: its coroutine used to be dropped
    with a "never awaited" warning."""
    app = flask.Flask(__name__)
    ran: list[tuple[str, int]] = []

    class Job:
        async def __call__(self, n: int) -> None:
            await asyncio.sleep(0)
            ran.append((flask.current_app.name, n))

    @app.get("/async")
    async def from_async() -> str:
        app.add_background_task(Job(), 1)
        return "ok"

    @app.get("/sync")
    def from_sync() -> str:
        app.add_background_task(Job(), 2)
        return "ok"

    client = app.test_client(asgi=asgi)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        assert client.get("/async").text == "ok"
        assert client.get("/sync").text == "ok"
    assert ran == [(app.name, 1), (app.name, 2)]


def test_a_task_cancelled_as_its_loop_ends_is_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    """Without a lifespan shutdown (a server that has none, ``asyncio.run``
    returning) the loop cancels a task that is still running: that is
    logged by name, where it used to vanish without a word. The shutdown
    wait, which logs the tasks it stops itself, is not logged twice (see
    ``test_lifespan_shutdown_logs_unfinished_by_name``)."""
    app = flask.Flask(__name__)
    started = asyncio.Event()

    async def never_ends() -> None:
        started.set()
        await asyncio.Event().wait()

    @app.get("/")
    async def index() -> str:
        app.add_background_task(never_ends)
        return "ok"

    async def main() -> None:
        serving, sent = _serve_once(app)
        await serving
        await started.wait()
        assert sent[-1]["body"] == b"ok"
        # Returning here: asyncio.run cancels the task that still runs.

    with caplog.at_level(logging.ERROR, logger=app.logger.name):
        asyncio.run(main())
    assert [r.getMessage() for r in caplog.records if r.name == app.logger.name] == [
        f"Background task {__name__}.test_a_task_cancelled_as_its_loop_ends_is_logged_once"
        ".<locals>.never_ends cancelled before it finished"
    ]


def test_a_loop_that_overrides_create_task_sees_the_tasks_before_python_3_12() -> None:
    """A loop subclass may override ``create_task`` to track its tasks (no
    factory installed): a background task goes through it. On 3.12+ a loop
    without a factory gets an eagerly started ``asyncio.Task`` instead,
    which ``create_task`` cannot make."""
    app, ran = _app_adding_a_task_at_index()
    made: list[str] = []

    class Tracking(asyncio.SelectorEventLoop):
        def create_task(self, coro: t.Any, **kwargs: t.Any) -> asyncio.Task[t.Any]:
            made.append(getattr(coro, "__qualname__", ""))
            return super().create_task(coro, **kwargs)

    async def main() -> None:
        serving, sent = _serve_once(app)
        await serving
        await asyncio.sleep(0)

    loop = Tracking()
    try:
        loop.run_until_complete(main())
    finally:
        loop.close()
    assert ran == [True]
    assert ("_run_on_loop" in made) is (sys.version_info < (3, 12))
