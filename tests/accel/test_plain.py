"""The request path's shortcuts must not change what goes on the wire.

Each answer, whether the direct path gives it or a full Response object
does (an app with a no-op ``after_request`` hook), is compared with an
independent one: the response Werkzeug builds for the same content, and
session cookies as ItsDangerous signs them and Werkzeug's ``dump_cookie``
writes them. tests/test_shortcuts_taken.py shows which path answered.
"""

from __future__ import annotations

import json
import typing as t

import pytest

import flask
from flask.matching import match_directly


def observe_responses(app: flask.Flask) -> None:
    """A no-op after_request hook: the app must build full responses."""

    @app.after_request
    def keep(response: flask.Response) -> flask.Response:
        return response


def make_app(observed: bool) -> flask.Flask:
    app = flask.Flask(__name__)

    @app.route("/text")
    def text() -> str:
        return "héllo <b>"

    @app.route("/data/<int:n>")
    def data(n: int) -> dict[str, object]:
        return {"n": n, "z": [1, 2], "a": "ü"}

    @app.post("/only-post")
    def only_post() -> str:
        return "posted"

    @app.route("/slash/")
    def slash() -> str:
        return "slash"

    if observed:
        observe_responses(app)
    return app


def werkzeug_expected(method: str, path: str) -> t.Any:
    """The response Werkzeug itself gives for what make_app's views return."""
    from werkzeug.exceptions import MethodNotAllowed
    from werkzeug.exceptions import NotFound
    from werkzeug.routing import RequestRedirect
    from werkzeug.wrappers import Response as WerkzeugResponse

    if path == "/text":
        if method == "OPTIONS":
            response = WerkzeugResponse(mimetype="text/html")  # Flask's default
            response.allow.update(["GET", "HEAD", "OPTIONS"])
            return response
        return WerkzeugResponse("héllo <b>", mimetype="text/html")
    if path == "/data/7":
        # Flask's documented JSON: sorted keys, compact, ASCII, newline.
        text = json.dumps({"n": 7, "z": [1, 2], "a": "ü"}, sort_keys=True, separators=(",", ":"))
        return WerkzeugResponse(text + "\n", mimetype="application/json")
    if path == "/only-post":
        return MethodNotAllowed(valid_methods=["POST", "OPTIONS"]).get_response()
    if path == "/slash":
        return RequestRedirect("http://localhost/slash/").get_response()
    return NotFound().get_response()


def normalised(status: str, headers: list[tuple[str, str]], body: bytes) -> t.Any:
    # Allow lists a set of methods: its order is not part of the answer.
    fixed = [
        (k, ", ".join(sorted(v.split(", "))) if k == "Allow" else v) for k, v in headers
    ]
    return status, sorted(fixed), body


@pytest.mark.parametrize("observed", [False, True])
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/text"),
        ("HEAD", "/text"),
        ("GET", "/data/7"),
        ("GET", "/missing"),
        ("HEAD", "/missing"),
        ("GET", "/only-post"),
        ("GET", "/slash"),
        ("OPTIONS", "/text"),
    ],
)
def test_answers_are_werkzeugs(method: str, path: str, observed: bool) -> None:
    ours = wsgi_call(make_app(observed=observed), path, None, method)
    theirs = wsgi_call(werkzeug_expected(method, path), path, None, method)
    assert normalised(*ours) == normalised(*theirs)


def test_debug_json_is_pretty_on_the_direct_path() -> None:
    app = make_app(observed=False)
    app.debug = True
    assert app.test_client().get("/data/1").data == (
        b'{\n  "a": "\\u00fc",\n  "n": 1,\n  "z": [\n    1,\n    2\n  ]\n}\n'
    )


def test_overridden_make_response_is_always_called() -> None:
    calls = []

    class Custom(flask.Flask):
        def make_response(self, rv: object) -> flask.Response:
            calls.append(rv)
            return super().make_response(rv)

    app = Custom(__name__)
    app.add_url_rule("/", "index", lambda: "hi")
    assert app.test_client().get("/").data == b"hi"
    assert calls == ["hi"]


def test_instance_patched_process_response_is_called() -> None:
    app = make_app(observed=False)
    seen = []
    original = app.process_response

    def patched(response: flask.Response) -> flask.Response:
        seen.append(response.status_code)
        return original(response)

    app.process_response = patched  # type: ignore[method-assign]
    app.test_client().get("/text")
    assert seen == [200]


def test_hook_added_during_a_request_is_honoured() -> None:
    # Flask-Caching appends to after_request_funcs while serving.
    app = make_app(observed=False)

    @app.route("/add-hook")
    def add_hook() -> str:
        def stamp(response: flask.Response) -> flask.Response:
            response.headers["X-Stamp"] = "1"
            return response

        app.after_request_funcs.setdefault(None, []).append(stamp)
        return "added"

    client = app.test_client()
    assert client.get("/add-hook").headers["X-Stamp"] == "1"
    assert client.get("/text").headers["X-Stamp"] == "1"


def test_direct_matching_leaves_redirects_to_the_adapter() -> None:
    app = make_app(observed=False)
    with app.test_request_context("/slash"):
        request = flask.request._get_current_object()
        assert match_directly(app.url_map, request) is False
    with app.test_request_context("/data/3"):
        request = flask.request._get_current_object()
        assert match_directly(app.url_map, request) is True
        assert request.view_args == {"n": 3}


def test_url_adapter_is_bound_only_when_needed() -> None:
    app = make_app(observed=False)
    with app.test_request_context("/text"):
        ctx = flask.globals.request_ctx._get_current_object()
        assert ctx._url_adapter is flask.ctx._sentinel  # matched without binding
        assert flask.url_for("data", n=2) == "/data/2"
        assert ctx._url_adapter is not flask.ctx._sentinel


def test_static_index_sees_rules_added_later() -> None:
    from werkzeug.routing import Rule

    app = make_app(observed=False)
    client = app.test_client()
    assert client.get("/late").status_code == 404
    app.url_map.add(Rule("/late", endpoint="late"))
    app.view_functions["late"] = lambda: "late"
    assert client.get("/late").data == b"late"


def test_static_rule_with_other_method_falls_through_to_dynamic() -> None:
    app = flask.Flask(__name__)
    app.add_url_rule("/items/new", "new_form", lambda: "form", methods=["POST"])
    app.add_url_rule("/items/<name>", "item", lambda name: f"item {name}")
    client = app.test_client()
    assert client.get("/items/new").data == b"item new"
    assert client.post("/items/new").data == b"form"


def test_static_rule_defaults_become_view_args() -> None:
    app = flask.Flask(__name__)
    app.add_url_rule("/page", "page", lambda n: f"page {n}", defaults={"n": 1})
    assert app.test_client().get("/page").data == b"page 1"


@pytest.mark.parametrize(
    "environ",
    [
        {"PATH_INFO": "/caf\xc3\xa9/x", "SCRIPT_NAME": "/app/", "QUERY_STRING": "a=1"},
        {"REQUEST_METHOD": "post", "wsgi.url_scheme": "https", "REMOTE_ADDR": "::1"},
        {},
    ],
)
def test_lazy_request_fields_equal_werkzeug(environ: dict[str, str]) -> None:
    from werkzeug.test import EnvironBuilder
    from werkzeug.wrappers import Request as WerkzeugRequest

    env = EnvironBuilder().get_environ()
    env.update(environ)
    ours, theirs = flask.Request(dict(env)), WerkzeugRequest(dict(env))
    for name in (
        "method", "scheme", "server", "root_path", "path", "query_string",
        "remote_addr", "url", "full_path",
    ):
        assert getattr(ours, name) == getattr(theirs, name), name
    assert list(ours.headers) == list(theirs.headers)
    ours.method = "PUT"
    assert ours.method == "PUT"


def test_remembered_urls_follow_what_they_depend_on() -> None:
    app = flask.Flask(__name__)

    def user(uid: str) -> str:
        return uid

    app.add_url_rule("/u/<uid>", "user", user)
    with app.test_request_context("/", base_url="http://a.test/root"):
        assert flask.url_for("user", uid=1) == "/root/u/1"
        assert flask.url_for("user", uid=True) == "/root/u/True"
        assert flask.url_for("user", uid=1, _external=True) == "http://a.test/root/u/1"
    with app.test_request_context("/", base_url="https://b.test/"):
        assert flask.url_for("user", uid=1) == "/u/1"
        assert flask.url_for("user", uid=1, _external=True) == "https://b.test/u/1"
    app.add_url_rule("/v2/u/<uid>", "user", user, methods=["POST"])
    with app.test_request_context("/"):
        assert flask.url_for("user", uid=1, _method="POST") == "/v2/u/1"


def test_custom_converters_are_never_remembered() -> None:
    from werkzeug.routing import BaseConverter

    class Thing:
        slug = "first"

    class ThingConverter(BaseConverter):
        def to_url(self, value: Thing) -> str:
            return value.slug

    app = flask.Flask(__name__)
    app.url_map.converters["thing"] = ThingConverter
    app.add_url_rule("/t/<thing:t>", "thing", lambda t: "")
    app.add_url_rule("/s/<name>", "plain", lambda name: "")
    thing = Thing()
    with app.test_request_context("/"):
        assert flask.url_for("thing", t=thing) == "/t/first"
        thing.slug = "second"
        assert flask.url_for("thing", t=thing) == "/t/second"
        # string values on that map are not remembered either
        assert flask.url_for("plain", name="x") == "/s/x"


def test_json_responses_follow_provider_settings_changed_later() -> None:
    import decimal

    app = flask.Flask(__name__)

    @app.route("/")
    def index() -> dict[str, object]:
        return {"b": 1, "a": decimal.Decimal("1.5"), "é": "é"}

    client = app.test_client()
    assert client.get("/").data == b'{"a":"1.5","b":1,"\\u00e9":"\\u00e9"}\n'
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    assert client.get("/").data == '{"b":1,"a":"1.5","é":"é"}\n'.encode()


@pytest.mark.parametrize(
    ("host", "status"),
    [("\x8a", 400), ("bad host", 400), ("ex.com:99999", 200),
     ("ąśźäüжŠßя.com", 200), ("xn--on-0ia.com", 200), ("[::1]:5000", 200)],
)
def test_malformed_host_headers_get_400(host: str, status: int) -> None:
    app = make_app(observed=False)
    from werkzeug.test import EnvironBuilder

    environ = EnvironBuilder(path="/text").get_environ()
    environ["HTTP_HOST"] = host
    responses: list[str] = []
    b"".join(app(environ, lambda s, h: responses.append(s)))
    assert responses[0].startswith(str(status))


def test_requests_without_host_header_are_served() -> None:
    from werkzeug.test import EnvironBuilder

    environ = EnvironBuilder(path="/text").get_environ()
    del environ["HTTP_HOST"]
    responses: list[str] = []
    b"".join(make_app(observed=False)(environ, lambda s, h: responses.append(s)))
    assert responses == ["200 OK"]


def test_make_response_patched_on_flask_itself_is_called(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = make_app(observed=False)
    seen = []
    original = flask.Flask.make_response

    def patched(self: flask.Flask, rv: object) -> flask.Response:
        seen.append(rv)
        return original(self, rv)

    monkeypatch.setattr(flask.Flask, "make_response", patched)
    assert app.test_client().get("/text").status_code == 200
    assert seen == ["héllo <b>"]


def make_session_app(observed: bool) -> flask.Flask:
    app = flask.Flask(__name__)
    app.secret_key = "shortcut tests"

    @app.route("/set/<v>")
    def set_value(v: str) -> str:
        flask.session["v"] = v
        return "ok"

    @app.route("/set-json/<v>")
    def set_json(v: str) -> dict[str, str]:
        flask.session["v"] = v
        return {"v": v}

    @app.route("/read")
    def read() -> str:
        return flask.session.get("v", "none")

    @app.route("/clear")
    def clear() -> str:
        flask.session.clear()
        return "cleared"

    @app.route("/permanent")
    def permanent() -> str:
        flask.session.permanent = True
        flask.session["p"] = 1
        return "p"

    @app.route("/abort")
    def abort_after_write() -> str:
        flask.session["x"] = 1
        flask.abort(404)

    @app.route("/plain")
    def plain() -> str:
        return "plain"

    if observed:
        observe_responses(app)
    return app


def wsgi_call(app: flask.Flask, path: str, cookie: str | None, method: str = "GET"):
    from werkzeug.test import EnvironBuilder

    headers = {"Cookie": cookie} if cookie else {}
    environ = EnvironBuilder(path=path, method=method, headers=headers).get_environ()
    seen: dict[str, object] = {}

    def start_response(status, headers, exc_info=None):  # type: ignore[no-untyped-def]
        seen["status"], seen["headers"] = status, list(headers)

    body = b"".join(app(environ, start_response))
    return seen["status"], seen["headers"], body


NOW = 1_700_000_000


def session_expected(path: str, method: str, start: dict[str, t.Any] | None) -> t.Any:
    """Status, headers and body for a session_app request, written out from
    Flask's documented session behaviour: the token signed by ItsDangerous
    and the cookie written by Werkzeug's dump_cookie."""
    import hashlib
    from datetime import datetime
    from datetime import timedelta
    from datetime import timezone

    from itsdangerous import URLSafeTimedSerializer
    from werkzeug.exceptions import NotFound
    from werkzeug.http import dump_cookie
    from werkzeug.wrappers import Response as WerkzeugResponse

    from flask.json.tag import TaggedJSONSerializer

    signer = URLSafeTimedSerializer(
        "shortcut tests", salt="cookie-session", serializer=TaggedJSONSerializer(),
        signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha1},
    )
    session = dict(start or {})
    # (response, session written?, session read?, permanent?)
    if path.startswith("/set/"):
        session["v"] = path[5:]
        response, write, read = WerkzeugResponse("ok", mimetype="text/html"), True, True
    elif path.startswith("/set-json/"):
        session["v"] = path[10:]
        text = json.dumps({"v": path[10:]}, separators=(",", ":")) + "\n"
        response, write, read = WerkzeugResponse(text, mimetype="application/json"), True, True
    elif path == "/read":
        body = str(session.get("v", "none"))
        response, write, read = WerkzeugResponse(body, mimetype="text/html"), False, True
    elif path == "/clear":
        session.clear()
        response, write, read = WerkzeugResponse("cleared", mimetype="text/html"), True, True
    elif path == "/permanent":
        session["_permanent"] = True
        session["p"] = 1
        response, write, read = WerkzeugResponse("p", mimetype="text/html"), True, True
    elif path == "/abort":
        session["x"] = 1
        response, write, read = NotFound().get_response(), True, True
    else:
        response, write, read = WerkzeugResponse("plain", mimetype="text/html"), False, False
    headers = list(response.headers.items())
    if write and not session:
        cookie = dump_cookie("session", "", expires=0, max_age=0, path="/", httponly=True)
        headers.append(("Set-Cookie", cookie))
    elif write:
        expires = None
        if session.get("_permanent"):
            expires = datetime.now(timezone.utc) + timedelta(days=31)
        # Flask's JSON sorts keys (app.json.sort_keys).
        token = signer.dumps(dict(sorted(session.items())))
        headers.append(("Set-Cookie", dump_cookie("session", token, expires=expires, path="/", httponly=True)))
    if read or write:
        headers.append(("Vary", "Cookie"))
    body = b"" if method == "HEAD" else response.get_data()
    return response.status, headers, body


@pytest.mark.parametrize("observed", [False, True])
@pytest.mark.parametrize(
    "path", ["/set/a", "/set-json/b", "/read", "/clear", "/permanent", "/abort", "/plain"]
)
@pytest.mark.parametrize("method", ["GET", "HEAD"])
@pytest.mark.parametrize("with_cookie", [False, True])
def test_session_answers_are_itsdangerous_and_werkzeugs(
    path: str, method: str, with_cookie: bool, observed: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    monkeypatch.setattr(time, "time", lambda: NOW + 0.25)  # one second for every token
    app = make_session_app(observed)
    start = {"v": "start"} if with_cookie else None
    cookie = None
    if with_cookie:
        _, headers, _ = wsgi_call(app, "/set/start", None)
        cookie = dict(headers)["Set-Cookie"].split(";")[0]
    status, headers, body = wsgi_call(app, path, cookie, method)
    expected = session_expected(path, method, start)
    assert (status, without_expires(headers), body) == (
        expected[0], without_expires(expected[1]), expected[2]
    )


def without_expires(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Sorted headers, a cookie's expiry date checked (within a few
    seconds: the session takes it from the clock) and left out."""
    import re
    from datetime import datetime
    from datetime import timedelta
    from datetime import timezone
    from email.utils import parsedate_to_datetime

    fixed = []
    for key, value in headers:
        found = re.search(r"Expires=([^;]+)", value)
        if key == "Set-Cookie" and found and "Max-Age=0" not in value:
            when = parsedate_to_datetime(found.group(1))
            expected = datetime.now(timezone.utc) + timedelta(days=31)
            assert abs(when - expected) < timedelta(seconds=10)
            value = value.replace(found.group(0), "Expires=*")
        fixed.append((key, value))
    return sorted(fixed)


def test_session_answers_take_the_direct_path() -> None:
    app = make_session_app(False)
    built = []
    real_init = flask.Response.__init__

    def counting_init(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        built.append(1)
        real_init(self, *args, **kwargs)

    flask.Response.__init__ = counting_init  # type: ignore[method-assign]
    try:
        status, headers, _ = wsgi_call(app, "/set/x", None)
        assert status == "200 OK" and any(k == "Set-Cookie" for k, _ in headers)
        assert built == []
        wsgi_call(app, "/permanent", None)  # an expiry date: a Response after all
        assert built == [1]
    finally:
        flask.Response.__init__ = real_init  # type: ignore[method-assign]


def test_overridden_save_session_is_called() -> None:
    from flask.sessions import SecureCookieSessionInterface

    calls = []

    class Counting(SecureCookieSessionInterface):
        def save_session(self, app, session, response):  # type: ignore[no-untyped-def]
            calls.append("class")
            super().save_session(app, session, response)

    app = make_session_app(False)
    app.session_interface = Counting()
    wsgi_call(app, "/set/a", None)
    assert calls == ["class"]

    app.session_interface = SecureCookieSessionInterface()
    original = app.session_interface.save_session
    app.session_interface.save_session = lambda *a: (calls.append("instance"), original(*a))  # type: ignore[method-assign]
    wsgi_call(app, "/set/a", None)
    assert calls == ["class", "instance"]
