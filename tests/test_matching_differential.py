"""Requests matched by flask.matching (directly, or by the adapter it falls
back to) end where Werkzeug's own ``MapAdapter.match`` sends them, on a map
with every kind of rule and a seeded mix of paths, methods and headers."""

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
            for method in ("GET", "POST"):
                environ = EnvironBuilder(path=path, method=method).get_environ()
                assert flask_answer(app, dict(environ)) == werkzeug_answer(reference, dict(environ))
        # Werkzeug sorts rules by weight, whatever the order they came in.
        late = [Rule("/late", endpoint=f"late{round_}"), Rule("/<a>/<b>", endpoint=f"two{round_}"),
                Rule("/late/<int:n>", endpoint=f"n{round_}", methods=["POST"])]
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
