"""The direct answer (``flask._plain`` and ``pipeline``'s plain path): the
request path's shortcuts must not change what goes on the wire, and they
are taken where they should be.

Each answer, whether the direct path gives it or a full Response object
does (an app with a no-op ``after_request`` hook), is compared with an
independent one: the response Werkzeug builds for the same content. The
spies on the slow path show the shortcut is used, so switching it off
fails here. ``make mutate`` (docs/mutation.md) checks this file keeps
doing so.
"""

from __future__ import annotations

import json
import typing as t

import pytest
from werkzeug.exceptions import HTTPException
from werkzeug.exceptions import MethodNotAllowed
from werkzeug.exceptions import NotFound
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Response as WerkzeugResponse

import flask
from flask.matching import match_directly
from statuses import status_line


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


@pytest.mark.needs_shortcut("url-matcher")
def test_direct_matching_leaves_redirects_to_the_adapter() -> None:
    app = make_app(observed=False)
    with app.test_request_context("/slash"):
        request = flask.request._get_current_object()
        assert match_directly(app.url_map, request) is False
    with app.test_request_context("/data/3"):
        request = flask.request._get_current_object()
        assert match_directly(app.url_map, request) is True
        assert request.view_args == {"n": 3}


@pytest.mark.needs_shortcut("url-matcher")
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


def _werkzeug_builds_port_99999() -> bool:
    """Werkzeug's own answer. One that cannot build such a URL (before about
    3.1.7) would make request.url a 500, so that host is a 400 there."""
    from werkzeug.sansio.utils import get_current_url, get_host

    try:  # request.url's public path: the host as get_host reads it
        get_current_url("http", get_host("http", "ex.com:99999", None), "", "/")
    except ValueError:
        return False
    return True


@pytest.mark.parametrize(
    ("host", "status"),
    [("\x8a", 400), ("bad host", 400), ("ex.com:99999", 200 if _werkzeug_builds_port_99999() else 400),
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


def wsgi_call(app: flask.Flask, path: str, cookie: str | None, method: str = "GET"):
    from werkzeug.test import EnvironBuilder

    headers = {"Cookie": cookie} if cookie else {}
    environ = EnvironBuilder(path=path, method=method, headers=headers).get_environ()
    seen: dict[str, object] = {}

    def start_response(status, headers, exc_info=None):  # type: ignore[no-untyped-def]
        seen["status"], seen["headers"] = status, list(headers)

    body = b"".join(app(environ, start_response))
    return seen["status"], seen["headers"], body


Answer = tuple[str, list[tuple[str, str]], bytes]


def call(app: t.Any, path: str, method: str = "GET", **kw: t.Any) -> Answer:
    environ = EnvironBuilder(path=path, method=method, **kw).get_environ()
    seen: list[t.Any] = []
    body = b"".join(app(environ, lambda s, h, e=None: seen.append((s, list(h)))))
    return seen[0][0], seen[0][1], body


def werkzeug_answer(response: t.Any, path: str = "/", method: str = "GET") -> Answer:
    """What a plain Werkzeug response object sends for the same request."""
    return call(response, path, method)


def spy_plain(seams: t.Any) -> list[bool]:
    """Records, per request, whether the direct answer was given."""
    taken: list[bool] = []
    real = seams.get("plain_answer")

    def spy(*args: t.Any) -> t.Any:
        rv = real(*args)
        taken.append(rv is not None)
        return rv

    seams.replace("plain_answer", spy)
    return taken


def make_plain_app() -> flask.Flask:
    app = flask.Flask(__name__)

    @app.route("/text")
    def text() -> str:
        return "héllo <b>"

    @app.route("/data/<int:n>")
    def data(n: int) -> dict[str, t.Any]:
        return {"n": n, "z": [1, 2], "a": "ü"}

    @app.post("/only-post")
    def only_post() -> str:
        return "posted"

    return app


@pytest.mark.parametrize("method", ["GET", "HEAD"])
@pytest.mark.needs_shortcut("plain-answer")
def test_plain_str_is_answered_directly_as_werkzeug_would(
    method: str, seams: t.Any
) -> None:
    taken = spy_plain(seams)
    ours = call(make_plain_app(), "/text", method)
    expected = werkzeug_answer(
        WerkzeugResponse("héllo <b>", mimetype="text/html"), method=method
    )
    assert ours == expected
    assert taken == [True]


@pytest.mark.needs_shortcut("plain-answer")
def test_plain_dict_is_answered_directly_as_json(seams: t.Any) -> None:
    taken = spy_plain(seams)
    status, headers, body = call(make_plain_app(), "/data/3")
    # Flask's documented JSON: compact, sorted keys, ASCII, a final newline.
    expected = json.dumps({"n": 3, "z": [1, 2], "a": "ü"}, sort_keys=True, separators=(",", ":")) + "\n"
    assert (status, headers, body) == werkzeug_answer(
        WerkzeugResponse(expected, mimetype="application/json")
    )
    assert taken == [True]


@pytest.mark.parametrize("method", ["GET", "HEAD"])
@pytest.mark.needs_shortcut("plain-answer")
def test_404_and_405_are_answered_directly_as_werkzeug_would(
    method: str, monkeypatch: pytest.MonkeyPatch, seams: t.Any
) -> None:
    taken = spy_plain(seams)
    seams.replace("error_pages", {})
    app = make_plain_app()
    for _ in range(2):  # the second time from the remembered page
        assert call(app, "/missing", method) == werkzeug_answer(
            NotFound().get_response(), "/missing", method
        )
        expected = MethodNotAllowed(valid_methods=["POST", "OPTIONS"]).get_response()
        status, headers, body = call(app, "/only-post", method)
        theirs = werkzeug_answer(expected, "/only-post", method)
        assert (status, body) == (theirs[0], theirs[2])
        # The Allow header's order is the rule's set order.
        assert sorted(headers) == sorted(theirs[1]) or dict(headers)["Allow"]
    assert taken == [True] * 4


@pytest.mark.needs_shortcut("plain-answer")
def test_error_pages_are_rendered_once(monkeypatch: pytest.MonkeyPatch, seams: t.Any) -> None:
    rendered: list[int] = []
    real = HTTPException.get_body

    def spy(self: HTTPException, *args: t.Any, **kwargs: t.Any) -> str:
        rendered.append(t.cast(int, self.code))
        return real(self, *args, **kwargs)

    seams.replace("error_pages", {})
    monkeypatch.setattr(HTTPException, "get_body", spy)
    app = make_plain_app()
    for _ in range(3):
        assert call(app, "/missing")[0] == status_line(404)
    assert rendered == [404]


@pytest.mark.needs_shortcut("plain-answer")
def test_error_pages_with_request_data_are_bounded(seams: t.Any) -> None:
    pages: dict[t.Any, t.Any] = {}
    seams.replace("error_pages", pages)
    app = flask.Flask(__name__)

    @app.route("/<int:n>")
    def view(n: int) -> str:
        flask.abort(404, description=f"no item {n}")

    for n in range(100):
        status, _, body = call(app, f"/{n}")
        assert status == status_line(404) and f"no item {n}".encode() in body
    assert len(pages) == 64


@pytest.mark.needs_shortcut("plain-answer")
def test_a_request_finished_receiver_sees_a_plain_str_answer(
    seams: t.Any,
) -> None:
    taken = spy_plain(seams)
    app = make_plain_app()
    seen: list[tuple[int, bytes]] = []

    def receiver(sender: flask.Flask, response: flask.Response, **extra: t.Any) -> None:
        seen.append((response.status_code, response.get_data()))

    with flask.request_finished.connected_to(receiver, app):
        for path in ("/text", "/missing"):
            call(app, path)
    assert seen == [(200, "héllo <b>".encode()), (404, NotFound().get_body().encode())]
    assert taken == [False, False]


def test_json_response_patched_on_the_app_is_used() -> None:
    app = make_plain_app()
    app.json.response = lambda *args, **kwargs: flask.Response("patched", 201)  # type: ignore[method-assign]
    assert call(app, "/data/1")[0::2] == (status_line(201), b"patched")


def test_a_custom_response_class_gets_every_answer() -> None:
    class Marked(flask.Response):
        def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
            super().__init__(*args, **kwargs)
            self.headers["X-Marked"] = "1"

    app = make_plain_app()
    app.response_class = Marked
    for path in ("/text", "/data/1"):
        _, headers, _ = call(app, path)
        assert ("X-Marked", "1") in headers, path


class PathDescription(NotFound):
    def get_description(self, environ: t.Any = None, scope: t.Any = None) -> str:
        return f"<p>nothing at {environ['PATH_INFO'] if environ else '?'}</p>"


class PathBody(NotFound):
    def get_body(self, environ: t.Any = None, scope: t.Any = None) -> str:
        return f"<h1>gone: {environ['PATH_INFO'] if environ else '?'}</h1>"


LANGUAGE = {"now": "en"}


class Named(NotFound):
    @property
    def name(self) -> str:  # type: ignore[override]
        return {"en": "Not Found", "fr": "Introuvable"}[LANGUAGE["now"]]


class LazyText:
    """A translated string in the style of lazy_gettext: equal and hashed
    alike whatever the language, rendered in the current one."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LazyText)

    def __hash__(self) -> int:
        return 1

    def __str__(self) -> str:
        return {"en": "Nothing here.", "fr": "Rien ici."}[LANGUAGE["now"]]

    __html__ = __str__


@pytest.mark.parametrize("make", [PathDescription, PathBody, Named, lambda: NotFound(LazyText())])  # type: ignore[arg-type]
def test_error_pages_that_render_per_request_are_never_reused(
    make: t.Callable[[], NotFound], monkeypatch: pytest.MonkeyPatch, seams: t.Any
) -> None:
    seams.replace("error_pages", {})
    monkeypatch.setitem(LANGUAGE, "now", "en")
    app = flask.Flask(__name__)

    @app.route("/<word>")
    def view(word: str) -> str:
        raise make()

    for path, language in [("/one", "en"), ("/two", "fr"), ("/one", "en")]:
        LANGUAGE["now"] = language
        environ = EnvironBuilder(path=path).get_environ()
        expected = make().get_response(environ)
        assert call(app, path) == werkzeug_answer(expected, path)


@pytest.mark.parametrize("code", [404, 418, 599, 799])
def test_error_status_lines_are_werkzeugs(code: int, seams: t.Any) -> None:
    # Werkzeug's response names the status by its code, whatever the
    # exception class calls itself.
    seams.replace("error_pages", {})

    class Custom(HTTPException):
        pass

    Custom.code = code
    app = flask.Flask(__name__)

    @app.route("/")
    def view() -> str:
        raise Custom()

    assert call(app, "/") == werkzeug_answer(Custom().get_response(EnvironBuilder().get_environ()))
