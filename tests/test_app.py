"""Tests for the Flask application object: construction, attributes and
the class-level override points.

``app`` itself serves both protocols: WSGI's ``app(environ,
start_response)`` and ASGI's ``app(scope, receive, send)``, and servers that
serve both (hypercorn, uvicorn, asgiref) detect it as ASGI.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import sys
import types
import typing as t
from datetime import timedelta

import pytest
from werkzeug.exceptions import Aborter
from werkzeug.routing import Map
from werkzeug.routing import Rule
from werkzeug.test import Client

import flask
from flask.config import Config
from flask.ctx import _AppCtxGlobals
from flask.json.provider import DefaultJSONProvider
from flask.testing import FlaskCliRunner
from flask.testing import FlaskClient


HERE = os.path.dirname(os.path.abspath(__file__))


@pytest.fixture
def site(tmp_path):
    """A root folder with static files, templates and a data file."""
    (tmp_path / "static").mkdir()
    (tmp_path / "static" / "hello.txt").write_text("static hello")
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "app.css").write_text("body{}")
    (tmp_path / "tpl").mkdir()
    (tmp_path / "tpl" / "page.html").write_text("page {{ word }}")
    (tmp_path / "data.txt").write_bytes("caf\u00e9".encode("latin-1"))
    return tmp_path


def test_default_static_route_serves_files(site):
    app = flask.Flask("site_app", root_path=str(site))
    assert app.static_folder == os.path.join(str(site), "static")
    assert app.static_url_path == "/static"
    assert app.test_client().get("/static/hello.txt").data == b"static hello"


def test_static_url_path_and_folder(site):
    app = flask.Flask(
        "site_app", root_path=str(site), static_folder="assets", static_url_path="/s"
    )
    with app.test_request_context():
        assert flask.url_for("static", filename="app.css") == "/s/app.css"
    assert app.test_client().get("/s/app.css").data == b"body{}"
    assert app.test_client().get("/static/hello.txt").status_code == 404


def test_static_url_path_defaults_to_folder_name(site):
    app = flask.Flask("site_app", root_path=str(site), static_folder="assets")
    assert app.static_url_path == "/assets"


def test_no_static_folder_means_no_static_route(site):
    app = flask.Flask("site_app", root_path=str(site), static_folder=None)
    assert "static" not in app.view_functions
    assert not app.has_static_folder


@pytest.mark.parametrize(
    ("kwargs"),
    [{"static_host": "cdn.example"}, {"host_matching": True}],
)
def test_static_host_requires_host_matching(kwargs):
    with pytest.raises(AssertionError, match="static_host"):
        flask.Flask("hosty", **kwargs)


def test_static_host_with_host_matching():
    app = flask.Flask("hosty", static_host="cdn.example", host_matching=True)
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == "static")
    assert rule.host == "cdn.example"
    assert app.url_map.host_matching is True
    # Without a static folder, host_matching alone is fine.
    other = flask.Flask("hosty", host_matching=True, static_folder=None)
    assert other.url_map.host_matching is True


def test_template_folder(site):
    app = flask.Flask("site_app", root_path=str(site), template_folder="tpl")
    assert app.template_folder == "tpl"
    assert app.jinja_loader.searchpath == [os.path.join(str(site), "tpl")]
    with app.app_context():
        assert flask.render_template("page.html", word="one") == "page one"
    assert flask.Flask("x", template_folder=None).jinja_loader is None


def test_instance_path_must_be_absolute():
    with pytest.raises(ValueError, match="must be absolute"):
        flask.Flask("x", instance_path="relative/instance")


def test_instance_path_default_and_explicit(tmp_path):
    # This test module is not installed: the instance folder sits beside it.
    assert flask.Flask(__name__).instance_path == os.path.join(HERE, "instance")
    assert flask.Flask("x", instance_path=str(tmp_path)).instance_path == str(tmp_path)


def test_instance_relative_config(tmp_path):
    (tmp_path / "settings.py").write_text("GREETING = 'from instance'\n")
    app = flask.Flask(
        "x", instance_path=str(tmp_path), instance_relative_config=True
    )
    assert app.config.root_path == str(tmp_path)
    assert app.config.from_pyfile("settings.py")
    assert app.config["GREETING"] == "from instance"
    plain = flask.Flask("x", instance_path=str(tmp_path), root_path=HERE)
    assert plain.config.root_path == HERE


def test_root_path(site):
    assert flask.Flask("x", root_path=str(site)).root_path == str(site)
    assert flask.Flask(__name__).root_path == HERE


def test_name_and_import_name():
    app = flask.Flask("pkg.module")
    assert app.import_name == "pkg.module"
    assert app.name == "pkg.module"


def test_name_of_main_module_is_script_name(monkeypatch, tmp_path):
    fake_main = types.ModuleType("__main__")
    fake_main.__file__ = str(tmp_path / "serve_me.py")
    monkeypatch.setitem(sys.modules, "__main__", fake_main)
    app = flask.Flask("__main__", root_path=str(tmp_path), instance_path=str(tmp_path))
    assert app.name == "serve_me"


def test_name_of_main_module_without_file(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "__main__", types.ModuleType("__main__"))
    app = flask.Flask("__main__", root_path=str(tmp_path), instance_path=str(tmp_path))
    assert app.name == "__main__"


def test_open_resource_modes_and_encoding(site):
    app = flask.Flask("x", root_path=str(site))
    with app.open_resource("data.txt") as f:
        assert f.read() == "caf\u00e9".encode("latin-1")
    with app.open_resource("data.txt", "r", encoding="latin-1") as f:
        assert f.read() == "caf\u00e9"


@pytest.mark.parametrize("mode", ["w", "a", "r+", "wb"])
def test_open_resource_is_read_only(site, mode):
    app = flask.Flask("x", root_path=str(site))
    with pytest.raises(ValueError, match="only be opened for reading"):
        app.open_resource("data.txt", mode)
    assert (site / "data.txt").read_bytes() == "caf\u00e9".encode("latin-1")


def test_open_instance_resource_can_write(tmp_path):
    app = flask.Flask("x", instance_path=str(tmp_path))
    with app.open_instance_resource("notes.txt", "w", encoding="utf-16") as f:
        f.write("\u00fcber")
    assert (tmp_path / "notes.txt").read_text(encoding="utf-16") == "\u00fcber"
    with app.open_instance_resource("notes.txt", "r", encoding="utf-16") as f:
        assert f.read() == "\u00fcber"
    with app.open_instance_resource("notes.txt") as f:
        assert f.read() == "\u00fcber".encode("utf-16")


def test_extensions_is_a_per_app_dict():
    a, b = flask.Flask("a"), flask.Flask("b")
    assert a.extensions == {}
    a.extensions["thing"] = 1
    assert b.extensions == {}


def test_debug_mirrors_config(monkeypatch):
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    app = flask.Flask("x")
    assert app.debug is False
    app.debug = True
    assert app.config["DEBUG"] is True
    app.config["DEBUG"] = False
    assert app.debug is False


def test_debug_default_from_environment(monkeypatch):
    monkeypatch.setenv("FLASK_DEBUG", "1")
    assert flask.Flask("x").debug is True


def test_testing_and_secret_key_are_config_attributes():
    app = flask.Flask("x")
    assert app.testing is False and app.secret_key is None
    app.testing = True
    app.secret_key = "s3"
    assert app.config["TESTING"] is True
    assert app.config["SECRET_KEY"] == "s3"
    app.config["SECRET_KEY"] = "other"
    assert app.secret_key == "other"


def test_permanent_session_lifetime_converts_seconds():
    app = flask.Flask("x")
    assert app.permanent_session_lifetime == timedelta(days=31)
    app.config["PERMANENT_SESSION_LIFETIME"] = 90
    assert app.permanent_session_lifetime == timedelta(seconds=90)
    app.permanent_session_lifetime = timedelta(hours=2)
    assert app.config["PERMANENT_SESSION_LIFETIME"] == timedelta(hours=2)


FLASK_31_DEFAULTS = {
    "DEBUG": None,
    "TESTING": False,
    "PROPAGATE_EXCEPTIONS": None,
    "SECRET_KEY": None,
    "SECRET_KEY_FALLBACKS": None,
    "PERMANENT_SESSION_LIFETIME": timedelta(days=31),
    "USE_X_SENDFILE": False,
    "TRUSTED_HOSTS": None,
    "SERVER_NAME": None,
    "APPLICATION_ROOT": "/",
    "SESSION_COOKIE_NAME": "session",
    "SESSION_COOKIE_DOMAIN": None,
    "SESSION_COOKIE_PATH": None,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SECURE": False,
    "SESSION_COOKIE_PARTITIONED": False,
    "SESSION_COOKIE_SAMESITE": None,
    "SESSION_REFRESH_EACH_REQUEST": True,
    "MAX_CONTENT_LENGTH": None,
    "MAX_FORM_MEMORY_SIZE": 500_000,
    "MAX_FORM_PARTS": 1_000,
    "SEND_FILE_MAX_AGE_DEFAULT": None,
    "TRAP_BAD_REQUEST_ERRORS": None,
    "TRAP_HTTP_EXCEPTIONS": False,
    "EXPLAIN_TEMPLATE_LOADING": False,
    "PREFERRED_URL_SCHEME": "http",
    "TEMPLATES_AUTO_RELOAD": None,
    "MAX_COOKIE_SIZE": 4093,
    "PROVIDE_AUTOMATIC_OPTIONS": True,
}


def test_default_config_has_every_flask_31_key():
    assert dict(flask.Flask.default_config) == FLASK_31_DEFAULTS


def test_config_starts_from_default_config(monkeypatch):
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    config = flask.Flask("x").config
    expected = dict(FLASK_31_DEFAULTS, DEBUG=False)
    assert {k: config[k] for k in FLASK_31_DEFAULTS} == expected


def test_class_override_points_are_used():
    class MyRequest(flask.Request):
        pass

    class MyResponse(flask.Response):
        pass

    class MyMap(Map):
        pass

    class MyRule(Rule):
        pass

    class MyConfig(Config):
        pass

    class MyGlobals(_AppCtxGlobals):
        pass

    class MyAborter(Aborter):
        pass

    class MyJSON(DefaultJSONProvider):
        def dumps(self, obj, **kwargs):
            return "custom-json"

    class MyClient(FlaskClient):
        pass

    class MyRunner(FlaskCliRunner):
        pass

    class App(flask.Flask):
        request_class = MyRequest
        response_class = MyResponse
        url_map_class = MyMap
        url_rule_class = MyRule
        config_class = MyConfig
        app_ctx_globals_class = MyGlobals
        aborter_class = MyAborter
        json_provider_class = MyJSON
        test_client_class = MyClient
        test_cli_runner_class = MyRunner

    app = App("custom")
    seen = {}

    @app.route("/")
    def index():
        seen["request"] = type(flask.request._get_current_object())
        seen["g"] = type(flask.g._get_current_object())
        return flask.jsonify(a=1)

    assert isinstance(app.url_map, MyMap)
    assert all(isinstance(r, MyRule) for r in app.url_map.iter_rules())
    assert isinstance(app.config, MyConfig)
    assert isinstance(app.aborter, MyAborter)
    assert isinstance(app.json, MyJSON)
    assert isinstance(app.test_cli_runner(), MyRunner)
    client = app.test_client()
    assert isinstance(client, MyClient)
    rv = client.get("/")
    assert rv.data == b"custom-json\n"
    assert seen == {"request": MyRequest, "g": MyGlobals}
    assert isinstance(app.make_response("x"), MyResponse)


def test_custom_aborter_is_what_abort_calls():
    calls = []

    class RecordingAborter(Aborter):
        def __call__(self, code, *args, **kwargs):
            calls.append(code)
            return super().__call__(code, *args, **kwargs)

    class App(flask.Flask):
        aborter_class = RecordingAborter

    app = App("x")

    @app.route("/")
    def index():
        flask.abort(418)

    assert app.test_client().get("/").status_code == 418
    assert calls == [418]


SETUP_CALLS = {
    "add_url_rule": lambda app: app.add_url_rule("/late", "late", lambda: "x"),
    "before_request": lambda app: app.before_request(lambda: None),
    "after_request": lambda app: app.after_request(lambda r: r),
    "teardown_request": lambda app: app.teardown_request(lambda e: None),
    "teardown_appcontext": lambda app: app.teardown_appcontext(lambda e: None),
    "errorhandler": lambda app: app.errorhandler(404)(lambda e: "x"),
    "register_error_handler": lambda app: app.register_error_handler(404, lambda e: "x"),
    "context_processor": lambda app: app.context_processor(dict),
    "template_filter": lambda app: app.template_filter()(str),
    "shell_context_processor": lambda app: app.shell_context_processor(dict),
    "register_blueprint": lambda app: app.register_blueprint(flask.Blueprint("bp", "bp")),
}


@pytest.mark.parametrize("name", sorted(SETUP_CALLS))
def test_setup_methods_refused_after_first_request(app, name):
    app.add_url_rule("/", "index", lambda: "ok")
    SETUP_CALLS[name](flask.Flask("fresh"))  # allowed before any request
    assert app.test_client().get("/").data == b"ok"
    with pytest.raises(AssertionError, match=f"setup method '{name}'"):
        SETUP_CALLS[name](app)


@pytest.mark.parametrize("name", ["route", "get", "post", "put", "delete", "patch"])
def test_route_decorators_are_setup_methods(app, name):
    app.add_url_rule("/", "index", lambda: "ok")
    app.test_client().get("/")
    with pytest.raises(AssertionError, match=f"setup method '{name}'"):
        getattr(app, name)("/late")


def test_async_view_without_asgiref_names_the_extra(app, monkeypatch):
    monkeypatch.setitem(sys.modules, "asgiref.sync", None)

    async def view():
        return "never"

    with pytest.raises(RuntimeError, match="'async' extra"):
        app.ensure_sync(view)
    app.add_url_rule("/", "index", view)
    with pytest.raises(RuntimeError, match="'async' extra"):
        app.test_client().get("/")


def test_ensure_sync_keeps_plain_functions(app):
    def plain():
        return 1

    assert app.ensure_sync(plain) is plain


def test_make_shell_context(app):
    assert app.make_shell_context() == {"app": app, "g": flask.g}

    @app.shell_context_processor
    def first():
        return {"answer": 41, "shared": "first"}

    @app.shell_context_processor
    def second():
        return {"shared": "second"}

    assert first in app.shell_context_processors
    ctx = app.make_shell_context()
    assert ctx["answer"] == 41
    assert ctx["shared"] == "second"  # later processors win
    assert ctx["app"] is app


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
