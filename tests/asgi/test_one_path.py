"""One request path, two drivers (flask.pipeline's steps, flask.concurrency's
drivers): over ASGI each contiguous run of sync steps costs one pool hop,
coroutine functions are awaited on the loop, overridden request-path
methods are honoured as over WSGI, and the test client reaches the
serving path only through the documented scope extension."""

from __future__ import annotations

import threading
import typing as t

import pytest
from werkzeug.test import Client

import flask
from flask.asgi import TESTING_EXTENSION
from flask import concurrency
from test_asgi import CountingPool
from test_asgi import make_scope
from test_asgi import serve


@pytest.fixture(name="pool")
def counting_pool(monkeypatch: pytest.MonkeyPatch) -> CountingPool:
    """Counts the pool hops (flask.concurrency.pool is the documented seam)."""
    counting = CountingPool()
    monkeypatch.setattr(concurrency, "pool", lambda: counting)
    return counting


def _wsgi(app: flask.Flask, path: str = "/") -> tuple[int, bytes]:
    response = Client(app.wsgi_app).get(path)
    return response.status_code, response.get_data()


def test_contiguous_sync_steps_share_one_hop(app, pool):
    """async before, then sync before, view, after and teardown: the sync
    run after the async hook takes one hop, not one per function."""
    where: list[tuple[str, int]] = []

    @app.before_request
    async def first() -> None:
        where.append(("first", threading.get_ident()))

    @app.before_request
    def second() -> None:
        where.append(("second", threading.get_ident()))

    @app.route("/")
    def index() -> str:
        where.append(("view", threading.get_ident()))
        return "ok"

    @app.after_request
    def after(response: flask.Response) -> flask.Response:
        where.append(("after", threading.get_ident()))
        return response

    @app.teardown_request
    def teardown(exc: BaseException | None) -> None:
        where.append(("teardown", threading.get_ident()))

    exchange = serve(app, make_scope())
    assert (exchange.status, exchange.body) == (200, b"ok")
    assert pool.calls == 1
    main = threading.get_ident()
    assert where[0] == ("first", main)
    threads = {ident for _, ident in where[1:]}
    assert len(threads) == 1 and main not in threads
    assert [name for name, _ in where] == ["first", "second", "view", "after", "teardown"]


def test_sync_runs_around_an_async_view_take_a_hop_each(app, pool):
    where: list[tuple[str, bool]] = []
    main = threading.get_ident()

    @app.before_request
    def before() -> None:
        where.append(("before", threading.get_ident() == main))

    @app.route("/")
    async def index() -> str:
        where.append(("view", threading.get_ident() == main))
        return "ok"

    @app.after_request
    def after(response: flask.Response) -> flask.Response:
        where.append(("after", threading.get_ident() == main))
        return response

    assert serve(app, make_scope()).body == b"ok"
    assert where == [("before", False), ("view", True), ("after", False)]
    assert pool.calls == 2


def test_async_teardown_of_an_async_request_is_awaited_without_a_hop(app, pool):
    seen: list[tuple[str, bool, str]] = []
    main = threading.get_ident()

    @app.route("/")
    async def index() -> str:
        return "ok"

    @app.teardown_request
    async def teardown(exc: BaseException | None) -> None:
        seen.append(("request", threading.get_ident() == main, flask.request.path))

    @app.teardown_appcontext
    async def app_teardown(exc: BaseException | None) -> None:
        seen.append(("app", threading.get_ident() == main, flask.current_app.name))

    assert serve(app, make_scope()).body == b"ok"
    assert seen == [("request", True, "/"), ("app", True, app.name)]
    assert pool.calls == 0


class Overriding(flask.Flask):
    """Each request-path method overridden, calling Flask's own."""

    calls: list[str]

    def preprocess_request(self) -> t.Any:
        self.calls.append("preprocess")
        if flask.request.path == "/early":
            return "early"
        return super().preprocess_request()

    def dispatch_request(self) -> t.Any:
        self.calls.append("dispatch")
        return super().dispatch_request()

    def handle_user_exception(self, e: Exception) -> t.Any:
        self.calls.append("user_exception")
        return super().handle_user_exception(e)

    def process_response(self, response: flask.Response) -> flask.Response:
        self.calls.append("process")
        response.headers["X-Processed"] = "yes"
        return super().process_response(response)

    def do_teardown_request(self, exc: BaseException | None = None) -> None:
        self.calls.append("teardown")
        super().do_teardown_request(exc)


def _overriding() -> Overriding:
    app = Overriding(__name__)
    app.calls = []

    @app.route("/")
    async def index() -> str:
        return "view"

    @app.route("/boom")
    def boom() -> str:
        raise LookupError()

    @app.errorhandler(LookupError)
    async def lookup(e: Exception) -> tuple[str, int]:
        return "handled", 409

    return app


@pytest.mark.parametrize(
    ("path", "status", "body", "calls"),
    [
        ("/", 200, b"view", ["preprocess", "dispatch", "process", "teardown"]),
        ("/early", 200, b"early", ["preprocess", "process", "teardown"]),
        ("/boom", 409, b"handled", ["preprocess", "dispatch", "user_exception", "process", "teardown"]),
    ],
)
def test_overridden_methods_are_honoured_over_asgi_as_over_wsgi(path, status, body, calls):
    app = _overriding()
    assert _wsgi(app, path) == (status, body)
    assert app.calls == calls
    app.calls.clear()
    exchange = serve(app, make_scope(path))
    assert (exchange.status, exchange.body) == (status, body)
    assert exchange.headers[b"x-processed"] == b"yes"
    assert app.calls == calls


def test_overridden_full_dispatch_request_is_called_over_asgi(app):
    class Whole(flask.Flask):
        def full_dispatch_request(self) -> flask.Response:
            response = super().full_dispatch_request()
            response.headers["X-Whole"] = "1"
            return response

    whole = Whole(__name__)
    whole.add_url_rule("/", "index", lambda: "hi")
    exchange = serve(whole, make_scope())
    assert (exchange.status, exchange.body, exchange.headers[b"x-whole"]) == (200, b"hi", b"1")


def test_an_override_assigned_on_the_instance_after_serving_is_honoured_at_once():
    app = flask.Flask(__name__)
    app.add_url_rule("/", "index", lambda: "hi")
    wsgi = Client(app)
    assert serve(app, make_scope()).body == wsgi.get("/").data == b"hi"

    def preprocess_request() -> str:
        return "instead"

    app.preprocess_request = preprocess_request  # type: ignore[method-assign]
    assert serve(app, make_scope()).body == wsgi.get("/").data == b"instead"
    del app.preprocess_request
    assert serve(app, make_scope()).body == wsgi.get("/").data == b"hi"


def test_public_methods_run_the_same_steps_in_the_callers_thread(app):
    order: list[str] = []
    app.url_value_preprocessor(lambda endpoint, values: order.append(f"values {endpoint}"))

    @app.before_request
    async def before() -> None:
        order.append("before")

    @app.route("/<int:n>")
    async def view(n: int) -> str:
        return str(n * 2)

    with app.test_request_context("/21"):
        assert app.preprocess_request() is None
        assert app.dispatch_request() == "42"
    assert order == ["values view", "before"]


def test_the_old_environ_scope_key_is_not_read(app):
    @app.route("/")
    def index() -> str:
        return str(flask.request.environ.get("x.marker"))

    scope = make_scope()
    scope["flask.environ"] = {"x.marker": "seen"}
    assert serve(app, scope).body == b"None"


def test_the_testing_extension_adds_environ_keys_and_reports_contexts(app):
    @app.route("/")
    def index() -> str:
        return str(flask.request.environ.get("x.marker"))

    contexts: list[t.Any] = []
    scope = make_scope()
    scope["extensions"] = {TESTING_EXTENSION: {"environ": {"x.marker": "seen"}, "contexts": contexts.append}}
    assert serve(app, scope).body == b"seen"
    assert [type(c).__name__ for c in contexts] == ["AppContext", "RequestContext"]
    assert contexts[1].request.path == "/"


def test_websocket_async_error_handler_is_awaited_without_a_hop(app, pool):
    from flask.testing import WebSocketRejected

    seen: list[tuple[str, int]] = []

    @app.websocket("/ws")
    async def ws() -> None:
        seen.append(("handler", threading.get_ident()))
        raise LookupError()

    @app.errorhandler(LookupError)
    async def lookup(e: Exception) -> tuple[str, int]:
        seen.append(("error handler", threading.get_ident()))
        return "nope", 409

    with pytest.raises(WebSocketRejected) as info:
        with app.test_client().websocket("/ws"):
            pass
    assert (info.value.status, info.value.body) == (409, b"nope")
    assert [name for name, _ in seen] == ["handler", "error handler"]
    assert seen[0][1] == seen[1][1]  # both on the connection's loop
    assert pool.calls == 0


def test_websocket_sync_error_handler_runs_in_the_pool(app, pool):
    from flask.testing import WebSocketRejected

    seen: list[int] = []

    @app.websocket("/ws")
    async def ws() -> None:
        seen.append(threading.get_ident())
        raise LookupError()

    @app.errorhandler(LookupError)
    def lookup(e: Exception) -> tuple[str, int]:
        seen.append(threading.get_ident())
        return "nope", 409

    with pytest.raises(WebSocketRejected) as info:
        with app.test_client().websocket("/ws"):
            pass
    assert info.value.status == 409
    assert seen[0] != seen[1] and pool.calls == 1


# -- teardown over ASGI: every step Flask documents, where the model says ----------


@pytest.mark.parametrize("signal", ["request_tearing_down", "appcontext_tearing_down"])
def test_a_teardown_signal_alone_is_sent_over_asgi(app, signal):
    # No teardown function is registered: the signal's receiver alone must
    # keep the teardown steps from being skipped.
    received: list[tuple[t.Any, t.Any]] = []

    def receiver(sender: t.Any, exc: BaseException | None = None, **extra: t.Any) -> None:
        received.append((sender, exc))

    @app.route("/")
    async def index() -> str:
        return "ok"

    getattr(flask, signal).connect(receiver, app)
    try:
        assert serve(app, make_scope()).body == b"ok"
    finally:
        getattr(flask, signal).disconnect(receiver, app)
    assert received == [(app, None)]


class TornDown(flask.Flask):
    calls: list[str]

    def do_teardown_request(self, exc: BaseException | None = None) -> None:  # type: ignore[override]
        self.calls.append("request")
        super().do_teardown_request(exc)

    def do_teardown_appcontext(self, exc: BaseException | None = None) -> None:  # type: ignore[override]
        self.calls.append("appcontext")
        super().do_teardown_appcontext(exc)


def test_overridden_teardown_methods_are_called_over_asgi():
    app = TornDown(__name__)
    app.calls = []

    @app.route("/")
    async def index() -> str:
        return "ok"

    assert serve(app, make_scope()).body == b"ok"
    assert app.calls == ["request", "appcontext"]


def test_a_streamed_context_is_torn_down_after_the_stream_over_asgi(app):
    # stream_with_context keeps both contexts for the body: their teardown
    # comes after its last chunk, not when the view returns.
    order: list[str] = []

    @app.route("/")
    def index() -> t.Any:
        def body() -> t.Iterator[str]:
            order.append(f"chunk {flask.request.path}")
            yield "a"
            order.append(f"chunk {flask.current_app.name}")
            yield "b"

        return flask.Response(flask.stream_with_context(body()))

    app.teardown_request(lambda exc: order.append("teardown_request"))
    app.teardown_appcontext(lambda exc: order.append("teardown_appcontext"))
    assert serve(app, make_scope()).body == b"ab"
    assert order == ["chunk /", f"chunk {app.name}", "teardown_request", "teardown_appcontext"]


@pytest.mark.parametrize(
    "hook", ["teardown_appcontext", "appcontext_tearing_down", "appcontext_popped", "override"]
)
def test_a_background_tasks_context_is_popped_in_the_pool_when_its_teardown_may_block(hook):
    # A sync teardown step of the task's app context runs in the pool, as
    # every sync step does over ASGI; never on the event loop.
    app = flask.Flask(__name__)
    threads: list[int] = []
    loop_thread: list[int] = []

    def record(*args: t.Any, **kwargs: t.Any) -> None:
        threads.append(threading.get_ident())

    async def task() -> None:
        loop_thread.append(threading.get_ident())

    @app.route("/")
    async def index() -> str:
        app.add_background_task(task)
        return "ok"

    if hook == "teardown_appcontext":
        app.teardown_appcontext(record)
    elif hook == "override":
        app.do_teardown_appcontext = lambda exc=None: record()  # type: ignore[method-assign]
    else:
        getattr(flask, hook).connect(record, app)
    try:
        assert app.test_client(asgi=True).get("/").data == b"ok"
    finally:
        if hook in ("appcontext_tearing_down", "appcontext_popped"):
            getattr(flask, hook).disconnect(record, app)
    # The request's own app context, then the task's (whose pop is the
    # later one: the task runs after the response).
    assert len(threads) == 2
    assert loop_thread and threads[1] != loop_thread[0]


def test_async_receivers_of_the_app_context_signals_run_over_asgi(app):
    # Flask's documented pattern (set g in appcontext_pushed), with async
    # receivers: the push and the pop are sync code on the loop's thread,
    # where asgiref cannot wait; the receivers still run, in order, and the
    # view sees what the first one set.
    seen: list[str] = []

    async def pushed(sender: t.Any, **extra: t.Any) -> None:
        flask.g.user = "ada"
        seen.append("pushed")

    async def popped(sender: t.Any, **extra: t.Any) -> None:
        seen.append("popped")

    @app.route("/")
    async def index() -> str:
        seen.append("view")
        return flask.g.user

    flask.appcontext_pushed.connect(pushed, app)
    flask.appcontext_popped.connect(popped, app)
    try:
        exchange = serve(app, make_scope())
    finally:
        flask.appcontext_pushed.disconnect(pushed, app)
        flask.appcontext_popped.disconnect(popped, app)
    assert (exchange.status, exchange.body) == (200, b"ada")
    assert seen == ["pushed", "view", "popped"]
