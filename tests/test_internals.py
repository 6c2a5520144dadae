"""Names outside Flask's documented API that extensions use, each used the
way the extension named in the test does (docs/compat-internals.md lists
them). Answers come from Werkzeug, Blinker, Click or the wire format where
there is one, not from another path through this package.
"""

from __future__ import annotations

import dataclasses
import gc
import importlib.metadata
import typing as t
import uuid
import weakref
from datetime import datetime
from datetime import timezone
from functools import partial

import blinker
import click
import pytest
import werkzeug.test
from werkzeug.exceptions import InternalServerError
from werkzeug.exceptions import MethodNotAllowed
from werkzeug.exceptions import NotFound
from werkzeug.http import http_date

import flask
import flask.globals
from flask import Flask
from flask import request
from flask import session
from flask.testing import FlaskClient

# -- module-level names ------------------------------------------------------------


def test_json_provider_default() -> None:
    """Quart: ``json.dumps(..., default=flask.json.provider._default)``."""
    import json

    from flask.json.provider import _default

    @dataclasses.dataclass
    class Point:
        x: int
        y: int

    class Html:
        def __html__(self) -> str:
            return "<b>x</b>"

    when = datetime(2024, 5, 6, 7, 8, 9, tzinfo=timezone.utc)
    ident = uuid.UUID(int=1)
    out = json.loads(json.dumps([when, ident, Point(1, 2), Html()], default=_default))
    assert out == [http_date(when), str(ident), {"x": 1, "y": 2}, "<b>x</b>"]
    with pytest.raises(TypeError):
        json.dumps(object(), default=_default)


def test_app_ctx_globals_class() -> None:
    """Quart re-exports ``flask.ctx._AppCtxGlobals``."""
    from flask.ctx import _AppCtxGlobals

    app = Flask(__name__)
    assert app.app_ctx_globals_class is _AppCtxGlobals
    with app.app_context():
        assert type(flask.g._get_current_object()) is _AppCtxGlobals


def test_split_blueprint_path() -> None:
    """Quart: ``flask.helpers._split_blueprint_path``."""
    from flask.helpers import _split_blueprint_path

    assert _split_blueprint_path("a.b.c") == ["a.b.c", "a.b", "a"]
    assert _split_blueprint_path("a") == ["a"]


def test_http_method_funcs() -> None:
    """Flask-RESTX: ``from flask.views import http_method_funcs``."""
    from flask.views import http_method_funcs

    assert http_method_funcs == frozenset(
        {"get", "post", "head", "options", "delete", "put", "trace", "patch"}
    )


def test_signals_namespace_and_cli_click() -> None:
    """Flask-Login, Flask-SQLAlchemy, Flask-Dance, Authlib:
    ``from flask.signals import Namespace``; flask-openapi3:
    ``from flask.cli import click``."""
    import flask.cli
    import flask.signals

    assert flask.signals.Namespace is blinker.Namespace
    assert flask.cli.click is click  # type: ignore[attr-defined]


def test_config_attribute_on_a_subclass() -> None:
    """APIFlask: ``from flask.config import ConfigAttribute`` on its app class."""
    from flask.config import ConfigAttribute

    class APIApp(Flask):
        openapi_version = ConfigAttribute[str]("OPENAPI_VERSION")

    app = APIApp(__name__)
    app.config["OPENAPI_VERSION"] = "3.0.3"
    assert app.openapi_version == "3.0.3"
    app.openapi_version = "3.1.0"
    assert app.config["OPENAPI_VERSION"] == "3.1.0"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1", True), ("true", True), ("0", False), ("no", False), ("", False)],
)
def test_get_debug_flag(monkeypatch: pytest.MonkeyPatch, value: str, expected: bool) -> None:
    """Flask-APScheduler: ``from flask.helpers import get_debug_flag``."""
    from flask.helpers import get_debug_flag

    monkeypatch.setenv("FLASK_DEBUG", value)
    assert get_debug_flag() is expected


def test_typing_aliases() -> None:
    """Flask-Admin, Flask-JWT-Extended, APIFlask, Flask-Security annotate
    with these."""
    import flask.typing as ft

    for name in (
        "ResponseReturnValue", "ResponseValue", "HeadersValue", "RouteCallable",
        "ErrorHandlerCallable", "AfterRequestCallable", "BeforeRequestCallable",
        "TeardownCallable", "StatusCode", "HeaderValue", "ResponseClass",
        "AppOrBlueprintKey",
    ):
        assert hasattr(ft, name), name


def test_session_json_serializer_wire_format() -> None:
    """Quart: ``from flask.sessions import session_json_serializer``. The
    tagged format is what existing cookies contain."""
    from flask.sessions import SecureCookieSessionInterface
    from flask.sessions import session_json_serializer

    assert SecureCookieSessionInterface.serializer is session_json_serializer
    data = {"t": (1, 2), "b": b"\xff", "u": uuid.UUID(int=3)}
    dumped = session_json_serializer.dumps(data)
    assert dumped == (
        '{"t":{" t":[1,2]},"b":{" b":"/w=="},'
        '"u":{" u":"00000000000000000000000000000003"}}'
    )
    assert session_json_serializer.loads(dumped) == data


def test_default_template_context_processor_comes_first() -> None:
    """Flask-Moment's tests find its processor at
    ``app.template_context_processors[None][1]``; Quart names its own
    ``_default_template_ctx_processor`` after Flask's."""
    from flask.templating import _default_template_ctx_processor

    app = Flask(__name__)

    @app.context_processor
    def extra() -> dict[str, t.Any]:
        return {"answer": 42}

    assert app.template_context_processors[None] == [_default_template_ctx_processor, extra]
    with app.test_request_context("/?q=1"):
        flask.g.name = "g value"  # type: ignore[attr-defined]
        out = flask.render_template_string("{{ g.name }} {{ request.args.q }} {{ answer }}")
    assert out == "g value 1 42"


def test_json_provider_swapped_on_the_instance() -> None:
    """Flask-Security wraps ``app.json_provider_class`` and assigns
    ``app.json``; Connexion assigns its own provider to ``app.json``;
    Flask-JWT-Extended falls back to ``json_provider_class.default``."""
    import json

    from flask.json.provider import _default
    from flask.json.provider import DefaultJSONProvider

    class Lazy:
        def __str__(self) -> str:
            return "lazy text"

    def wrap(cls: type[DefaultJSONProvider]) -> type[DefaultJSONProvider]:
        class Provider(cls):  # type: ignore[valid-type,misc]
            @staticmethod
            def default(o: t.Any) -> t.Any:
                if isinstance(o, Lazy):
                    return str(o)
                return _default(o)

        return Provider

    app = Flask(__name__)
    assert getattr(app.json_provider_class, "default", None) is _default
    app.json_provider_class = wrap(app.json_provider_class)
    app.json = app.json_provider_class(app)

    @app.get("/")
    def index() -> t.Any:
        return {"v": Lazy()}

    assert app.test_client().get("/").get_json() == {"v": "lazy text"}
    with app.app_context():
        assert json.loads(flask.json.dumps([Lazy()])) == ["lazy text"]


# -- contexts ------------------------------------------------------------------------


def test_cv_app_and_cv_request() -> None:
    """Flask-Executor: ``flask.globals._cv_app.get(None)``; Quart and
    Flask-Limiter check ``_cv_request`` the same way."""
    from flask.globals import _cv_app
    from flask.globals import _cv_request

    app = Flask(__name__)
    assert _cv_app.get(None) is None
    with app.test_request_context("/") as ctx:
        assert _cv_request.get(None) is ctx
        app_ctx = _cv_app.get(None)
        assert app_ctx is not None and app_ctx.app is app
    assert _cv_app.get(None) is None and _cv_request.get(None) is None


def test_get_current_object_on_every_proxy() -> None:
    """Flask-Login, Flask-Security, Flask-Mail, Sentry, Flask-DebugToolbar:
    ``current_app._get_current_object()`` as a signal sender, ``request``,
    ``session``, ``request_ctx`` and ``app_ctx`` unwrapped."""
    app = Flask(__name__)
    app.secret_key = "k"
    sent: list[t.Any] = []
    signal = blinker.Namespace().signal("logged-in")

    def receiver(sender: t.Any, **kw: t.Any) -> None:
        sent.append(sender)

    signal.connect(receiver, sender=app)  # Blinker matches the sender by identity
    with app.test_request_context("/") as ctx:
        signal.send(flask.current_app._get_current_object())  # type: ignore[attr-defined]
        assert flask.current_app._get_current_object() is app  # type: ignore[attr-defined]
        assert request._get_current_object() is ctx.request  # type: ignore[attr-defined]
        assert flask.globals.request_ctx._get_current_object() is ctx  # type: ignore[attr-defined]
        # Flask-Assets reads the app and request through the proxy.
        assert flask.globals.request_ctx.app is app
        assert flask.globals.request_ctx.request is ctx.request
        assert flask.globals.app_ctx._get_current_object().app is app  # type: ignore[attr-defined]
        assert session._get_current_object() is ctx.session  # type: ignore[attr-defined]
    assert sent == [app]


def test_app_ctx_identity_scopes_sessions() -> None:
    """Flask-SQLAlchemy scopes its session by ``id(app_ctx._get_current_object())``."""
    from flask.globals import app_ctx

    app = Flask(__name__)
    with app.app_context():
        first = id(app_ctx._get_current_object())  # type: ignore[attr-defined]
        assert id(app_ctx._get_current_object()) == first  # type: ignore[attr-defined]
        with app.app_context():
            assert id(app_ctx._get_current_object()) != first  # type: ignore[attr-defined]
        assert id(app_ctx._get_current_object()) == first  # type: ignore[attr-defined]


def test_request_ctx_can_be_weakly_referenced_and_carries_extension_state() -> None:
    """OpenTelemetry keeps ``weakref.ref(request_ctx._get_current_object())``
    in the environ to match the request in later hooks; Flask-Limiter stores
    its own attribute on the request context."""
    from flask.globals import request_ctx

    app = Flask(__name__)
    seen: dict[str, t.Any] = {}

    @app.before_request
    def before() -> None:
        request.environ["ctx_ref"] = weakref.ref(request_ctx._get_current_object())  # type: ignore[attr-defined]
        request_ctx._limiter_request_context = {"hits": 1}  # type: ignore[attr-defined]

    @app.get("/")
    def index() -> str:
        return "ok"

    @app.teardown_request
    def teardown(exc: BaseException | None) -> None:
        seen["same"] = request.environ["ctx_ref"]() is request_ctx._get_current_object()  # type: ignore[attr-defined]
        seen["state"] = request_ctx._limiter_request_context  # type: ignore[attr-defined]
        seen["ref"] = request.environ["ctx_ref"]

    assert app.test_client().get("/").data == b"ok"
    assert seen["same"] is True and seen["state"] == {"hits": 1}
    gc.collect()
    assert seen["ref"]() is None


def test_assigning_ctx_session() -> None:
    """Flask-SocketIO (Flask >= 3.1.3 branch) sets ``ctx._session`` to its
    own session object; it tells 3.1 from 3.2 by whether the app context
    has a ``session`` attribute."""
    from flask.globals import app_ctx
    from flask.globals import request_ctx

    from flask.sessions import SessionMixin

    class ManagedSession(dict, SessionMixin):  # type: ignore[type-arg]
        pass

    app = Flask(__name__)
    app.secret_key = "k"
    replacement = ManagedSession(user="sio")

    @app.get("/")
    def index() -> t.Any:
        assert not hasattr(app_ctx, "session")
        ctx = request_ctx._get_current_object()  # type: ignore[attr-defined]
        assert hasattr(ctx, "_session")
        ctx._session = replacement
        return {"user": session.get("user"), "same": session._get_current_object() is replacement}  # type: ignore[attr-defined]

    assert app.test_client().get("/").get_json() == {"user": "sio", "same": True}


def test_cv_tokens_count_pushes() -> None:
    """Test suites and tools read ``len(ctx._cv_tokens)`` as the push depth."""
    app = Flask(__name__)
    ctx = app.app_context()
    assert ctx._cv_tokens == []
    ctx.push()
    ctx.push()
    assert len(ctx._cv_tokens) == 2
    ctx.pop()
    assert len(ctx._cv_tokens) == 1
    ctx.pop()
    assert ctx._cv_tokens == []
    rctx = app.test_request_context("/")
    with rctx:
        assert len(rctx._cv_tokens) == 1
    assert rctx._cv_tokens == []


def test_after_request_functions_on_the_request_context() -> None:
    """Quart and ``after_this_request`` keep per-request hooks in
    ``ctx._after_request_functions``, run before the app's hooks."""
    from flask.globals import request_ctx

    app = Flask(__name__)
    order: list[str] = []

    @app.after_request
    def app_hook(response: flask.Response) -> flask.Response:
        order.append("app")
        return response

    @app.get("/")
    def index() -> str:
        def once(response: flask.Response) -> flask.Response:
            order.append("once")
            return response

        request_ctx._after_request_functions.append(once)
        return "ok"

    app.test_client().get("/")
    assert order == ["once", "app"]


# -- the app object ------------------------------------------------------------------


def test_find_error_handler_prefers_blueprint_and_code() -> None:
    """Quart and error-routing extensions call
    ``app._find_error_handler(e, request.blueprints)``."""
    app = Flask(__name__)
    bp = flask.Blueprint("bp", __name__)

    def app_404(e: Exception) -> str:
        return "app 404"

    def bp_404(e: Exception) -> str:
        return "bp 404"

    def app_http(e: Exception) -> str:
        return "app http"

    app.register_error_handler(404, app_404)
    app.register_error_handler(InternalServerError, app_http)
    bp.register_error_handler(404, bp_404)
    app.register_blueprint(bp)
    assert app._find_error_handler(NotFound(), ["bp"]) is bp_404
    assert app._find_error_handler(NotFound(), []) is app_404
    assert app._find_error_handler(InternalServerError(), ["bp"]) is app_http
    assert app._find_error_handler(KeyError("x"), []) is None


def test_get_exc_class_and_code() -> None:
    app = Flask(__name__)
    assert app._get_exc_class_and_code(404) == (NotFound, 404)
    assert app._get_exc_class_and_code(MethodNotAllowed) == (MethodNotAllowed, 405)
    assert app._get_exc_class_and_code(KeyError) == (KeyError, None)
    with pytest.raises(ValueError, match="not a recognized HTTP error code"):
        app._get_exc_class_and_code(299)


def test_error_router_replaces_handle_exception_on_the_instance() -> None:
    """Flask-RESTful, Flask-RESTX and Flask-CORS wrap
    ``app.handle_exception`` / ``app.handle_user_exception`` with
    ``functools.partial`` on the app object."""
    app = Flask(__name__)
    routed: list[str] = []

    def router(original: t.Callable[[Exception], t.Any], e: Exception) -> t.Any:
        routed.append(type(e).__name__)
        if isinstance(e, KeyError):
            return {"routed": str(e)}, 400
        return original(e)

    app.handle_user_exception = partial(router, app.handle_user_exception)  # type: ignore[method-assign]
    app.handle_exception = partial(router, app.handle_exception)  # type: ignore[method-assign]

    @app.get("/key")
    def key() -> str:
        raise KeyError("k")

    @app.get("/teapot")
    def teapot() -> str:
        flask.abort(418)

    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("boom")

    client = app.test_client()
    r = client.get("/key")
    assert (r.status_code, r.get_json()) == (400, {"routed": "'k'"})
    assert client.get("/teapot").status_code == 418
    assert client.get("/boom").status_code == 500
    # boom: handle_user_exception re-raises, then handle_exception routes.
    assert routed == ["KeyError", "ImATeapot", "RuntimeError", "RuntimeError"]


def test_wrapping_wsgi_app_and_patching_call(monkeypatch: pytest.MonkeyPatch) -> None:
    """OpenTelemetry, Flask-SocketIO and Dash wrap ``app.wsgi_app``; Sentry
    replaces ``Flask.__call__`` on the class."""
    app = Flask(__name__)
    calls: list[str] = []

    @app.get("/")
    def index() -> str:
        return "ok"

    inner = app.wsgi_app

    def middleware(environ: t.Any, start_response: t.Any) -> t.Any:
        calls.append("middleware")
        return inner(environ, start_response)

    app.wsgi_app = middleware  # type: ignore[method-assign]
    original_call = Flask.__call__

    def patched_call(self: Flask, environ: t.Any, start_response: t.Any) -> t.Any:
        calls.append("patched")
        return original_call(self, environ, start_response)

    monkeypatch.setattr(Flask, "__call__", patched_call)
    assert app.test_client().get("/").data == b"ok"
    assert calls == ["patched", "middleware"]


def test_create_url_adapter_and_routing_errors() -> None:
    """Flask-RESTful matches with ``current_app.create_url_adapter(request)``;
    Flask-DebugToolbar re-raises with ``app.raise_routing_exception(req)``;
    Flask-CORS answers with ``make_default_options_response``."""
    app = Flask(__name__)

    @app.route("/items/<int:id>", methods=["GET", "PUT"])
    def item(id: int) -> str:
        return ""

    environ = werkzeug.test.EnvironBuilder("/items/5").get_environ()
    # Werkzeug's own binding is the reference.
    expected = app.url_map.bind_to_environ(environ)
    with app.request_context(environ):
        adapter = app.create_url_adapter(request)
        assert adapter is not None
        assert adapter.match() == expected.match() == ("item", {"id": 5})
        options = app.make_default_options_response()
        assert set(options.allow) == set(expected.allowed_methods())

    with app.test_request_context("/nowhere"):
        with pytest.raises(NotFound):
            app.raise_routing_exception(request)
    with app.test_request_context("/items/5", method="DELETE"):
        with pytest.raises(MethodNotAllowed):
            app.raise_routing_exception(request)


def test_registries_edited_directly() -> None:
    """Flask-Injector inserts hooks at index 0 of ``before_request_funcs`` /
    ``teardown_request_funcs`` and wraps handlers inside
    ``error_handler_spec``; Flask-Limiter and Flask-WTF read
    ``view_functions`` and ``blueprints``; Flask-Caching appends to
    ``after_request_funcs[None]``."""
    app = Flask(__name__)
    bp = flask.Blueprint("bp", __name__)
    order: list[str] = []

    @app.before_request
    def user_before() -> None:
        order.append("user")

    @bp.get("/missing")
    def missing() -> str:
        flask.abort(404)

    @bp.errorhandler(404)
    def not_found(e: Exception) -> tuple[str, int]:
        return "bp handler", 404

    app.register_blueprint(bp)
    app.before_request_funcs.setdefault(None, []).insert(0, lambda: order.append("injector"))
    app.teardown_request_funcs.setdefault(None, []).insert(0, lambda e: order.append("teardown"))
    for by_code in app.error_handler_spec.values():
        for handlers in by_code.values():
            for exc, handler in handlers.items():
                handlers[exc] = (lambda h: lambda e: ("wrapped " + h(e)[0], 404))(handler)
    def after(response: flask.Response) -> flask.Response:
        order.append("after")
        return response

    app.after_request_funcs[None].append(after)

    assert app.view_functions["bp.missing"] is missing
    # Flask-RESTful finds the class behind an endpoint this way.
    view = flask.views.View.as_view("cbv")
    assert view.__dict__["view_class"] is flask.views.View
    assert app.blueprints["bp"] is bp
    assert "bp" not in app.teardown_request_funcs
    r = app.test_client().get("/missing")
    assert (r.status_code, r.data) == (404, b"wrapped bp handler")
    assert order == ["injector", "user", "after", "teardown"]


def test_response_class_replaced_on_the_instance() -> None:
    """Flask-Testing and pytest-flask replace ``app.response_class`` with a
    subclass before making the test client."""
    app = Flask(__name__)

    class JSONResponse(app.response_class):  # type: ignore[name-defined,misc]
        @property
        def json_or_none(self) -> t.Any:
            return self.get_json(silent=True)

    app.response_class = JSONResponse

    @app.get("/")
    def index() -> t.Any:
        return {"a": 1}

    r = app.test_client().get("/")
    assert isinstance(r, JSONResponse)
    assert r.json_or_none == {"a": 1}


# -- blueprints ------------------------------------------------------------------------


def test_setup_state_subclass_and_make_setup_state() -> None:
    """Flask-Admin subclasses ``BlueprintSetupState`` to put a ``host`` on
    every rule and returns it from ``make_setup_state``."""
    from flask.blueprints import BlueprintSetupState

    from flask.sansio.app import App

    class HostState(BlueprintSetupState):
        def __init__(self, blueprint: flask.Blueprint, app: App, options: t.Any, first: bool) -> None:
            super().__init__(blueprint, app, options, first)
            self.host = self.options.get("host")

        def add_url_rule(self, rule: str, endpoint: str | None = None, view_func: t.Any = None, **options: t.Any) -> None:
            options.setdefault("host", self.host)
            super().add_url_rule(rule, endpoint, view_func, **options)

    class HostBlueprint(flask.Blueprint):
        def make_setup_state(self, app: App, options: t.Any, first_registration: bool = False) -> HostState:
            return HostState(self, app, options, first_registration)

    app = Flask(__name__, host_matching=True, static_host="static.test")
    bp = HostBlueprint("admin", __name__, url_prefix="/admin")

    @bp.get("/")
    def index() -> str:
        return "admin"

    app.register_blueprint(bp, host="admin.test")
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == "admin.index")
    assert (rule.host, rule.rule) == ("admin.test", "/admin/")
    client = app.test_client()
    assert client.get("/admin/", base_url="http://admin.test").data == b"admin"
    assert client.get("/admin/", base_url="http://other.test").status_code == 404


def test_patching_add_url_rule_on_the_setup_state() -> None:
    """Flask-RESTful / RESTX keep ``state._original_add_url_rule`` and put
    their own ``add_url_rule`` on the state object in a deferred function."""
    from types import MethodType

    bp = flask.Blueprint("api", __name__, url_prefix="/api")
    added: list[str] = []

    def patched(self: t.Any, rule: str, endpoint: str | None = None, view_func: t.Any = None, **options: t.Any) -> None:
        added.append(rule)
        self._original_add_url_rule(rule, endpoint, view_func, **options)

    def deferred(state: t.Any) -> None:
        state._original_add_url_rule = state.add_url_rule
        state.add_url_rule = MethodType(patched, state)
        state.add_url_rule("/ping", "ping", lambda: "pong")

    bp.record(deferred)
    app = Flask(__name__)
    app.register_blueprint(bp)
    assert added == ["/ping"]
    assert app.test_client().get("/api/ping").data == b"pong"


def test_record_once_and_deferred_functions() -> None:
    """Flask-RESTful records ``_deferred_blueprint_init`` and checks
    ``state.first_registration``."""
    bp = flask.Blueprint("bp", __name__)
    states: list[tuple[t.Any, bool, str]] = []
    bp.record(lambda s: states.append((s.app, s.first_registration, s.name)))
    bp.record_once(lambda s: states.append((s.app, True, "once")))
    assert len(bp.deferred_functions) == 2
    app = Flask(__name__)
    app.register_blueprint(bp)
    app.register_blueprint(bp, name="again")
    assert states == [(app, True, "bp"), (app, True, "once"), (app, False, "again")]


# -- the test client -------------------------------------------------------------------


def test_request_from_builder_args_matches_werkzeug() -> None:
    """Flask-SocketIO: ``client._request_from_builder_args(args=(),
    kwargs={'path': url, 'headers': headers})``."""
    app = Flask(__name__)
    client = app.test_client()
    req = client._request_from_builder_args((), {"path": "/socket.io?x=1", "headers": {"X-A": "b"}})
    reference = werkzeug.test.EnvironBuilder(
        "/socket.io?x=1",
        base_url="http://localhost/",
        headers=[("X-A", "b")],
        environ_base={
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_USER_AGENT": f"Werkzeug/{importlib.metadata.version('werkzeug')}",
        },
    ).get_environ()
    for key in ("PATH_INFO", "QUERY_STRING", "HTTP_HOST", "SERVER_NAME", "HTTP_X_A",
                "REMOTE_ADDR", "HTTP_USER_AGENT", "REQUEST_METHOD", "wsgi.url_scheme"):
        assert req.environ[key] == reference[key], key


def test_copy_environ_layers_and_preserve_context() -> None:
    """``_copy_environ`` is ``environ_base`` plus the given keys, plus the
    context hand-back hook while ``with client:`` is active."""
    app = Flask(__name__)
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = "10.0.0.9"
    out = client._copy_environ({"HTTP_X": "1"})
    assert out["REMOTE_ADDR"] == "10.0.0.9" and out["HTTP_X"] == "1"
    assert "werkzeug.debug.preserve_context" not in out
    assert "HTTP_X" not in client.environ_base
    with client:
        hooked = client._copy_environ({})
        assert hooked["werkzeug.debug.preserve_context"] == client._new_contexts.append


def test_cookies_reach_a_hand_built_environ() -> None:
    """Flask-SocketIO copies the client's cookies into its own environ with
    Werkzeug's ``_add_cookies_to_wsgi``; the session travels with them."""
    app = Flask(__name__)
    app.secret_key = "k"

    @app.get("/login")
    def login() -> str:
        session["user"] = "eve"
        return ""

    client = app.test_client()
    client.get("/login")
    environ = client._request_from_builder_args((), {"path": "/"}).environ
    client._add_cookies_to_wsgi(environ)
    assert "session=" in environ["HTTP_COOKIE"]
    with app.request_context(environ):
        assert session["user"] == "eve"


def test_test_client_class_with_a_logged_in_session() -> None:
    """Flask-Login's ``FlaskLoginClient``: a ``test_client_class`` that takes
    extra keyword arguments and writes the session in ``__init__``."""

    class LoginClient(FlaskClient):
        def __init__(self, *args: t.Any, user: str | None = None, **kwargs: t.Any) -> None:
            super().__init__(*args, **kwargs)
            if user:
                with self.session_transaction() as sess:
                    sess["_user_id"] = user

    app = Flask(__name__)
    app.secret_key = "k"
    app.test_client_class = LoginClient

    @app.get("/me")
    def me() -> t.Any:
        return {"user": session.get("_user_id")}

    client = app.test_client(user="42")
    assert isinstance(client, LoginClient)
    assert client.get("/me").get_json() == {"user": "42"}
