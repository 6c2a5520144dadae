"""flask.matching.bind_request builds the adapters Werkzeug builds.

Requests matched by flask.matching (directly, or by the adapter it falls
back to) end where Werkzeug's own ``MapAdapter.match`` sends them, on a map
with every kind of rule and a seeded mix of paths, methods and headers.
"""

from __future__ import annotations

import random
import typing as t

import pytest
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map
from werkzeug.routing import RequestRedirect
from werkzeug.routing import Rule
from werkzeug.test import EnvironBuilder

import flask
from flask import matching
from flask.matching import RuleMap
from flask.matching import bind_request


def environ(path: str = "/", **overrides: t.Any) -> dict[str, t.Any]:
    env = EnvironBuilder(path=path).get_environ()
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


HOSTS = [
    {},
    {"wsgi.url_scheme": "https"},
    {"HTTP_HOST": "Example.COM:8080"},
    {"HTTP_HOST": None, "SERVER_NAME": "srv.test", "SERVER_PORT": "443", "wsgi.url_scheme": "https"},
    {"HTTP_HOST": "ws.test", "HTTP_CONNECTION": "keep-alive, Upgrade", "HTTP_UPGRADE": "websocket"},
    {"SCRIPT_NAME": "/caf\u00c3\u00a9/app"},  # latin-1 view of UTF-8 bytes
    {"HTTP_HOST": "b\u00fccher.test"},
]


REQUESTS = [
    {"PATH_INFO": "/a/b", "QUERY_STRING": "x=1", "REQUEST_METHOD": "POST"},
    {"PATH_INFO": "/\u00c3\u00a9t\u00c3\u00a9", "QUERY_STRING": None},
    {"PATH_INFO": None, "QUERY_STRING": "q=%20&r=\u00c3\u00a9"},
]


def fresh_map() -> RuleMap:
    return RuleMap([Rule("/a/<x>", endpoint="a")])


@pytest.mark.parametrize("server_name", [None, "example.com:8080", "srv.test:443"])
@pytest.mark.parametrize("subdomain", ["", "api"])
@pytest.mark.needs_shortcut("bind-cache")
def test_adapters_equal_werkzeugs(server_name, subdomain) -> None:
    url_map = fresh_map()  # one map: bindings for every host side by side
    for _ in range(2):  # the first round binds, the second reuses
        for host in HOSTS:
            for request in [{}, *REQUESTS]:
                env = environ(**{**host, **request})
                ours = bind_request(url_map, env, server_name, subdomain)
                theirs = url_map.bind_to_environ(
                    env, server_name=server_name, subdomain=subdomain
                )
                assert ours is not None
                assert vars(ours) == vars(theirs), (host, request)
    assert len(url_map.__dict__["_flask_bindings"]) == len(HOSTS)


@pytest.mark.needs_shortcut("bind-cache")
def test_bad_host_raises_like_werkzeug() -> None:
    env = environ(HTTP_HOST="a" * 70 + ".test")  # a DNS label over 63
    url_map = fresh_map()
    with pytest.raises(Exception) as theirs:
        url_map.bind_to_environ(env, server_name=None, subdomain="")
    with pytest.raises(type(theirs.value)):
        bind_request(url_map, env, None, "")
    assert not url_map.__dict__.get("_flask_bindings")


def test_inferred_subdomains_and_other_maps_are_left_to_the_caller() -> None:
    class OwnMap(Map):
        def bind(self, *args: t.Any, **kwargs: t.Any) -> t.Any:
            return super().bind(*args, **kwargs)

    assert bind_request(fresh_map(), environ(), "localhost", None) is None
    assert bind_request(OwnMap(), environ(), None, "") is None


def test_app_urls_follow_the_request_host() -> None:
    app = flask.Flask(__name__)

    @app.route("/item/<int:n>")
    def item(n: int) -> str:
        return flask.url_for("item", n=n, _external=True)

    client = app.test_client()
    assert client.get("/item/1", base_url="http://one.test").text == "http://one.test/item/1"
    assert client.get("/item/2", base_url="https://two.test/root").text == (
        "https://two.test/root/item/2"
    )
    assert client.get("/item/3", base_url="http://one.test").text == "http://one.test/item/3"


RULES: list[dict[str, t.Any]] = [
    {"string": "/", "endpoint": "index"},
    {"string": "/a", "endpoint": "a"},
    {"string": "/dir/", "endpoint": "dir"},
    {"string": "/items/new", "endpoint": "new", "methods": ["POST"]},
    {"string": "/items/<name>", "endpoint": "item"},
    {"string": "/int/<int:n>", "endpoint": "int"},
    {"string": "/path/<path:p>", "endpoint": "path"},
    {"string": "/page", "endpoint": "page", "defaults": {"n": 1}},
    {"string": "/page/<int:n>", "endpoint": "page"},
    {"string": "/home", "endpoint": "index", "alias": True},
    {"string": "/start", "endpoint": "index"},
    {"string": "/sub", "endpoint": "sub", "subdomain": "api"},
    # The only rule of its endpoint: Werkzeug redirects it to itself.
    {"string": "/lonely", "endpoint": "lonely", "alias": True},
    {"string": "/old", "endpoint": "old", "redirect_to": "/a"},
    {"string": "/ws", "endpoint": "ws", "websocket": True},
    {"string": "/ws", "endpoint": "ws_http"},
    {"string": "/only-ws", "endpoint": "only_ws", "websocket": True},
    {"string": "/strict", "endpoint": "strict", "strict_slashes": False},
    {"string": "/café/<x>", "endpoint": "cafe"},
    {"string": "/put", "endpoint": "put", "methods": ["PUT", "DELETE"]},
    {"string": "/static-or/<x>", "endpoint": "dyn"},
    {"string": "/static-or/fixed", "endpoint": "fixed", "methods": ["GET"]},
]


PATHS = [
    "", "/", "/a", "/a/", "//a", "/dir", "/dir/", "/dir//", "/items/new", "/items/x",
    "/items/", "/int/5", "/int/x", "/int/-1", "/path/a/b/c", "/path/", "/page", "/page/1",
    "/page/2", "/home", "/start", "/sub", "/lonely", "/items/<name>", "/int/<int:n>", "/old", "/ws", "/only-ws", "/strict", "/strict/", "/caf\xc3\xa9/1",
    "/café/1", "/put", "/static-or/fixed", "/static-or/other", "/missing", "/a/../a",
    "/%61", "///", "/items//x",
]


METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "get"]


UPGRADES: list[dict[str, str]] = [
    {}, {"Upgrade": "websocket", "Connection": "Upgrade"}, {"Upgrade": "h2c", "Connection": "Upgrade"},
]


WEBSOCKET_ENDPOINTS = {spec["endpoint"] for spec in RULES if spec.get("websocket")}


def make_map(**options: t.Any) -> list[Rule]:
    return [Rule(**spec) for spec in RULES]


def werkzeug_answer(url_map: Map, environ: dict[str, t.Any]) -> t.Any:
    adapter = url_map.bind_to_environ(environ)
    try:
        rule, args = adapter.match(return_rule=True)
    except RequestRedirect as e:
        return ("redirect", e.new_url)
    except HTTPException as e:
        return ("error", e.code)
    return ("ok", rule.endpoint, args)


def make_app(redirect_defaults: bool, merge_slashes: bool) -> flask.Flask:
    app = flask.Flask(__name__)
    app.url_map.redirect_defaults = redirect_defaults
    app.url_map.merge_slashes = merge_slashes
    for rule in make_map():
        app.url_map.add(rule)
        app.view_functions.setdefault(rule.endpoint, lambda **kw: "")
    return app


def flask_answer(app: flask.Flask, environ: dict[str, t.Any]) -> t.Any:
    with app.request_context(environ):
        request = flask.request
        error = request.routing_exception
        if isinstance(error, RequestRedirect):
            return ("redirect", error.new_url)
        if error is not None:
            return ("error", t.cast(HTTPException, error).code)
        assert request.url_rule is not None
        return ("ok", request.url_rule.endpoint, request.view_args)


@pytest.mark.parametrize("redirect_defaults", [True, False])
@pytest.mark.parametrize("merge_slashes", [True, False])
def test_requests_end_where_werkzeug_sends_them(redirect_defaults: bool, merge_slashes: bool) -> None:
    app = make_app(redirect_defaults, merge_slashes)
    reference = Map(make_map(), redirect_defaults=redirect_defaults, merge_slashes=merge_slashes)
    rng = random.Random(10)
    cases = [(p, m, u) for p in PATHS for m in ("GET", "POST") for u in UPGRADES[:2]]
    cases += [(rng.choice(PATHS), rng.choice(METHODS), rng.choice(UPGRADES)) for _ in range(300)]
    for path, method, upgrade in cases:
        environ = EnvironBuilder(method=method, headers=upgrade).get_environ()
        environ["PATH_INFO"] = path
        theirs = werkzeug_answer(reference, dict(environ))
        if theirs[0] == "ok" and theirs[1] in WEBSOCKET_ENDPOINTS:
            # A handshake that reaches a WSGI app gets 400 saying the route
            # needs an ASGI server (docs/websockets.md), where Werkzeug's
            # matcher alone would hand it to the handler.
            theirs = ("error", 400)
        ours = flask_answer(app, dict(environ))
        assert ours == theirs, (path, method, upgrade)


def test_rules_added_after_serving_started_match_as_in_werkzeug() -> None:
    app = make_app(True, True)
    reference = Map(make_map())
    paths = ["/late", "/late/1", "/items/new", "/a", "/zz/top"]
    for round_ in range(3):
        for path in paths:
            for method in ("GET", "POST", "PUT"):
                environ = EnvironBuilder(path=path, method=method).get_environ()
                assert flask_answer(app, dict(environ)) == werkzeug_answer(reference, dict(environ))
        # Werkzeug sorts rules by weight, whatever the order they came in.
        # Each round's rules take methods no earlier round's took: Werkzeug
        # 3.2 refuses a rule that duplicates another (DuplicateRuleError).
        methods = (["GET"], ["POST"], ["PUT"])[round_]
        late = [Rule("/late", endpoint=f"late{round_}", methods=methods),
                Rule("/<a>/<b>", endpoint=f"two{round_}", methods=methods),
                Rule("/late/<int:n>", endpoint=f"n{round_}", methods=(["POST"], ["PUT"], ["DELETE"])[round_])]
        for rule in late:
            app.url_map.add(rule)
            app.view_functions[rule.endpoint] = lambda **kw: ""
        for rule in late:
            reference.add(Rule(rule.rule, endpoint=rule.endpoint, methods=rule.methods))


def test_a_request_without_path_info_matches_the_root() -> None:
    app = make_app(True, True)
    reference = Map(make_map())
    environ = EnvironBuilder(path="/").get_environ()
    del environ["PATH_INFO"]
    assert flask_answer(app, dict(environ)) == werkzeug_answer(reference, dict(environ)) == ("ok", "index", {})


def test_a_map_that_binds_its_own_way_is_asked_every_time() -> None:
    bound: list[str] = []

    class Counting(Map):
        def bind_to_environ(self, environ: t.Any, **kwargs: t.Any) -> t.Any:
            bound.append(environ["PATH_INFO"])
            return super().bind_to_environ(environ, **kwargs)

    class App(flask.Flask):
        url_map_class = Counting

    app = App(__name__)
    app.add_url_rule("/u/<int:n>", "u", lambda n: flask.url_for("u", n=n + 1))
    client = app.test_client()
    assert [client.get(f"/u/{n}").data for n in (1, 2)] == [b"/u/2", b"/u/3"]
    assert bound == ["/u/1", "/u/2"]


def test_a_default_subdomain_is_the_domain_matched() -> None:
    app = flask.Flask(__name__)
    app.url_map.default_subdomain = "www"
    app.add_url_rule("/", "index", lambda: "index")
    app.add_url_rule("/u/<int:n>", "u", lambda n: str(n))
    reference = Map([Rule("/", endpoint="index"), Rule("/u/<int:n>", endpoint="u")], default_subdomain="www")
    for path in ("/", "/u/3", "/nothing"):
        environ = EnvironBuilder(path=path).get_environ()
        adapter = reference.bind_to_environ(dict(environ), subdomain="www")
        try:
            rule, args = adapter.match(return_rule=True)
            theirs: t.Any = ("ok", rule.endpoint, args)
        except HTTPException as e:
            theirs = ("error", e.code)
        assert flask_answer(app, dict(environ)) == theirs


@pytest.mark.parametrize("url_map_class", [Map, flask.Flask.url_map_class])
@pytest.mark.needs_shortcut("url-matcher")
def test_the_static_index_is_built_once_per_set_of_rules(url_map_class: type[Map]) -> None:
    class App(flask.Flask):
        pass

    App.url_map_class = url_map_class
    app = App(__name__)
    app.add_url_rule("/one", "one", lambda: "one")
    client = app.test_client()
    assert client.get("/one").data == b"one"
    index = app.url_map.__dict__["_flask_static_rules"]
    assert client.get("/one").data == b"one"
    assert app.url_map.__dict__["_flask_static_rules"] is index
    app.url_map.add(Rule("/two", endpoint="two"))
    app.view_functions["two"] = lambda: "two"
    assert client.get("/two").data == b"two"
    rebuilt = app.url_map.__dict__["_flask_static_rules"]
    assert rebuilt is not index and "/two" in rebuilt[2]


@pytest.mark.needs_shortcut("url-matcher")
def test_endpoints_with_several_rules_match_directly_without_redirect_defaults(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bound: list[str] = []
    real = Map.bind_to_environ

    def spy(self: Map, environ: t.Any, **kwargs: t.Any) -> t.Any:
        bound.append(environ["PATH_INFO"])
        return real(self, environ, **kwargs)

    monkeypatch.setattr(Map, "bind_to_environ", spy)
    app = make_app(redirect_defaults=False, merge_slashes=True)
    for path in ("/page", "/page/2", "/home", "/start"):
        environ = EnvironBuilder(path=path).get_environ()
        assert flask_answer(app, dict(environ))[0] == "ok"
    assert bound == []


Answer = tuple[str, list[tuple[str, str]], bytes]


def call(app: t.Any, path: str, method: str = "GET", **kw: t.Any) -> Answer:
    environ = EnvironBuilder(path=path, method=method, **kw).get_environ()
    seen: list[t.Any] = []
    body = b"".join(app(environ, lambda s, h, e=None: seen.append((s, list(h)))))
    return seen[0][0], seen[0][1], body


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


def spy_matcher(app: flask.Flask, monkeypatch: pytest.MonkeyPatch, seams: t.Any) -> list[str]:
    walked: list[str] = []
    matcher = seams.url_matcher(app.url_map)
    real = matcher.match

    def spy(domain: str, path: str, method: str, websocket: bool) -> t.Any:
        walked.append(path)
        return real(domain, path, method, websocket)

    monkeypatch.setattr(matcher, "match", spy)
    return walked


@pytest.mark.needs_shortcut("url-matcher")
def test_static_paths_are_found_without_walking_the_matcher(
    monkeypatch: pytest.MonkeyPatch, seams: t.Any
) -> None:
    app = make_plain_app()
    call(app, "/text")  # builds the index
    walked = spy_matcher(app, monkeypatch, seams)
    assert call(app, "/text")[0] == "200 OK"
    assert call(app, "/data/4")[2] == b'{"a":"\\u00fc","n":4,"z":[1,2]}\n'
    assert walked == ["/data/4"]


@pytest.mark.needs_shortcut("url-matcher")
def test_requests_are_matched_without_binding_an_adapter(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = make_plain_app()
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
    app = make_plain_app()

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
    app = make_plain_app()

    @app.route("/link")
    def link() -> str:
        return flask.url_for("text", _external=True)

    for n in range(300):
        assert call(app, "/link", base_url=f"http://h{n}.test")[2] == f"http://h{n}.test/text".encode()
    assert len(app.url_map.__dict__["_flask_bindings"]) == 256


def test_hosts_are_checked_once(seams: t.Any) -> None:
    checked: list[str] = []
    real = seams.get("host_grammar")

    def spy(host: str) -> bool:
        checked.append(host)
        return real(host)

    seams.replace("host_grammar", spy)
    seams.replace("valid_hosts", set())
    app = make_plain_app()
    for host in ["once.test", "once.test", "twice.test", "once.test", "twice.test"]:
        assert call(app, "/text", base_url=f"http://{host}")[0] == "200 OK"
    assert checked == ["once.test", "twice.test"]


def test_the_host_memo_is_bounded(seams: t.Any) -> None:
    hosts: set[str] = set()
    seams.replace("valid_hosts", hosts)
    app = make_plain_app()
    for n in range(1100):
        call(app, "/text", base_url=f"http://h{n}.test")
        assert 0 < len(hosts) <= 1024


def spy_walks(seams: t.Any) -> list[int]:
    """Counts walks of the compiled tree started by FastMatcher.match."""
    starts: list[int] = []
    real = seams.get("matcher_walk")

    def spy(node: t.Any, parts: t.Any, i: int, *rest: t.Any) -> t.Any:
        if i == 0:
            starts.append(len(parts))
        return real(node, parts, i, *rest)

    seams.replace("matcher_walk", spy)
    return starts


@pytest.mark.parametrize("merge_slashes", [True, False])
@pytest.mark.needs_shortcut("url-matcher")
def test_a_miss_without_double_slashes_is_walked_once(
    merge_slashes: bool, seams: t.Any
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
    starts = spy_walks(seams)
    for path in ("/a/1", "/b", "/c/d"):
        errors = []
        for matcher in (ours._matcher, theirs):
            with pytest.raises(NoMatch) as info:
                matcher.match("", path, "GET", False)
            errors.append((info.value.have_match_for, info.value.websocket_mismatch))
        assert errors[0] == errors[1]
    assert len(starts) == 3
