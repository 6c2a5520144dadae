"""Tests for turning view return values into responses, and for the
request/response limits that come from config."""

from __future__ import annotations

import io

import pytest
from werkzeug.wrappers import Response as WerkzeugResponse

import flask
from statuses import status_line


@pytest.fixture
def convert(app):
    """``app.make_response`` inside a request context."""
    with app.test_request_context():
        yield app.make_response


# -- single values ---------------------------------------------------------------


def test_str_body(convert):
    rv = convert("h\u00e9")
    assert isinstance(rv, flask.Response)
    assert rv.status_code == 200
    assert rv.data == "h\u00e9".encode()
    assert rv.mimetype == "text/html"


@pytest.mark.parametrize("body", [b"raw", bytearray(b"raw")])
def test_bytes_body(convert, body):
    rv = convert(body)
    assert rv.data == b"raw" and rv.status_code == 200


@pytest.mark.parametrize(("value", "expected"), [({"a": [1, 2]}, {"a": [1, 2]}), ([1, "x"], [1, "x"])])
def test_dict_and_list_become_json(convert, value, expected):
    rv = convert(value)
    assert rv.mimetype == "application/json"
    assert rv.get_json() == expected


def test_response_is_passed_through(convert):
    original = flask.Response("same", 202)
    assert convert(original) is original


def test_foreign_response_is_converted(convert):
    rv = convert(WerkzeugResponse("plain werkzeug", 203))
    assert isinstance(rv, flask.Response)
    assert (rv.status_code, rv.data) == (203, b"plain werkzeug")


def test_wsgi_callable(convert):
    def wsgi(environ, start_response):
        start_response("207 MULTI-STATUS", [("X-From", "wsgi")])
        return [b"from ", environ["PATH_INFO"].encode()]

    rv = convert(wsgi)
    assert isinstance(rv, flask.Response)
    assert rv.status_code == 207
    assert rv.headers["X-From"] == "wsgi"
    assert rv.data == b"from /"


def test_generator_is_streamed(app, client):
    @app.route("/stream")
    def stream():
        def gen():
            yield "a"
            yield b"b"
            yield "c"

        return gen()

    with app.test_request_context():
        assert app.make_response(iter(["x"])).is_streamed
    assert client.get("/stream").data == b"abc"


@pytest.mark.parametrize("wrapped", [False, True], ids=["returned", "in_a_response"])
def test_async_body_under_wsgi_says_it_needs_asgi(app, wrapped, caplog):
    """Not Werkzeug's "'async_generator' object is not iterable" while
    sending, but an error at the view that names ``app.asgi_app``."""

    async def chunks():
        yield "over "
        yield "ASGI"

    @app.get("/stream")
    def stream():
        return flask.Response(chunks(), mimetype="text/plain") if wrapped else chunks()

    with pytest.raises(TypeError) as info:
        app.test_client(asgi=False).get("/stream")
    message = str(info.value)
    assert "'stream'" in message and "ASGI server" in message
    assert "app.asgi_app" in message
    # Outside testing: a 500, with the reason in the log.
    app.testing = False
    assert app.test_client(asgi=False).get("/stream").status_code == 500
    assert "app.asgi_app" in caplog.text
    # Through ASGI the same view streams.
    assert app.test_client(asgi=True).get("/stream").data == b"over ASGI"


def test_plain_iterators_and_responses_are_not_taken_for_async_bodies(app):
    class Lines:
        """An iterable (not an iterator) of lines: a body Werkzeug sends."""

        def __iter__(self):
            return iter([b"a\n", b"b\n"])

    @app.get("/lines")
    def lines():
        return flask.Response(Lines())

    client = app.test_client(asgi=False)
    assert client.get("/lines").data == b"a\nb\n"


# -- tuples ----------------------------------------------------------------------


def test_body_status(convert):
    rv = convert(("created", 201))
    assert (rv.status_code, rv.data) == (201, b"created")


def test_status_as_string(convert):
    assert convert(("x", "202 ACCEPTED")).status == "202 ACCEPTED"
    assert convert(("x", "418")).status_code == 418


@pytest.mark.parametrize("headers", [{"X-A": "1"}, [("X-A", "1")]])
def test_body_headers(convert, headers):
    rv = convert(("with headers", headers))
    assert rv.status_code == 200
    assert rv.headers["X-A"] == "1"


def test_body_status_headers(convert):
    rv = convert(({"ok": True}, 400, {"X-B": "2"}))
    assert rv.status_code == 400
    assert rv.headers["X-B"] == "2"
    assert rv.get_json() == {"ok": True}


def test_tuple_updates_a_response(convert):
    base = flask.Response("r", headers={"X-Keep": "k"})
    rv = convert((base, 404, {"X-New": "n"}))
    assert rv is base
    assert rv.status_code == 404
    assert rv.headers["X-Keep"] == "k" and rv.headers["X-New"] == "n"


def test_tuple_from_a_view(app, client):
    app.add_url_rule("/", "index", lambda: ("gone", 410, {"X-Why": "old"}))
    rv = client.get("/")
    assert (rv.status_code, rv.data, rv.headers["X-Why"]) == (410, b"gone", "old")


# -- flask.make_response ---------------------------------------------------------


def test_make_response_helper(app):
    with app.test_request_context():
        empty = flask.make_response()
        assert isinstance(empty, app.response_class) and empty.data == b""
        one = flask.make_response("body")
        assert one.data == b"body"
        many = flask.make_response("body", 203, {"X-C": "3"})
        assert (many.status_code, many.headers["X-C"]) == (203, "3")
        assert flask.make_response({"j": 1}).get_json() == {"j": 1}


def test_make_response_helper_uses_app_response_class():
    class MyResponse(flask.Response):
        pass

    class App(flask.Flask):
        response_class = MyResponse

    app = App("x")
    with app.test_request_context():
        assert type(flask.make_response("x")) is MyResponse
        assert type(flask.make_response()) is MyResponse


# -- limits from config ----------------------------------------------------------


def test_max_cookie_size_from_config(app):
    assert flask.Response().max_cookie_size == 4093  # no app: Werkzeug's default
    app.config["MAX_COOKIE_SIZE"] = 123
    with app.app_context():
        assert flask.Response().max_cookie_size == 123


def test_max_content_length_config_and_override(app, client):
    app.config["MAX_CONTENT_LENGTH"] = 50

    @app.post("/up")
    def up():
        limit = flask.request.args.get("limit", type=int)
        if limit is not None:
            flask.request.max_content_length = limit
        return f"{flask.request.max_content_length} {len(flask.request.form['f'])}"

    assert client.post("/up", data={"f": "x" * 20}).data == b"50 20"
    assert client.post("/up", data={"f": "x" * 80}).status_code == 413
    assert client.post("/up?limit=5", data={"f": "x" * 20}).status_code == 413
    assert client.post("/up?limit=500", data={"f": "x" * 80}).data == b"500 80"


def test_request_limits_outside_app_use_werkzeug_defaults():
    req = flask.Request.from_values("/")
    assert req.max_content_length is None
    assert req.max_form_memory_size == 500_000
    assert req.max_form_parts == 1_000


def _multipart(fields):
    data = {f"f{i}": "v" * size for i, size in enumerate(fields)}
    data["upload"] = (io.BytesIO(b"file"), "a.txt")  # forces multipart
    return data


def test_max_form_memory_size_config_and_override(app, client):
    app.config["MAX_FORM_MEMORY_SIZE"] = 1000

    @app.post("/form")
    def form():
        if "raise" in flask.request.args:
            flask.request.max_form_memory_size = 100_000
        return str(flask.request.max_form_memory_size) + " " + str(len(flask.request.form))

    assert client.post("/form", data=_multipart([50])).data == b"1000 1"
    assert client.post("/form", data=_multipart([5000])).status_code == 413
    assert client.post("/form?raise", data=_multipart([5000])).data == b"100000 1"


def test_max_form_parts_config_and_override(app, client):
    app.config["MAX_FORM_PARTS"] = 3

    @app.post("/form")
    def form():
        if "raise" in flask.request.args:
            flask.request.max_form_parts = 100
        return str(flask.request.max_form_parts) + " " + str(len(flask.request.form))

    assert client.post("/form", data=_multipart([1])).data == b"3 1"
    assert client.post("/form", data=_multipart([1] * 5)).status_code == 413
    assert client.post("/form?raise", data=_multipart([1] * 5)).data == b"100 5"


# -- the buffered-body constructor -------------------------------------------------


def _state(resp):
    state = {k: v for k, v in vars(resp).items() if k != "headers"}
    return state, resp.headers.to_wsgi_list()


@pytest.mark.parametrize("body", ["t\u00e9xt", b"bytes", ""])
@pytest.mark.parametrize("status", [None, 201, 404, 999])
@pytest.mark.parametrize(
    ("mimetype", "content_type"),
    [(None, None), ("application/json", None), ("", None), (None, "text/csv"), ("a/b", "c/d")],
)
def test_constructor_builds_what_werkzeug_builds(body, status, mimetype, content_type):
    from flask.wrappers import Response

    ours = Response(body, status, mimetype=mimetype, content_type=content_type)
    theirs = Response.__new__(Response)
    WerkzeugResponse.__init__(theirs, body, status, None, mimetype, content_type)
    assert _state(ours) == _state(theirs)


@pytest.mark.needs_shortcut("buffered-response")
def test_constructor_shortcut_is_taken(monkeypatch):
    from flask.wrappers import Response

    def forbidden(*args, **kwargs):
        raise AssertionError("Werkzeug's constructor was used")

    monkeypatch.setattr(WerkzeugResponse, "__init__", forbidden)
    assert Response("x").get_data() == b"x"
    with pytest.raises(AssertionError):
        Response("x", headers={"X-A": "1"})  # headers go through Werkzeug


def test_subclass_overriding_a_step_gets_werkzeug_constructor():
    class Upper(flask.Response):
        def set_data(self, value):
            super().set_data(value.upper() if isinstance(value, str) else value)

    class NoLength(flask.Response):
        automatically_set_content_length = False
        default_status = 202
        default_mimetype = "text/plain"

    assert Upper("abc").get_data() == b"ABC"
    resp = NoLength("abc")
    assert "Content-Length" not in resp.headers
    assert resp.status == status_line(202)
    assert resp.content_type == "text/plain; charset=utf-8"
