"""Tests for error handlers, HTTP exceptions, propagation and logging."""

from __future__ import annotations

import logging

import pytest
from werkzeug.exceptions import BadRequest
from werkzeug.exceptions import Forbidden
from werkzeug.exceptions import HTTPException
from werkzeug.exceptions import InternalServerError
from werkzeug.exceptions import NotFound

import flask
from statuses import status_line


class ParentError(Exception):
    pass


class ChildError(ParentError):
    pass


def _raiser(exc):
    def view():
        raise exc

    return view


# -- registration and lookup -----------------------------------------------------


def test_handler_by_code_and_by_class(app, client):
    @app.errorhandler(404)
    def not_found(e):
        assert isinstance(e, NotFound)
        return "custom 404", 404

    app.register_error_handler(Forbidden, lambda e: ("nope", 403))
    app.add_url_rule("/forbidden", "f", lambda: flask.abort(403))
    assert client.get("/missing").data == b"custom 404"
    rv = client.get("/forbidden")
    assert (rv.status_code, rv.data) == (403, b"nope")


def test_code_and_class_registrations_are_the_same_slot(app, client):
    app.register_error_handler(404, lambda e: "by code")
    app.register_error_handler(NotFound, lambda e: "by class")
    assert client.get("/missing").data == b"by class"


def test_unknown_code_and_non_exception_are_refused(app):
    with pytest.raises(ValueError, match="not a recognized HTTP error code"):
        app.register_error_handler(999, lambda e: "")
    with pytest.raises(ValueError, match="not a subclass of Exception"):
        app.register_error_handler(str, lambda e: "")
    with pytest.raises(TypeError, match="instance"):
        app.register_error_handler(ParentError(), lambda e: "")


def test_most_specific_class_wins(app, client):
    app.register_error_handler(Exception, lambda e: "exception")
    app.register_error_handler(ParentError, lambda e: "parent")
    app.register_error_handler(ChildError, lambda e: "child")
    app.add_url_rule("/child", "c", _raiser(ChildError()))
    app.add_url_rule("/parent", "p", _raiser(ParentError()))
    app.add_url_rule("/other", "o", _raiser(KeyError()))
    assert client.get("/child").data == b"child"
    assert client.get("/parent").data == b"parent"
    assert client.get("/other").data == b"exception"


def test_blueprint_handler_before_app_handler(app, client):
    bp = flask.Blueprint("bp", __name__)
    bp.register_error_handler(ParentError, lambda e: "from blueprint")
    bp.add_url_rule("/in-bp", "v", _raiser(ChildError()))
    app.register_error_handler(ChildError, lambda e: "from app")
    app.register_error_handler(ParentError, lambda e: "app parent")
    app.register_blueprint(bp)
    app.add_url_rule("/outside", "o", _raiser(ParentError()))
    # The blueprint's less specific handler still beats the app's exact one.
    assert client.get("/in-bp").data == b"from blueprint"
    assert client.get("/outside").data == b"app parent"


def test_http_exception_handler_catches_all_http_errors(app, client):
    @app.errorhandler(HTTPException)
    def any_http(e):
        return f"{e.code} {e.name}", e.code

    app.add_url_rule("/get-only", "g", lambda: "x")
    assert client.get("/missing").data == b"404 Not Found"
    assert client.post("/get-only").data == b"405 Method Not Allowed"


def test_http_exceptions_without_handler_are_responses(app, client):
    rv = client.get("/missing")
    assert rv.status_code == 404
    assert b"Not Found" in rv.data


def test_abort_with_code_and_with_response(app, client):
    app.add_url_rule("/code", "c", lambda: flask.abort(410))
    app.add_url_rule("/resp", "r", lambda: flask.abort(flask.Response("teapot", 418)))
    assert client.get("/code").status_code == 410
    rv = client.get("/resp")
    assert (rv.status_code, rv.data) == (418, b"teapot")


def test_redirect_defaults_to_302(app):
    rv = flask.redirect("/elsewhere")
    assert rv.status_code == 302 and rv.location == "/elsewhere"
    assert flask.redirect("/x", 301).status_code == 301
    with app.app_context():
        assert flask.redirect("/y").status_code == 302


def test_redirect_uses_app_redirect(app):
    class App(flask.Flask):
        def redirect(self, location, code=302):
            return super().redirect(location + "?via=app", code)

    custom = App("x")
    with custom.app_context():
        assert flask.redirect("/z").location == "/z?via=app"


# -- trapping and propagation ----------------------------------------------------


def test_trap_http_exceptions(app, client):
    app.config["TRAP_HTTP_EXCEPTIONS"] = True
    with pytest.raises(NotFound):
        client.get("/missing")
    with app.test_request_context():
        assert app.trap_http_exception(Forbidden())


def test_trap_bad_request_errors(app, client):
    app.add_url_rule("/form", "form", lambda: flask.request.form["missing"],
                     methods=["POST"])
    app.add_url_rule("/bad", "bad", lambda: flask.abort(400))
    # Default: not trapped outside debug.
    assert client.post("/form").status_code == 400
    app.config["TRAP_BAD_REQUEST_ERRORS"] = True
    with pytest.raises(KeyError):
        client.post("/form")
    with pytest.raises(BadRequest):
        client.get("/bad")


def test_debug_traps_key_errors_only(app, client):
    app.debug = True
    app.add_url_rule("/form", "form", lambda: flask.request.form["missing"],
                     methods=["POST"])
    app.add_url_rule("/bad", "bad", lambda: flask.abort(400))
    with pytest.raises(KeyError):
        client.post("/form")
    assert client.get("/bad").status_code == 400
    app.config["TRAP_BAD_REQUEST_ERRORS"] = False
    assert client.post("/form").status_code == 400


@pytest.mark.parametrize(
    ("testing", "propagate", "raises"),
    [(True, None, True), (False, None, False), (False, True, True), (True, False, False)],
)
def test_propagation(app, client, testing, propagate, raises):
    app.testing = testing
    app.config["PROPAGATE_EXCEPTIONS"] = propagate
    app.add_url_rule("/", "boom", _raiser(ZeroDivisionError("boom")))
    if raises:
        with pytest.raises(ZeroDivisionError):
            client.get("/")
    else:
        rv = client.get("/")
        assert rv.status_code == 500
        assert b"Internal Server Error" in rv.data


def test_500_handler_gets_original_exception(app, client):
    app.testing = False
    got = []

    @app.errorhandler(500)
    def server_error(e):
        got.append(e)
        return "sorry", 500

    app.add_url_rule("/", "boom", _raiser(ZeroDivisionError("boom")))
    app.add_url_rule("/direct", "direct", lambda: flask.abort(500))
    assert client.get("/").data == b"sorry"
    assert isinstance(got[0], InternalServerError)
    assert isinstance(got[0].original_exception, ZeroDivisionError)
    assert client.get("/direct").data == b"sorry"
    assert got[1].original_exception is None


def test_unhandled_exception_is_logged(app, client, caplog):
    app.testing = False
    app.add_url_rule("/fail", "fail", _raiser(RuntimeError("broken view")))
    with caplog.at_level(logging.ERROR, logger=app.logger.name):
        client.get("/fail")
    records = [r for r in caplog.records if r.name == app.logger.name]
    assert len(records) == 1
    assert "Exception on /fail [GET]" in records[0].getMessage()
    assert records[0].exc_info[0] is RuntimeError


def test_handled_exception_is_not_logged(app, client, caplog):
    app.testing = False
    app.register_error_handler(RuntimeError, lambda e: "fine")
    app.add_url_rule("/fail", "fail", _raiser(RuntimeError()))
    with caplog.at_level(logging.ERROR):
        assert client.get("/fail").data == b"fine"
    assert not [r for r in caplog.records if r.name == app.logger.name]


def test_error_methods_are_overridable():
    calls = []

    class App(flask.Flask):
        def handle_http_exception(self, e):
            calls.append(("http", e.code))
            return super().handle_http_exception(e)

        def handle_user_exception(self, e):
            calls.append(("user", type(e).__name__))
            return super().handle_user_exception(e)

        def handle_exception(self, e):
            calls.append(("exception", type(e).__name__))
            return super().handle_exception(e)

        def log_exception(self, exc_info):
            calls.append(("log", exc_info[0].__name__))

    app = App("x")
    app.add_url_rule("/fail", "fail", _raiser(ValueError()))
    client = app.test_client()
    assert client.get("/missing").status_code == 404
    assert calls == [("user", "NotFound"), ("http", 404)]
    calls.clear()
    assert client.get("/fail").status_code == 500
    assert calls == [("user", "ValueError"), ("exception", "ValueError"),
                     ("log", "ValueError")]


# -- client errors ---------------------------------------------------------------


def test_malformed_json_is_400(app, client):
    app.add_url_rule("/j", "j", lambda: repr(flask.request.get_json()), methods=["POST"])
    rv = client.post("/j", data="{not json", content_type="application/json")
    assert rv.status_code == 400
    assert client.post("/j", json={"a": 1}).data == b"{'a': 1}"


def test_wrong_content_type_json_is_415(app, client):
    app.add_url_rule("/j", "j", lambda: repr(flask.request.json), methods=["POST"])
    assert client.post("/j", data="{}", content_type="text/plain").status_code == 415


def test_body_too_large_is_413(app, client):
    app.config["MAX_CONTENT_LENGTH"] = 10
    app.add_url_rule("/up", "up", lambda: flask.request.form.get("f", ""), methods=["POST"])
    assert client.post("/up", data={"f": "small"}).data == b"small"
    assert client.post("/up", data={"f": "x" * 100}).status_code == 413


def test_missing_form_key_is_400(app, client):
    app.add_url_rule("/f", "f", lambda: flask.request.form["name"], methods=["POST"])
    assert client.post("/f", data={"other": "1"}).status_code == 400
    assert client.post("/f", data={"name": "ok"}).data == b"ok"


# -- bad return values -----------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (None, "did not return a valid response.*returned None"),
        (("body", 200, {}, "extra"), "valid response tuple"),
        ((), "valid response tuple"),
        (42, "but it was a int"),
        (3.5, "but it was a float"),
    ],
)
def test_invalid_view_return_values(app, client, value, message):
    app.add_url_rule("/", "index", lambda: value)
    with pytest.raises(TypeError, match=message):
        client.get("/")


def test_none_body_in_tuple_is_an_error(app):
    with app.test_request_context():
        with pytest.raises(TypeError, match="returned None"):
            app.make_response((None, 200))


def _wsgi(app, path, method="GET"):
    from werkzeug.test import EnvironBuilder

    environ = EnvironBuilder(path=path, method=method).get_environ()
    captured = {}

    def start_response(status, headers, exc_info=None):
        captured["status"], captured["headers"] = status, headers

    body = b"".join(app(environ, start_response))
    return captured["status"], dict(captured["headers"]), body


@pytest.mark.parametrize("repeat", [1, 2])  # the second time from the remembered page
def test_error_pages_are_werkzeugs(app, repeat):
    from werkzeug.exceptions import MethodNotAllowed

    @app.post("/only-post")
    def only_post():
        return "posted"

    @app.route("/gone/<int:n>")
    def gone(n):
        flask.abort(404, description=f"item <{n}> is\nnot here")

    for _ in range(repeat):
        status, headers, body = _wsgi(app, "/missing")
        assert status == status_line(404)
        assert body == NotFound().get_body().encode()
        assert headers["Content-Length"] == str(len(body))

        status, headers, body = _wsgi(app, "/only-post")
        assert status == status_line(405)
        assert body == MethodNotAllowed().get_body().encode()
        assert set(headers["Allow"].split(", ")) == {"POST", "OPTIONS"}

        for n in (1, 2):
            status, _, body = _wsgi(app, f"/gone/{n}")
            expected = NotFound(description=f"item <{n}> is\nnot here").get_body()
            assert body == expected.encode()
            assert b"&lt;" in body and b"<br>" in body


def test_error_page_of_a_class_that_renders_itself(app):
    class Teapot(HTTPException):
        code = 418
        description = "short and stout"
        calls = 0

        def get_description(self, environ=None, scope=None):
            type(self).calls += 1
            return f"<p>{self.description} #{self.calls}</p>"

    @app.route("/tea")
    def tea():
        raise Teapot()

    assert _wsgi(app, "/tea")[2].endswith(b"#1</p>\n")
    assert _wsgi(app, "/tea")[2].endswith(b"#2</p>\n")  # rendered each time
