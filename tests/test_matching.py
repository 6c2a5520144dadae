"""flask.matching.bind_request builds the adapters Werkzeug builds."""

from __future__ import annotations

import typing as t

import pytest
from werkzeug.routing import Map
from werkzeug.routing import Rule
from werkzeug.test import EnvironBuilder

import flask
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
