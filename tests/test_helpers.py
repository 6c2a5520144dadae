"""Tests for flask.helpers and flask.debughelpers."""

from __future__ import annotations

import io
import os
import sys

import pytest
import werkzeug.exceptions
from werkzeug.routing import RequestRedirect
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request as WerkzeugRequest

import flask
from flask import helpers
from flask.debughelpers import DebugFilesKeyError
from flask.debughelpers import FormDataRoutingRedirect
from flask.debughelpers import UnexpectedUnicodeError
from flask.debughelpers import attach_enctype_error_multidict
from flask.debughelpers import explain_template_loading_attempts

HERE = os.path.dirname(os.path.abspath(__file__))


@pytest.fixture
def app(tmp_path):
    (tmp_path / "files").mkdir()
    (tmp_path / "files" / "note.txt").write_text("a note\n")
    (tmp_path / "page.html").write_text("<p>page</p>")
    app = flask.Flask("helpers_app", root_path=os.fspath(tmp_path))
    app.config.update(TESTING=True, SECRET_KEY="helpers")
    return app


# -- environment flags -------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, False), ("", False), ("0", False), ("NO", False), ("false", False),
     ("1", True), ("yes", True), ("on", True)],
)
def test_debug_flag_reads_env(monkeypatch, value, expected):
    if value is None:
        monkeypatch.delenv("FLASK_DEBUG", raising=False)
    else:
        monkeypatch.setenv("FLASK_DEBUG", value)
    assert helpers.get_debug_flag() is expected


def test_load_dotenv_flag(monkeypatch):
    monkeypatch.delenv("FLASK_SKIP_DOTENV", raising=False)
    assert helpers.get_load_dotenv() is True
    assert helpers.get_load_dotenv(False) is False
    monkeypatch.setenv("FLASK_SKIP_DOTENV", "1")
    assert helpers.get_load_dotenv() is False
    monkeypatch.setenv("FLASK_SKIP_DOTENV", "False")
    assert helpers.get_load_dotenv() is True


def test_split_blueprint_path():
    assert helpers._split_blueprint_path("outer.mid.inner") == [
        "outer.mid.inner",
        "outer.mid",
        "outer",
    ]
    assert helpers._split_blueprint_path("solo") == ["solo"]
    # Cached: the same list object comes back.
    assert helpers._split_blueprint_path("x.y") is helpers._split_blueprint_path(
        "x.y"
    )


# -- get_root_path -----------------------------------------------------------


def test_root_path_of_loaded_module_and_package():
    assert helpers.get_root_path(__name__) == HERE
    assert helpers.get_root_path("flask") == os.path.dirname(flask.__file__)


def test_root_path_does_not_import(tmp_path, monkeypatch):
    (tmp_path / "boom_on_import.py").write_text("raise RuntimeError('imported')\n")
    pkg = tmp_path / "quiet_pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("raise RuntimeError('imported')\n")
    monkeypatch.syspath_prepend(os.fspath(tmp_path))
    assert helpers.get_root_path("boom_on_import") == os.fspath(tmp_path)
    assert helpers.get_root_path("quiet_pkg") == os.fspath(pkg)
    assert "boom_on_import" not in sys.modules


def test_root_path_unknown_module_is_cwd():
    assert helpers.get_root_path("surely_not_a_module_xyz") == os.getcwd()


# -- redirect / abort without an app -------------------------------------------


def test_redirect_and_abort_without_app():
    rv = helpers.redirect("/there", 301)
    assert rv.status_code == 301
    assert rv.location == "/there"
    with pytest.raises(werkzeug.exceptions.Forbidden):
        helpers.abort(403)
    with pytest.raises(LookupError):
        helpers.abort(777)


def test_redirect_and_abort_use_app(app):
    seen = []

    def custom_redirect(location, code=302):
        seen.append((location, code))
        return "custom"

    app.redirect = custom_redirect

    class Teapot(werkzeug.exceptions.HTTPException):
        code = 777

    app.aborter.mapping[777] = Teapot
    with app.app_context():
        assert helpers.redirect("/x", 303) == "custom"
        with pytest.raises(Teapot):
            helpers.abort(777)
    assert seen == [("/x", 303)]


# -- url_for / make_response ---------------------------------------------------


def test_url_for_passes_options(app):
    @app.route("/item/<int:n>")
    def item(n):
        return str(n)

    with app.test_request_context():
        assert helpers.url_for("item", n=3, q="a") == "/item/3?q=a"
        assert helpers.url_for("item", n=3, _anchor="top") == "/item/3#top"
        assert (
            helpers.url_for("item", n=3, _external=True, _scheme="https")
            == "https://localhost/item/3"
        )


def test_url_for_shortcut_without_options():
    # The shortcut: no proxy, and unset options are not passed on, so an
    # overriding url_for sees only the endpoint and values. URLs are compared
    # with Werkzeug's own build.
    seen = []

    class RecordingFlask(flask.Flask):
        def url_for(self, endpoint, /, **kwargs):
            seen.append(sorted(kwargs))
            return super().url_for(endpoint, **kwargs)

    app = RecordingFlask(__name__)
    app.add_url_rule("/item/<int:n>", "item", lambda n: str(n))
    expected = app.url_map.bind("localhost").build("item", {"n": 3, "q": "a"})

    with app.test_request_context():
        assert helpers.url_for("item", n=3, q="a") == expected
        assert helpers.url_for("item", n=3, q="a", _method="GET") == expected
    assert seen == [
        ["n", "q"],
        ["_anchor", "_external", "_method", "_scheme", "n", "q"],
    ]

    with pytest.raises(RuntimeError, match="Working outside of application context"):
        helpers.url_for("item", n=3)


def test_make_response_shapes(app):
    with app.test_request_context():
        empty = helpers.make_response()
        assert isinstance(empty, app.response_class)
        assert empty.status_code == 200 and empty.data == b""
        assert helpers.make_response("hi").data == b"hi"
        rv = helpers.make_response("gone", 410, {"X-Why": "because"})
        assert rv.status_code == 410
        assert rv.headers["X-Why"] == "because"


# -- flashing --------------------------------------------------------------


def test_flash_roundtrip_and_filters(app):
    @app.route("/set")
    def set_():
        helpers.flash("plain")
        helpers.flash("bad", "error")
        helpers.flash("careful", "warning")
        return ""

    @app.route("/get")
    def get_():
        first = helpers.get_flashed_messages(with_categories=True)
        # A second call in the same request sees the same messages.
        again = helpers.get_flashed_messages()
        only = helpers.get_flashed_messages(category_filter=["error", "warning"])
        return flask.json.dumps([first, again, only])

    client = app.test_client()
    client.get("/set")
    first, again, only = flask.json.loads(client.get("/get").data)
    assert first == [["message", "plain"], ["error", "bad"], ["warning", "careful"]]
    assert again == ["plain", "bad", "careful"]
    assert only == ["bad", "careful"]
    # Consumed: the next request sees nothing.
    assert flask.json.loads(client.get("/get").data) == [[], [], []]


def test_flash_signal_only_with_receivers(app):
    got = []

    def receiver(sender, message, category):
        got.append((sender, message, category))

    with app.test_request_context():
        helpers.flash("quiet")
        with flask.signals.message_flashed.connected_to(receiver, app):
            helpers.flash("loud", "info")
        assert flask.session["_flashes"] == [("message", "quiet"), ("info", "loud")]
    assert got == [(app, "loud", "info")]


# -- send_file -------------------------------------------------------------


def test_send_file_relative_to_root_path(app):
    with app.test_request_context():
        rv = helpers.send_file("page.html")
        rv.direct_passthrough = False
        assert rv.mimetype == "text/html"
        assert rv.data == b"<p>page</p>"
        assert rv.cache_control.max_age is None
        rv.close()

        app.config["SEND_FILE_MAX_AGE_DEFAULT"] = 60
        rv = helpers.send_file("page.html")
        assert rv.cache_control.max_age == 60
        rv.close()

        rv = helpers.send_file(
            io.BytesIO(b"raw"), mimetype="text/plain", download_name="r.txt",
            as_attachment=True,
        )
        rv.direct_passthrough = False
        assert rv.data == b"raw"
        assert "attachment" in rv.headers["Content-Disposition"]
        rv.close()


def test_send_file_x_sendfile(app):
    app.config["USE_X_SENDFILE"] = True
    with app.test_request_context():
        rv = helpers.send_file("page.html")
        assert rv.headers["X-Sendfile"].endswith("page.html")
        rv.close()


def test_send_from_directory(app):
    with app.test_request_context():
        rv = helpers.send_from_directory("files", "note.txt")
        rv.direct_passthrough = False
        assert rv.data == b"a note\n"
        rv.close()
        with pytest.raises(werkzeug.exceptions.NotFound):
            helpers.send_from_directory("files", "../page.html")
        with pytest.raises(werkzeug.exceptions.NotFound):
            helpers.send_from_directory("files", "missing.txt")


# -- stream_with_context ---------------------------------------------------


def test_stream_with_context_needs_request():
    with pytest.raises(RuntimeError, match="request context"):
        helpers.stream_with_context(iter(["x"]))


def test_stream_with_context_keeps_request_and_g(app):
    closed = []

    @app.route("/")
    def index():
        flask.g.who = "g-value"

        def gen():
            try:
                yield flask.request.args["a"]
                yield flask.g.who
            finally:
                closed.append(True)

        return flask.Response(helpers.stream_with_context(gen()))

    @app.route("/deco")
    def deco():
        @helpers.stream_with_context
        def gen(prefix):
            yield prefix
            yield flask.request.path

        assert gen.__name__ == "gen"
        return flask.Response(gen("at "))

    client = app.test_client()
    assert client.get("/?a=1").data == b"1g-value"
    assert closed == [True]
    assert client.get("/deco").data == b"at /deco"


def test_stream_with_context_closes_iterator_once(app):
    calls = []

    class Source:
        def __init__(self):
            self.items = iter(["a", "b"])

        def __iter__(self):
            return self

        def __next__(self):
            return next(self.items)

        def close(self):
            calls.append("close")

    with app.test_request_context():
        stream = helpers.stream_with_context(Source())
    assert list(stream) == ["a", "b"]
    assert calls == ["close"]


# -- get_template_attribute --------------------------------------------------


def test_get_template_attribute(app):
    from jinja2 import DictLoader

    app.jinja_env.loader = DictLoader(
        {"m.html": "{% macro greet(x) %}Hi {{ x }}{% endmacro %}{% set n = 5 %}"}
    )
    with app.app_context():
        assert helpers.get_template_attribute("m.html", "greet")("Bo") == "Hi Bo"
        assert helpers.get_template_attribute("m.html", "n") == 5


# -- debughelpers ------------------------------------------------------------


def _form_request(**kwargs):
    return WerkzeugRequest(EnvironBuilder(method="POST", **kwargs).get_environ())


def test_debug_files_key_error_message():
    req = _form_request(data={"upload": "photo.png"})
    err = DebugFilesKeyError(req, "upload")
    assert isinstance(err, KeyError) and isinstance(err, AssertionError)
    text = str(err)
    assert "'application/x-www-form-urlencoded'" in text
    assert "no file contents were transmitted" in text
    assert 'enctype="multipart/form-data"' in text
    assert "This was submitted: 'photo.png'" in text


def test_attach_enctype_error_multidict():
    req = _form_request(data={"upload": "photo.png"})
    attach_enctype_error_multidict(req)
    with pytest.raises(DebugFilesKeyError):
        req.files["upload"]
    # Keys that are not form fields stay plain KeyErrors.
    with pytest.raises(KeyError) as exc_info:
        req.files["other"]
    assert not isinstance(exc_info.value, DebugFilesKeyError)
    assert type(req.files).__name__ == "ImmutableMultiDict"


def test_form_data_routing_redirect_message():
    req = WerkzeugRequest(EnvironBuilder(path="/user", method="POST").get_environ())
    req.routing_exception = RequestRedirect("http://localhost/user/")
    text = str(FormDataRoutingRedirect(req))
    assert isinstance(FormDataRoutingRedirect(req), AssertionError)
    assert "canonical URL 'http://localhost/user/'" in text
    assert "trailing slash" in text
    assert "307 or 308" in text


def test_unexpected_unicode_error_bases():
    assert issubclass(UnexpectedUnicodeError, AssertionError)
    assert issubclass(UnexpectedUnicodeError, UnicodeError)


def test_explain_template_loading_attempts():
    class FakeLogger:
        def __init__(self):
            self.messages = []

        def info(self, msg):
            self.messages.append(msg)

    class FakeApp:
        import_name = "myapp"
        logger = FakeLogger()

    class FakeBlueprint:
        name = "shop"
        import_name = "myapp.shop"

    app = FakeApp()
    explain_template_loading_attempts(
        app,
        "x.html",
        [(object(), app, None), (object(), FakeBlueprint(), ("src", "/t/x.html", None))],
    )
    (text,) = app.logger.messages
    assert "Locating template 'x.html'" in text
    assert "1: trying loader of application 'myapp'" in text
    assert "2: trying loader of blueprint 'shop' (myapp.shop)" in text
    assert "no match" in text and "found ('/t/x.html')" in text
    assert "could not be found" not in text

    explain_template_loading_attempts(app, "y.html", [(object(), app, None)])
    assert "Error: the template could not be found" in app.logger.messages[-1]
