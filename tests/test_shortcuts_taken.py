"""Every speed shortcut is taken where it should be, and answers as the
library it stands in for would.

Each test spies on the slow path a shortcut replaces (or on the fast
function itself) to show the shortcut is used, so switching it off fails
here; the answer is compared with Werkzeug's, ItsDangerous's or Jinja's
own. ``make mutate`` (docs/mutation.md) checks this file keeps doing so.
"""

from __future__ import annotations

import json
import typing as t

import itsdangerous
import jinja2
import pytest
from werkzeug.exceptions import HTTPException
from werkzeug.exceptions import MethodNotAllowed
from werkzeug.exceptions import NotFound
from werkzeug.routing import Map
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Response as WerkzeugResponse

import flask
from flask._accel import matcher as _matcher
from flask import matching
from flask import _plain
from flask import pipeline
from flask import sessions
from flask._accel import jinja as accel_jinja

Answer = tuple[str, list[tuple[str, str]], bytes]


def call(app: t.Any, path: str, method: str = "GET", **kw: t.Any) -> Answer:
    environ = EnvironBuilder(path=path, method=method, **kw).get_environ()
    seen: list[t.Any] = []
    body = b"".join(app(environ, lambda s, h, e=None: seen.append((s, list(h)))))
    return seen[0][0], seen[0][1], body


def werkzeug_answer(response: t.Any, path: str = "/", method: str = "GET") -> Answer:
    """What a plain Werkzeug response object sends for the same request."""
    return call(response, path, method)


def spy_plain(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Records, per request, whether the direct answer was given."""
    taken: list[bool] = []
    real = pipeline._plain_answer

    def spy(*args: t.Any) -> t.Any:
        rv = real(*args)
        taken.append(rv is not None)
        return rv

    monkeypatch.setattr(pipeline, "_plain_answer", spy)
    return taken


def make_app() -> flask.Flask:
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


# -- the direct answer (pipeline._plain_answer) ------------------------------


@pytest.mark.parametrize("method", ["GET", "HEAD"])
@pytest.mark.needs_shortcut("plain-answer")
def test_plain_str_is_answered_directly_as_werkzeug_would(
    method: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    taken = spy_plain(monkeypatch)
    ours = call(make_app(), "/text", method)
    expected = werkzeug_answer(
        WerkzeugResponse("héllo <b>", mimetype="text/html"), method=method
    )
    assert ours == expected
    assert taken == [True]


@pytest.mark.needs_shortcut("plain-answer")
def test_plain_dict_is_answered_directly_as_json(monkeypatch: pytest.MonkeyPatch) -> None:
    taken = spy_plain(monkeypatch)
    status, headers, body = call(make_app(), "/data/3")
    # Flask's documented JSON: compact, sorted keys, ASCII, a final newline.
    expected = json.dumps({"n": 3, "z": [1, 2], "a": "ü"}, sort_keys=True, separators=(",", ":")) + "\n"
    assert (status, headers, body) == werkzeug_answer(
        WerkzeugResponse(expected, mimetype="application/json")
    )
    assert taken == [True]


@pytest.mark.parametrize("method", ["GET", "HEAD"])
@pytest.mark.needs_shortcut("plain-answer")
def test_404_and_405_are_answered_directly_as_werkzeug_would(
    method: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    taken = spy_plain(monkeypatch)
    monkeypatch.setattr(_plain, "_error_pages", {})
    app = make_app()
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
def test_error_pages_are_rendered_once(monkeypatch: pytest.MonkeyPatch) -> None:
    rendered: list[int] = []
    real = HTTPException.get_body

    def spy(self: HTTPException, *args: t.Any, **kwargs: t.Any) -> str:
        rendered.append(t.cast(int, self.code))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(_plain, "_error_pages", {})
    monkeypatch.setattr(HTTPException, "get_body", spy)
    app = make_app()
    for _ in range(3):
        assert call(app, "/missing")[0] == "404 NOT FOUND"
    assert rendered == [404]


@pytest.mark.needs_shortcut("plain-answer")
def test_error_pages_with_request_data_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    pages: dict[t.Any, t.Any] = {}
    monkeypatch.setattr(_plain, "_error_pages", pages)
    app = flask.Flask(__name__)

    @app.route("/<int:n>")
    def view(n: int) -> str:
        flask.abort(404, description=f"no item {n}")

    for n in range(100):
        status, _, body = call(app, f"/{n}")
        assert status == "404 NOT FOUND" and f"no item {n}".encode() in body
    assert len(pages) == 64


@pytest.mark.needs_shortcut("plain-answer")
def test_a_request_finished_receiver_sees_a_plain_str_answer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    taken = spy_plain(monkeypatch)
    app = make_app()
    seen: list[tuple[int, bytes]] = []

    def receiver(sender: flask.Flask, response: flask.Response, **extra: t.Any) -> None:
        seen.append((response.status_code, response.get_data()))

    with flask.request_finished.connected_to(receiver, app):
        for path in ("/text", "/missing"):
            call(app, path)
    assert seen == [(200, "héllo <b>".encode()), (404, NotFound().get_body().encode())]
    assert taken == [False, False]


def test_json_response_patched_on_the_app_is_used() -> None:
    app = make_app()
    app.json.response = lambda *args, **kwargs: flask.Response("patched", 201)  # type: ignore[method-assign]
    assert call(app, "/data/1")[0::2] == ("201 CREATED", b"patched")


def test_a_custom_response_class_gets_every_answer() -> None:
    class Marked(flask.Response):
        def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
            super().__init__(*args, **kwargs)
            self.headers["X-Marked"] = "1"

    app = make_app()
    app.response_class = Marked
    for path in ("/text", "/data/1"):
        _, headers, _ = call(app, path)
        assert ("X-Marked", "1") in headers, path


# -- matching ---------------------------------------------------------------


def spy_matcher(app: flask.Flask, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    walked: list[str] = []
    matcher = app.url_map._matcher
    real = matcher.match

    def spy(domain: str, path: str, method: str, websocket: bool) -> t.Any:
        walked.append(path)
        return real(domain, path, method, websocket)

    monkeypatch.setattr(matcher, "match", spy)
    return walked


@pytest.mark.needs_shortcut("url-matcher")
def test_static_paths_are_found_without_walking_the_matcher(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = make_app()
    call(app, "/text")  # builds the index
    walked = spy_matcher(app, monkeypatch)
    assert call(app, "/text")[0] == "200 OK"
    assert call(app, "/data/4")[2] == b'{"a":"\\u00fc","n":4,"z":[1,2]}\n'
    assert walked == ["/data/4"]


@pytest.mark.needs_shortcut("url-matcher")
def test_requests_are_matched_without_binding_an_adapter(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = make_app()
    bound: list[str] = []
    real = Map.bind_to_environ

    def spy(self: Map, environ: t.Any, **kwargs: t.Any) -> t.Any:
        bound.append(environ["PATH_INFO"])
        return real(self, environ, **kwargs)

    monkeypatch.setattr(Map, "bind_to_environ", spy)
    for path in ("/text", "/data/1", "/missing", "/only-post"):
        call(app, path)
    assert bound == []


@pytest.mark.needs_shortcut("bind-cache")
def test_adapters_for_one_host_are_bound_once(monkeypatch: pytest.MonkeyPatch) -> None:
    app = make_app()

    @app.route("/link/<int:n>")
    def link(n: int) -> str:
        return flask.url_for("data", n=n, _external=True)

    bound: list[str] = []
    real = Map.bind_to_environ

    def spy(self: Map, environ: t.Any, **kwargs: t.Any) -> t.Any:
        bound.append(environ["HTTP_HOST"])
        return real(self, environ, **kwargs)

    monkeypatch.setattr(Map, "bind_to_environ", spy)
    for n, host in enumerate(["a.test", "a.test", "b.test", "a.test", "b.test"]):
        body = call(app, f"/link/{n}", base_url=f"http://{host}")[2]
        assert body == f"http://{host}/data/{n}".encode()
    assert bound == ["a.test", "b.test"]


@pytest.mark.needs_shortcut("bind-cache")
def test_the_binding_memo_is_bounded() -> None:
    app = make_app()

    @app.route("/link")
    def link() -> str:
        return flask.url_for("text", _external=True)

    for n in range(300):
        assert call(app, "/link", base_url=f"http://h{n}.test")[2] == f"http://h{n}.test/text".encode()
    assert len(app.url_map.__dict__["_flask_bindings"]) == 256


def test_hosts_are_checked_once(monkeypatch: pytest.MonkeyPatch) -> None:
    checked: list[str] = []
    real = matching._in_grammar

    def spy(host: str) -> bool:
        checked.append(host)
        return real(host)

    monkeypatch.setattr(matching, "_in_grammar", spy)
    monkeypatch.setattr(matching, "_valid_hosts", set())
    app = make_app()
    for host in ["once.test", "once.test", "twice.test", "once.test", "twice.test"]:
        assert call(app, "/text", base_url=f"http://{host}")[0] == "200 OK"
    assert checked == ["once.test", "twice.test"]


def test_the_host_memo_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    hosts: set[str] = set()
    monkeypatch.setattr(matching, "_valid_hosts", hosts)
    app = make_app()
    for n in range(1100):
        call(app, "/text", base_url=f"http://h{n}.test")
        assert 0 < len(hosts) <= 1024


def spy_walks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts walks of the compiled tree started by FastMatcher.match."""
    starts: list[int] = []
    real = _matcher._walk

    def spy(node: t.Any, parts: t.Any, i: int, *rest: t.Any) -> t.Any:
        if i == 0:
            starts.append(len(parts))
        return real(node, parts, i, *rest)

    monkeypatch.setattr(_matcher, "_walk", spy)
    return starts


@pytest.mark.parametrize("merge_slashes", [True, False])
@pytest.mark.needs_shortcut("url-matcher")
def test_a_miss_without_double_slashes_is_walked_once(
    merge_slashes: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    from werkzeug.routing import Rule
    from werkzeug.routing.exceptions import NoMatch
    from werkzeug.routing.matcher import StateMachineMatcher

    rules = [Rule("/a/<int:x>", endpoint="a", methods=["POST"]), Rule("/b", endpoint="b", methods=["PUT"])]
    ours = matching.RuleMap(rules, merge_slashes=merge_slashes)
    ours.update()
    theirs = StateMachineMatcher(merge_slashes)
    for rule in ours._rules:
        theirs.add(rule)
    theirs.update()
    starts = spy_walks(monkeypatch)
    for path in ("/a/1", "/b", "/c/d"):
        errors = []
        for matcher in (ours._matcher, theirs):
            with pytest.raises(NoMatch) as info:
                matcher.match("", path, "GET", False)
            errors.append((info.value.have_match_for, info.value.websocket_mismatch))
        assert errors[0] == errors[1]
    assert len(starts) == 3


# -- sessions and signing ----------------------------------------------------


def make_session_app() -> flask.Flask:
    app = flask.Flask(__name__)
    app.secret_key = "shortcuts"

    @app.route("/set/<v>")
    def set_value(v: str) -> str:
        flask.session["v"] = v
        return "ok"

    @app.route("/get")
    def get_value() -> str:
        return str(flask.session.get("v"))

    return app


@pytest.mark.needs_shortcut("session-signing")
def test_the_session_serializer_is_made_once(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[int] = []

    class Counting(sessions.SessionTokenSerializer):
        def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
            made.append(1)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(sessions, "SessionTokenSerializer", Counting)
    app = make_session_app()
    client = app.test_client()
    for v in "abc":
        client.get(f"/set/{v}")
        assert client.get("/get").data == v.encode()
    assert made == [1]
    app.secret_key = "rotated"
    app.config["SECRET_KEY_FALLBACKS"] = ["shortcuts"]
    assert client.get("/get").data == b"c"
    assert made == [1, 1]


def test_the_last_serializer_is_answered_first() -> None:
    class Watched(dict):  # type: ignore[type-arg]
        lookups = 0

        def get(self, *args: t.Any) -> t.Any:
            Watched.lookups += 1
            return super().get(*args)

    app = make_session_app()
    interface = sessions.SecureCookieSessionInterface()
    first = interface.get_signing_serializer(app)
    interface.__dict__["_serializers"] = Watched(interface.__dict__["_serializers"])
    assert interface.get_signing_serializer(app) is first
    assert Watched.lookups == 0


def test_the_serializer_memo_is_bounded() -> None:
    app = make_session_app()
    interface = sessions.SecureCookieSessionInterface()
    for n in range(100):
        app.secret_key = f"key {n}"
        assert interface.get_signing_serializer(app) is not None
        assert 0 < len(interface.__dict__["_serializers"]) <= 33


def test_signing_keys_are_derived_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from flask._accel import signing as _signing

    derived: list[t.Any] = []
    real = itsdangerous.Signer.derive_key

    def spy(self: itsdangerous.Signer, secret_key: t.Any = None) -> bytes:
        derived.append(secret_key)
        return real(self, secret_key)

    monkeypatch.setattr(itsdangerous.Signer, "derive_key", spy)
    monkeypatch.setattr(_signing, "_derived_keys", {})
    for _ in range(3):
        serializer = _signing.SessionTokenSerializer(["a", "b"], salt="s")
        assert serializer.loads(serializer.dumps({"x": 1})) == {"x": 1}
        assert serializer.loads(serializer.dumps({"x": 1}, salt="t"), salt="t") == {"x": 1}
    stock = itsdangerous.TimestampSigner("b", salt="s").derive_key()
    assert len(derived) == 4  # a, b for "s" and b (and a, verifying) for "t"
    assert stock in _signing._derived_keys.values()


def test_the_derived_key_memo_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    from flask._accel import signing as _signing

    keys: dict[t.Any, bytes] = {}
    monkeypatch.setattr(_signing, "_derived_keys", keys)
    for n in range(600):
        _signing.KeyCachingSigner(f"k{n}").derive_key()
        assert 0 < len(keys) <= 257


@pytest.mark.needs_shortcut("session-signing")
def test_session_tokens_are_signed_and_read_directly(monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(*args: t.Any, **kwargs: t.Any) -> t.NoReturn:
        raise AssertionError("ItsDangerous's own path was taken")

    from flask._accel import signing as _signing

    loaded: list[bytes] = []
    real = _signing.SessionTokenSerializer._load_token_payload

    def spy(self: t.Any, payload: bytes) -> t.Any:
        loaded.append(payload)
        return real(self, payload)

    monkeypatch.setattr(itsdangerous.URLSafeTimedSerializer, "dumps", forbidden)
    monkeypatch.setattr(itsdangerous.URLSafeTimedSerializer, "loads", forbidden)
    monkeypatch.setattr(_signing.SessionTokenSerializer, "_load_token_payload", spy)
    client = make_session_app().test_client()
    client.get("/set/x")
    assert client.get("/get").data == b"x"
    assert len(loaded) == 1


def test_cookie_tails_are_made_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from werkzeug.http import dump_cookie

    made: list[str] = []

    def spy(key: str, value: str = "", **kwargs: t.Any) -> str:
        made.append(value)
        return dump_cookie(key, value, **kwargs)

    monkeypatch.setattr(sessions, "dump_cookie", spy)
    monkeypatch.setattr(sessions, "_cookie_tails", {})
    app = make_session_app()
    client = app.test_client()
    headers = [client.get(f"/set/{v}").headers["Set-Cookie"] for v in "abc"]
    assert made == ["0"]
    for header in headers:
        value = header.split(";")[0].split("=", 1)[1]
        assert header == dump_cookie("session", value, path="/", httponly=True)


def test_the_cookie_tail_memo_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    tails: dict[t.Any, str] = {}
    monkeypatch.setattr(sessions, "_cookie_tails", tails)
    attrs = dict(domain=None, secure=False, samesite=None, httponly=True, partitioned=False, expires=None)
    for n in range(100):
        header = sessions._token_cookie_header("s", "v.v", {**attrs, "path": f"/p{n}"}, 4093)
        assert header == f"s=v.v; HttpOnly; Path=/p{n}"
    assert len(tails) == 64


# -- templates ----------------------------------------------------------------


def test_dict_keys_are_read_without_trying_attributes(monkeypatch: pytest.MonkeyPatch) -> None:
    tried: list[str] = []
    real = jinja2.Environment.getattr

    def spy(self: jinja2.Environment, obj: t.Any, attribute: str) -> t.Any:
        tried.append(attribute)
        return real(self, obj, attribute)

    monkeypatch.setattr(jinja2.Environment, "getattr", spy)
    app = flask.Flask(__name__)
    source = "{{ row.name }}|{{ row.missing }}|{{ row.items }}|{{ obj.real }}|{{ obj.nothing }}"

    class Obj:
        real = "attr"

    context = {"row": {"name": "<n>", "items": 1}, "obj": Obj()}
    with app.app_context():
        ours = flask.render_template_string(source, **context)
    tried_ours = list(tried)
    stock = jinja2.Environment(autoescape=True).from_string(source).render(context)
    assert ours == stock
    # Dict keys and found attributes never reach Jinja's own lookup.
    assert tried_ours == ["nothing"]


@pytest.mark.needs_shortcut("joined-template-output")
def test_contexts_are_set_up_from_plain_dicts(monkeypatch: pytest.MonkeyPatch) -> None:
    merged: list[int] = []
    keyed: list[int] = []
    real_merge, real_keys = accel_jinja._merge_maps, accel_jinja._keys_of_maps

    def merge(maps: t.Any) -> t.Any:
        merged.append(len(maps))
        return real_merge(maps)

    def keys(maps: t.Any) -> t.Any:
        keyed.append(len(maps))
        return real_keys(maps)

    monkeypatch.setattr(accel_jinja, "_merge_maps", merge)
    monkeypatch.setattr(accel_jinja, "_keys_of_maps", keys)
    app = flask.Flask(__name__)
    app.jinja_env.globals["site"] = "S"
    with app.test_request_context("/"):
        out = flask.render_template_string(
            "{{ site }}{{ who }}{% set site = 'local' %}{{ site }}{{ self._TemplateReference__context.parent|length > 3 }}",
            who="<w>",
        )
    assert out == "S&lt;w&gt;localTrue"
    assert merged and keyed


@pytest.mark.parametrize("n_maps", [1, 2, 3, 4])
def test_merged_maps_equal_the_chainmap(n_maps: int) -> None:
    from collections import ChainMap

    maps = [{"k": i, f"only{i}": i, "shared": i * 10} for i in range(n_maps)]
    chain = ChainMap(*maps)
    assert accel_jinja._merge_maps(maps) == dict(chain)
    assert list(accel_jinja._merge_maps(maps)) == list(dict(chain))
    assert accel_jinja._keys_of_maps(maps) == set(chain)


def test_other_mappings_keep_jinjas_context_setup() -> None:
    from collections import ChainMap

    class Mine(ChainMap):  # type: ignore[type-arg]
        pass

    assert accel_jinja._dict_maps(ChainMap({}, {})) is not None
    assert accel_jinja._dict_maps(Mine({}, {})) is None
    assert accel_jinja._dict_maps(ChainMap({}, Mine())) is None
    assert accel_jinja._dict_maps({"a": 1}) is None


def test_cookie_values_that_need_quoting_go_through_set_cookie() -> None:
    # A subclass may sign with any serializer; a value that is not a plain
    # token must be written (quoted) exactly as dump_cookie writes it.
    from werkzeug.http import dump_cookie

    class Plain(sessions.SecureCookieSessionInterface):
        def get_signing_serializer(self, app: flask.Flask) -> t.Any:
            return itsdangerous.Serializer("k", serializer=json)

    app = make_session_app()
    app.session_interface = Plain()
    client = app.test_client()
    header = client.get("/set/a b").headers["Set-Cookie"]
    value = itsdangerous.Serializer("k", serializer=json).dumps({"v": "a b"})
    assert header == dump_cookie("session", value, path="/", httponly=True)
    assert header.startswith('session="')
    assert client.get("/get").data == b"a b"


@pytest.mark.needs_shortcut("markup-escape")
def test_common_values_are_escaped_without_markupsafes_escape(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from markupsafe import Markup
    from markupsafe import escape

    slow: list[t.Any] = []

    def spy(value: t.Any) -> Markup:
        slow.append(value)
        return escape(value)

    monkeypatch.setattr(accel_jinja, "_stock_escape", spy)
    values: list[t.Any] = ["<a & 'b'>", "", 0, -12, 10**30, Markup("<b>"), 1.5, None]
    slow_escape, slow_text = [], []
    for value in values:
        slow.clear()
        got = accel_jinja._escape(value)
        slow_escape.append(bool(slow))
        assert got == escape(value) and type(got) is Markup
        slow.clear()
        text = accel_jinja._escape_text(value)
        slow_text.append(bool(slow))
        assert text == str(escape(value))
    # str, int and Markup are escaped directly; _escape_text leaves Markup
    # (already safe, but its own __html__ may differ) to MarkupSafe.
    assert slow_escape == [False] * 6 + [True, True]
    assert slow_text == [False] * 5 + [True, True, True]


@pytest.mark.needs_shortcut("markup-escape")
def test_fast_escape_only_replaces_markupsafes_own(monkeypatch: pytest.MonkeyPatch) -> None:
    from markupsafe import escape

    def other(value: t.Any) -> str:
        return "other"

    namespace: dict[str, t.Any] = {"escape": other}
    accel_jinja._install_fast_escape(namespace)
    assert namespace == {"escape": other}
    namespace = {}
    accel_jinja._install_fast_escape(namespace)
    assert namespace == {}
    namespace = {"escape": escape}
    accel_jinja._install_fast_escape(namespace)
    assert namespace == {"escape": accel_jinja._escape}
    # A MarkupSafe without the inner escaping function keeps its escape.
    monkeypatch.setattr(accel_jinja, "_inner", None)  # the markup-escape shortcut off
    namespace = {"escape": escape}
    accel_jinja._install_fast_escape(namespace)
    assert namespace == {"escape": escape}


@pytest.mark.parametrize(
    ("source", "joined"),
    [
        ("{{ a }}", False),
        *(pytest.param(source, True, marks=pytest.mark.needs_shortcut("joined-template-output"))
          for source in ("x{{ a }}", "{{ a }}{{ b }}", "<p>{{ a }}</p>")),
    ],
)
def test_output_of_two_or_more_pieces_is_joined(source: str, joined: bool) -> None:
    app = flask.Flask(__name__)
    env = app.jinja_env
    code = env.compile(source, raw=True)
    assert ("_flask_join.extend((" in code) is joined
    # A single piece is yielded as Jinja yields it.
    assert ("yield _flask_join" in code) is joined
    context = {"a": "<1>", "b": 2}
    assert env.from_string(source).render(context) == jinja2.Environment(
        autoescape=True
    ).from_string(source).render(context)


@pytest.mark.needs_shortcut("joined-template-output")
def test_decorated_plain_functions_take_the_direct_call(monkeypatch: pytest.MonkeyPatch) -> None:
    import functools

    from jinja2.runtime import Context

    def plain(x: t.Any) -> str:
        return f"p{x}"

    @functools.wraps(plain)
    def wrapped(x: t.Any) -> str:  # a __dict__ with __wrapped__, no marker
        return plain(x)

    slow: list[t.Any] = []
    real = Context.call

    def spy(self: Context, obj: t.Any, *args: t.Any, **kwargs: t.Any) -> t.Any:
        slow.append(obj)
        return real(self, obj, *args, **kwargs)

    monkeypatch.setattr(Context, "call", spy)
    app = flask.Flask(__name__)
    app.jinja_env.globals["wrapped"] = wrapped
    with app.app_context():
        out = flask.render_template_string("{{ wrapped(1) }}{% for i in [2] %}{{ wrapped(i) }}{% endfor %}")
    assert out == "p1p2"
    assert slow == []


def test_the_direct_call_stays_out_of_the_debuggers_traceback() -> None:
    # Werkzeug's debugger hides frames that set __traceback_hide__, as
    # Jinja's own Context.call does.
    from werkzeug.debug.tbtools import DebugTraceback

    def fails() -> str:
        raise LookupError("from the template")

    def frames(env: jinja2.Environment) -> list[str]:
        env.globals["fails"] = fails
        with pytest.raises(LookupError) as info:
            env.from_string("{{ fails() }}").render()
        return [
            frame.name for frame in DebugTraceback(info.value).all_frames
            if "jinja2" in frame.filename or frame.filename.endswith(("templating.py", "_accel/jinja.py"))
        ]

    app = flask.Flask(__name__)
    ours, stock = frames(app.jinja_env), frames(jinja2.Environment())
    assert ours == stock
    assert "call" not in ours


@pytest.mark.parametrize("flag", [True, False])
def test_autoescape_decided_at_render_time_matches_jinja(flag: bool) -> None:
    source = "{% autoescape flag %}<{{ x }}|{{ y }}>{% endautoescape %}"
    app = flask.Flask(__name__)
    context = {"flag": flag, "x": "<b>", "y": 3}
    ours = app.jinja_env.from_string(source)
    stock = jinja2.Environment(autoescape=True).from_string(source)
    assert ours.render(context) == stock.render(context)
    assert list(ours.generate(context)) == list(stock.generate(context))


def test_streamed_templates_get_the_same_context_and_signals_as_rendered_ones() -> None:
    app = flask.Flask(__name__)

    @app.context_processor
    def extra() -> dict[str, str]:
        return {"extra": "from a context processor"}

    seen: list[tuple[str, str]] = []

    def before(sender: flask.Flask, template: t.Any, context: dict[str, t.Any], **kw: t.Any) -> None:
        seen.append(("before", context["extra"]))

    def after(sender: flask.Flask, template: t.Any, context: dict[str, t.Any], **kw: t.Any) -> None:
        seen.append(("after", context["extra"]))

    source = "{{ extra }}|{{ request.path }}|{{ v }}"
    with flask.before_render_template.connected_to(before, app), flask.template_rendered.connected_to(after, app):
        with app.test_request_context("/here"):
            rendered = flask.render_template_string(source, v=1)
            streamed = "".join(flask.stream_template_string(source, v=1))
    assert rendered == streamed == "from a context processor|/here|1"
    assert seen == [("before", "from a context processor"), ("after", "from a context processor")] * 2


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
    make: t.Callable[[], NotFound], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_plain, "_error_pages", {})
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
def test_error_status_lines_are_werkzeugs(code: int, monkeypatch: pytest.MonkeyPatch) -> None:
    # Werkzeug's response names the status by its code, whatever the
    # exception class calls itself.
    monkeypatch.setattr(_plain, "_error_pages", {})

    class Custom(HTTPException):
        pass

    Custom.code = code
    app = flask.Flask(__name__)

    @app.route("/")
    def view() -> str:
        raise Custom()

    assert call(app, "/") == werkzeug_answer(Custom().get_response(EnvironBuilder().get_environ()))


# -- hooks, sessions and teardown on the request path -------------------------


def test_hook_scopes_are_found_once_per_rule() -> None:
    app = flask.Flask(__name__)
    bp = flask.Blueprint("bp", __name__)
    ran: list[str] = []
    bp.before_request(lambda: ran.append("bp") and None)
    app.before_request(lambda: ran.append("app") and None)
    bp.add_url_rule("/b", "b", lambda: "b")
    app.register_blueprint(bp)
    assert call(app, "/b")[2] == b"b"
    assert ran == ["app", "bp"]
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == "bp.b")
    assert rule.__dict__["_flask_scopes"] == (None, "bp")
    # The remembered scopes are what the next request uses.
    rule._flask_scopes = (None,)  # type: ignore[attr-defined]
    ran.clear()
    call(app, "/b")
    assert ran == ["app"]


def spy_open_session(app: flask.Flask, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    opened: list[str] = []
    interface = app.session_interface
    real = interface.open_session

    def spy(app: flask.Flask, request: flask.Request) -> t.Any:
        opened.append(request.path)
        return real(app, request)

    monkeypatch.setattr(interface, "open_session", spy)
    return opened


@pytest.mark.parametrize(
    ("cookie", "opened"),
    [(None, False), ("other=1", False), ("session=junk", True)],
)
def test_an_untouched_session_is_opened_only_for_a_session_cookie(
    cookie: str | None, opened: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_session_app()
    app.add_url_rule("/plain", "plain", lambda: "plain")
    seen = spy_open_session(app, monkeypatch)
    headers = {"Cookie": cookie} if cookie else {}
    status, sent, body = call(app, "/plain", headers=headers)
    assert (status, body) == ("200 OK", b"plain")
    assert not any(k in ("Set-Cookie", "Vary") for k, _ in sent)
    assert seen == (["/plain"] if opened else [])


def test_teardown_is_skipped_when_nothing_listens(monkeypatch: pytest.MonkeyPatch) -> None:
    torn: list[t.Any] = []
    real = pipeline._teardown

    def spy(app: t.Any, run: t.Any, funcs: t.Any, signal: t.Any, exc: t.Any) -> t.Any:
        torn.append(signal.name)
        return real(app, run, funcs, signal, exc)

    monkeypatch.setattr(pipeline, "_teardown", spy)
    call(make_app(), "/text")
    assert torn == []
    app = make_app()
    app.teardown_request(lambda exc: None)
    app.teardown_appcontext(lambda exc: None)
    call(app, "/text")
    assert torn == ["request-tearing-down", "appcontext-tearing-down"]


@pytest.mark.parametrize("error", [KeyboardInterrupt, SystemExit, GeneratorExit])
def test_base_exceptions_from_a_view_propagate_unchanged(error: type[BaseException]) -> None:
    app = flask.Flask(__name__)
    torn: list[t.Any] = []
    app.teardown_request(lambda exc: torn.append(type(exc)))

    @app.route("/")
    def view() -> str:
        raise error("stop")

    environ = EnvironBuilder().get_environ()
    with pytest.raises(error):
        app(environ, lambda s, h, e=None: None)
    # The contexts are still torn down, told of the error.
    assert torn == [error]


def test_the_test_client_keeps_the_last_requests_contexts() -> None:
    app = make_app()
    with app.test_client() as client:
        assert client.get("/text?x=1").status_code == 200
        assert flask.request.args["x"] == "1"
        assert flask.current_app._get_current_object() is app  # type: ignore[attr-defined]
    assert not flask.has_request_context()


@pytest.mark.parametrize("ignore", [True, False])
def test_ignored_errors_are_not_passed_to_teardown(ignore: bool) -> None:
    asked: list[t.Any] = []

    class App(flask.Flask):
        def should_ignore_error(self, error: BaseException | None) -> bool:
            asked.append(type(error))
            return ignore

    app = App(__name__)
    app.add_url_rule("/fine", "fine", lambda: "fine")
    torn: list[t.Any] = []
    app.teardown_request(lambda exc: torn.append(exc))
    app.teardown_appcontext(lambda exc: torn.append(exc))

    @app.route("/")
    def view() -> str:
        raise LookupError("failed")

    assert call(app, "/fine")[0] == "200 OK"
    torn.clear()
    assert call(app, "/")[0] == "500 INTERNAL SERVER ERROR"
    assert [type(exc) for exc in torn] == ([type(None)] * 2 if ignore else [LookupError] * 2)
    # Asked only about a real error, as Flask does.
    assert asked == [LookupError]


def test_a_json_provider_subclass_makes_dict_responses() -> None:
    from flask.json.provider import DefaultJSONProvider

    class Stamped(DefaultJSONProvider):
        def response(self, *args: t.Any, **kwargs: t.Any) -> flask.Response:
            response = super().response(*args, **kwargs)
            response.headers["X-Provider"] = "stamped"
            return response

    app = make_app()
    app.json = Stamped(app)
    status, headers, body = call(app, "/data/2")
    assert ("X-Provider", "stamped") in headers
    assert json.loads(body) == {"n": 2, "z": [1, 2], "a": "ü"}


def test_a_custom_session_interface_saves_on_plain_answers() -> None:
    saved: list[dict[str, t.Any]] = []

    class Memory(sessions.SessionInterface):
        def open_session(self, app: flask.Flask, request: flask.Request) -> t.Any:
            return sessions.SecureCookieSession({"seen": request.path})

        def save_session(self, app: flask.Flask, session: t.Any, response: flask.Response) -> None:
            saved.append(dict(session))
            response.headers["X-Saved"] = "1"

    app = make_app()
    app.session_interface = Memory()
    for path, status in (("/text", "200 OK"), ("/data/1", "200 OK"), ("/missing", "404 NOT FOUND")):
        answer = call(app, path)
        assert answer[0] == status
        assert ("X-Saved", "1") in answer[1], path
    assert saved == [{"seen": "/text"}, {"seen": "/data/1"}, {"seen": "/missing"}]


def test_a_before_request_hook_that_returns_ends_the_request() -> None:
    app = make_app()
    ran: list[str] = []

    @app.before_request
    def first() -> str | None:
        ran.append("first")
        return "stopped" if flask.request.args.get("stop") else None

    @app.before_request
    def second() -> None:
        ran.append("second")

    assert call(app, "/text?stop=1")[0::2] == ("200 OK", b"stopped")
    assert ran == ["first"]
    ran.clear()
    assert call(app, "/text")[2] == "héllo <b>".encode()
    assert ran == ["first", "second"]


def test_without_a_cookie_header_cookies_are_never_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(self: flask.Request) -> t.NoReturn:
        raise AssertionError("request.cookies was built")

    app = make_session_app()
    app.add_url_rule("/plain", "plain", lambda: "plain")
    monkeypatch.setattr(flask.Request, "cookies", property(forbidden))
    assert call(app, "/plain")[0::2] == ("200 OK", b"plain")


def test_automatic_options_only_for_rules_that_want_them() -> None:
    app = flask.Flask(__name__)

    @app.route("/own", methods=["GET", "OPTIONS"], provide_automatic_options=False)
    def own() -> str:
        return f"own {flask.request.method}"

    app.add_url_rule("/auto", "auto", lambda: "auto")
    assert call(app, "/own", "OPTIONS")[0::2] == ("200 OK", b"own OPTIONS")
    status, headers, body = call(app, "/auto", "OPTIONS")
    assert (status, body) == ("200 OK", b"")
    assert sorted(dict(headers)["Allow"].split(", ")) == ["GET", "HEAD", "OPTIONS"]


def test_a_failing_after_request_hook_ends_in_a_logged_500(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from werkzeug.exceptions import InternalServerError

    app = make_app()

    @app.after_request
    def broken(response: flask.Response) -> flask.Response:
        raise RuntimeError("hook failed")

    with caplog.at_level("ERROR"):
        answer = call(app, "/text")
    assert answer == werkzeug_answer(InternalServerError().get_response())
    messages = [record.getMessage() for record in caplog.records]
    # Once as the request's error, once while finalizing its error page.
    assert "Request finalizing failed with an error while handling an error" in messages


def test_teardown_signals_are_sent_without_teardown_functions() -> None:
    app = make_app()
    sent: list[str] = []

    def request_down(sender: flask.Flask, exc: t.Any = None, **kw: t.Any) -> None:
        sent.append("request")

    def app_down(sender: flask.Flask, exc: t.Any = None, **kw: t.Any) -> None:
        sent.append("app")

    with flask.request_tearing_down.connected_to(request_down, app), flask.appcontext_tearing_down.connected_to(app_down, app):
        call(app, "/text")
    assert sent == ["request", "app"]


class FromTeardown(Exception):
    pass


class FromSignal(Exception):
    pass


@pytest.mark.parametrize("failing", [("func",), ("signal",), ("func", "signal")])
def test_a_failing_teardown_runs_the_rest_and_raises_the_first_error(failing: tuple[str, ...]) -> None:
    app = make_app()
    ran: list[str] = []

    @app.teardown_request
    def teardown(exc: t.Any) -> None:
        ran.append("func")
        if "func" in failing:
            raise FromTeardown()

    def receiver(sender: flask.Flask, exc: t.Any = None, **kw: t.Any) -> None:
        ran.append("signal")
        if "signal" in failing:
            raise FromSignal()

    expected = FromTeardown if "func" in failing else FromSignal
    with flask.request_tearing_down.connected_to(receiver, app):
        with pytest.raises(expected):
            call(app, "/text")
    assert ran == ["func", "signal"]
