"""Tests for application and request contexts, their proxies and lifecycle."""

from __future__ import annotations

import asyncio
import threading

import pytest

import flask
from flask import globals as fglobals
from flask import signals
from flask.ctx import AppContext
from flask.ctx import RequestContext
from flask.sessions import SecureCookieSessionInterface

# -- pushing and popping ---------------------------------------------------------


def test_app_context_push_pop(app):
    ctx = app.app_context()
    assert isinstance(ctx, AppContext) and ctx.app is app
    assert not flask.has_app_context()
    ctx.push()
    try:
        assert flask.has_app_context()
        assert flask.current_app._get_current_object() is app
        assert fglobals.app_ctx._get_current_object() is ctx
        assert flask.g._get_current_object() is ctx.g
    finally:
        ctx.pop()
    assert not flask.has_app_context()


def test_app_context_with_statement_and_nesting(app):
    other = flask.Flask("other")
    with app.app_context():
        with other.app_context():
            assert flask.current_app.name == "other"
        assert flask.current_app.name == app.name
    assert not flask.has_app_context()


def test_popping_the_wrong_app_context(app):
    outer, inner = app.app_context(), app.app_context()
    outer.push()
    inner.push()
    with pytest.raises(AssertionError, match="Popped wrong app context"):
        outer.pop()
    assert not flask.has_app_context()


def test_request_context_push_pop(app):
    ctx = app.test_request_context("/where?x=1")
    assert isinstance(ctx, RequestContext)
    with ctx:
        assert flask.has_request_context() and flask.has_app_context()
        assert flask.request.path == "/where"
        assert flask.request.args["x"] == "1"
        assert fglobals.request_ctx._get_current_object() is ctx
        assert fglobals.request_ctx.request is flask.request._get_current_object()
        assert fglobals.app_ctx.app is app
    assert not flask.has_request_context()
    assert not flask.has_app_context()  # the implicit app context went too


def test_request_context_reuses_active_app_context(app):
    with app.app_context():
        flask.g.marker = "kept"
        with app.test_request_context():
            assert flask.g.marker == "kept"
    with app.test_request_context():
        assert "marker" not in flask.g


def test_request_context_for_another_app_pushes_its_own(app):
    other = flask.Flask("other")
    with app.app_context():
        with other.test_request_context():
            assert flask.current_app.name == "other"
        assert flask.current_app._get_current_object() is app


def test_session_proxy(app):
    with app.test_request_context():
        flask.session["k"] = "v"
        assert fglobals.request_ctx.session["k"] == "v"
        assert flask.session.modified


# -- g ---------------------------------------------------------------------------


def test_g_namespace(app):
    with app.app_context():
        g = flask.g
        assert g.get("x") is None and g.get("x", 3) == 3
        assert g.setdefault("x", 1) == 1
        assert g.setdefault("x", 2) == 1
        g.y = 5
        assert "x" in g and "y" in g and "z" not in g
        assert sorted(g) == ["x", "y"]
        assert g.pop("x") == 1
        assert g.pop("x", "gone") == "gone"
        with pytest.raises(KeyError):
            g.pop("x")
        with pytest.raises(AttributeError, match="nothing"):
            g.nothing  # noqa: B018
        assert app.name in repr(g)


def test_g_is_per_app_context(app):
    with app.app_context():
        flask.g.v = 1
    with app.app_context():
        assert "v" not in flask.g


# -- outside of a context --------------------------------------------------------


@pytest.mark.parametrize(
    ("touch", "message"),
    [
        (lambda: flask.current_app.name, "application context"),
        (lambda: flask.g.anything, "application context"),
        (lambda: flask.request.path, "request context"),
        (lambda: flask.session.get("k"), "request context"),
    ],
)
def test_working_outside_of_context(touch, message):
    with pytest.raises(RuntimeError, match=f"Working outside of {message}"):
        touch()


# -- helpers ---------------------------------------------------------------------


def test_copy_current_request_context_in_thread(app, client):
    results = {}

    @app.route("/work")
    def work():
        flask.session["user"] = "ada"

        @flask.copy_current_request_context
        def in_thread():
            results["path"] = flask.request.path
            results["user"] = flask.session["user"]
            results["app"] = flask.current_app.name

        thread = threading.Thread(target=in_thread)
        thread.start()
        thread.join()
        return "ok"

    assert client.get("/work").data == b"ok"
    assert results == {"path": "/work", "user": "ada", "app": app.name}


def test_copy_current_request_context_needs_a_request():
    with pytest.raises(RuntimeError, match="request context"):
        flask.copy_current_request_context(lambda: None)


def test_after_this_request(app, client):
    @app.route("/")
    def index():
        @flask.after_this_request
        def tag(response):
            response.headers["X-Tag"] = "late"
            return response

        return "body"

    rv = client.get("/")
    assert rv.headers["X-Tag"] == "late"


def test_after_this_request_is_per_request(app, client):
    calls = []

    @app.route("/once")
    def once():
        flask.after_this_request(lambda r: calls.append(1) or r)
        return ""

    @app.route("/plain")
    def plain():
        return ""

    client.get("/once")
    client.get("/plain")
    assert calls == [1]


def test_stream_with_context(app, client):
    @app.route("/stream")
    def stream():
        def gen():
            yield "hello "
            yield flask.request.args["who"]
            yield flask.g.get("tail", "")

        flask.g.tail = "!"
        return flask.stream_with_context(gen())

    @app.route("/decorated")
    def decorated():
        @flask.stream_with_context
        def gen():
            yield flask.request.path

        return gen()

    @app.route("/bare")
    def bare():
        def gen():
            yield flask.request.path

        return gen()

    assert client.get("/stream?who=you").data == b"hello you!"
    assert client.get("/decorated").data == b"/decorated"
    with pytest.raises(RuntimeError, match="request context"):
        client.get("/bare").data  # noqa: B018


# -- isolation -------------------------------------------------------------------


def test_threads_have_separate_contexts(app):
    barrier = threading.Barrier(2, timeout=5)
    seen = {}

    def worker(path):
        with app.test_request_context(path):
            flask.g.mine = path
            barrier.wait()  # both contexts are now pushed at once
            seen[path] = (flask.request.path, flask.g.mine)

    threads = [threading.Thread(target=worker, args=(p,)) for p in ("/a", "/b")]
    with app.test_request_context("/main"):
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        assert flask.request.path == "/main"
    assert seen == {"/a": ("/a", "/a"), "/b": ("/b", "/b")}


def test_new_thread_sees_no_context(app):
    seen = []
    with app.test_request_context():
        th = threading.Thread(target=lambda: seen.append(flask.has_app_context()))
        th.start()
        th.join()
    assert seen == [False]


def test_asyncio_tasks_have_separate_contexts(app):
    async def main():
        # Each task reads its context back only once both have pushed
        # theirs and set g: the two are in flight together for certain.
        entered = []
        both = asyncio.Event()

        async def task(path):
            with app.test_request_context(path):
                flask.g.mine = path
                entered.append(path)
                if len(entered) == 2:
                    both.set()
                await asyncio.wait_for(both.wait(), timeout=30)  # only bounds a hang
                return flask.request.path, flask.g.mine

        return await asyncio.gather(task("/one"), task("/two"))

    assert asyncio.run(main()) == [("/one", "/one"), ("/two", "/two")]


def test_greenlets_have_separate_contexts(app):
    greenlet = pytest.importorskip("greenlet")
    seen = []

    def run(path):
        seen.append(flask.has_request_context())
        with app.test_request_context(path):
            main.switch()
            seen.append(flask.request.path)

    main = greenlet.getcurrent()
    with app.test_request_context("/main"):
        first = greenlet.greenlet(run)
        second = greenlet.greenlet(run)
        first.switch("/first")
        second.switch("/second")
        assert flask.request.path == "/main"
        first.switch()
        second.switch()
        assert flask.request.path == "/main"
    assert seen == [False, False, "/first", "/second"]


# -- teardown --------------------------------------------------------------------


def test_teardowns_all_run_and_first_error_propagates(app, client):
    ran = []

    @app.teardown_request
    def last(exc):
        ran.append("request-last")

    @app.teardown_request
    def second(exc):
        ran.append("request-second")
        raise KeyError("second")

    @app.teardown_request
    def first(exc):
        ran.append("request-first")
        raise ValueError("first")

    @app.teardown_appcontext
    def app_teardown(exc):
        ran.append("app")

    app.add_url_rule("/", "index", lambda: "ok")
    with pytest.raises(ValueError, match="first"):
        client.get("/")
    assert ran == ["request-first", "request-second", "request-last", "app"]
    assert not flask.has_app_context()


def test_appcontext_teardowns_all_run(app):
    ran = []

    @app.teardown_appcontext
    def b(exc):
        ran.append(("b", exc))

    @app.teardown_appcontext
    def a(exc):
        ran.append(("a", exc))
        raise LookupError("from a")

    with pytest.raises(LookupError, match="from a"):
        with app.app_context():
            pass
    assert ran == [("a", None), ("b", None)]
    assert not flask.has_app_context()


def test_teardown_receives_the_view_error(app, client):
    got = []
    app.teardown_request(lambda exc: got.append(exc))
    app.teardown_appcontext(lambda exc: got.append(exc))

    @app.route("/")
    def index():
        raise ZeroDivisionError

    app.testing = False
    assert client.get("/").status_code == 500
    assert len(got) == 2 and all(isinstance(e, ZeroDivisionError) for e in got)


# -- laziness --------------------------------------------------------------------


class CountingInterface(SecureCookieSessionInterface):
    def __init__(self):
        self.opened = 0

    def open_session(self, app, request):
        self.opened += 1
        return super().open_session(app, request)


@pytest.fixture
def counting(app):
    app.session_interface = CountingInterface()
    app.add_url_rule("/none", "none", lambda: "no session")
    app.add_url_rule("/set", "set", lambda: flask.session.update(a=1) or "set")
    app.add_url_rule("/read", "read", lambda: str(flask.session.get("a")))
    return app.session_interface


def test_session_not_opened_when_untouched(client, counting):
    client.get("/none")
    assert counting.opened == 0
    assert client.get("/read").data == b"None"
    assert counting.opened == 1


def test_session_with_cookie_opened_once(client, counting):
    client.get("/set")
    assert client.get_cookie("session") is not None
    counting.opened = 0
    client.get("/none")
    # The carried cookie is opened at the end so it can be refreshed.
    assert counting.opened == 1
    counting.opened = 0
    assert client.get("/read").data == b"1"
    assert counting.opened == 1


def test_signals_only_sent_with_receivers(app, client, monkeypatch):
    sent = []
    original = signals.request_started.send

    def spy(*args, **kwargs):
        sent.append(args)
        return original(*args, **kwargs)

    monkeypatch.setattr(signals.request_started, "send", spy)
    app.add_url_rule("/", "index", lambda: "ok")
    client.get("/")
    assert sent == []

    received = []

    def receiver(sender, **extra):
        received.append(sender)

    with signals.request_started.connected_to(receiver, app):
        client.get("/")
    assert len(sent) == 1
    assert received == [app]


def test_proxies_forward_reads_and_writes():
    from werkzeug.local import LocalProxy

    app = flask.Flask(__name__)
    app.secret_key = "test"
    assert isinstance(flask.g, LocalProxy)
    assert repr(flask.g) == "<LocalProxy unbound>"
    with pytest.raises(RuntimeError, match="application context"):
        flask.g.anything
    with pytest.raises(RuntimeError, match="application context"):
        flask.g.anything = 1
    with app.test_request_context("/?q=1"):
        flask.g.user = "ann"
        flask.g._private = "kept"
        assert flask.g.user == "ann" and flask.g._private == "kept"
        assert vars(flask.g._get_current_object()) == {"user": "ann", "_private": "kept"}
        assert flask.current_app.name == app.name
        assert flask.request.args["q"] == "1"
        flask.session["k"] = "v"
        assert flask.session.get("k") == "v"
        with pytest.raises(AttributeError):
            flask.g.missing
        assert getattr(flask.g, "missing", "dflt") == "dflt"
        assert "user" in flask.g
        del flask.g.user
        assert "user" not in flask.g
