"""``app`` itself serves both protocols: WSGI's ``app(environ,
start_response)`` and ASGI's ``app(scope, receive, send)``, and servers that
serve both (hypercorn, uvicorn, asgiref) detect it as ASGI."""

from __future__ import annotations

import asyncio
import importlib.util
import typing as t

import pytest
from werkzeug.test import Client

import flask


def _app() -> flask.Flask:
    app = flask.Flask(__name__)

    @app.get("/")
    def index() -> str:
        return "hello"

    return app


def _asgi_get(entry: t.Callable[..., t.Any], path: str = "/") -> tuple[int, bytes]:
    """One HTTP GET through an ASGI callable, with ASGI's own messages."""
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
        "method": "GET", "scheme": "http", "path": path, "raw_path": path.encode(),
        "query_string": b"", "root_path": "", "headers": [(b"host", b"localhost")],
        "client": ("127.0.0.1", 1234), "server": ("localhost", 80),
    }
    sent: list[dict[str, t.Any]] = []

    async def receive() -> dict[str, t.Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, t.Any]) -> None:
        sent.append(message)

    asyncio.run(entry(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], body


def test_wsgi_call_is_unchanged() -> None:
    # Werkzeug's own client drives app(environ, start_response).
    rv = Client(_app()).get("/")
    assert (rv.status_code, rv.data) == (200, b"hello")


def test_asgi_call_answers_as_asgi_app() -> None:
    app = _app()
    assert _asgi_get(app) == _asgi_get(app.asgi_app) == (200, b"hello")
    assert _asgi_get(app, "/missing")[0] == 404


def test_instance_call_attribute_is_the_asgi_entry() -> None:
    # What servers inspect (app.__call__) is an async function that serves
    # ASGI too.
    app = _app()
    assert asyncio.iscoroutinefunction(app.__call__)
    assert _asgi_get(app.__call__) == (200, b"hello")


@pytest.mark.skipif(importlib.util.find_spec("hypercorn") is None, reason="hypercorn not installed")
def test_hypercorn_detects_asgi() -> None:
    from hypercorn.utils import is_asgi

    assert is_asgi(_app())


@pytest.mark.skipif(importlib.util.find_spec("uvicorn") is None, reason="uvicorn not installed")
def test_uvicorn_detects_asgi3() -> None:
    from uvicorn.config import Config

    config = Config(_app())
    config.load()
    assert config.interface == "asgi3"


def test_asgiref_sees_a_single_callable() -> None:
    from asgiref.compatibility import guarantee_single_callable

    app = _app()
    assert guarantee_single_callable(app) is app


class WSGIOnly(flask.Flask):
    def __call__(self, environ: t.Any, start_response: t.Any) -> t.Any:  # type: ignore[override]
        return self.wsgi_app(environ, start_response)


@pytest.mark.skipif(importlib.util.find_spec("hypercorn") is None, reason="hypercorn not installed")
def test_subclass_with_its_own_call_stays_wsgi() -> None:
    from hypercorn.utils import is_asgi

    app = WSGIOnly(__name__)
    assert not is_asgi(app)
    assert not asyncio.iscoroutinefunction(app.__call__)


def test_one_argument_call_names_asgi_app() -> None:
    # ASGI 2's app(scope) style, as with uvicorn --interface asgi2.
    with pytest.raises(TypeError, match=r"app\.asgi_app"):
        _app()({"type": "http"})


def test_rsgi_call_says_to_use_asgi() -> None:
    # granian's default interface calls app.__rsgi__(scope, protocol).
    with pytest.raises(TypeError, match=r"--interface asgi"):
        asyncio.run(_app().__rsgi__(object(), object()))


def test_call_attribute_does_not_keep_the_app_alive() -> None:
    import gc
    import weakref

    app = _app()
    entry = app.__call__
    ref = weakref.ref(app)
    del app
    gc.collect()
    assert ref() is None
    del entry


def test_asgi_call_goes_through_wrapped_asgi_app() -> None:
    app = _app()
    inner = app.asgi_app
    seen: list[str] = []

    async def middleware(scope: t.Any, receive: t.Any, send: t.Any) -> None:
        seen.append(scope["path"])
        await inner(scope, receive, send)

    app.asgi_app = middleware
    assert _asgi_get(app) == (200, b"hello")
    assert seen == ["/"]
