"""Flask-Caching running unmodified on our Flask.

``Cache(app, config={"CACHE_TYPE": "SimpleCache"})``, ``@cache.cached`` views
(keys from ``request.path`` and, with ``query_string=True``, from the query
string), ``@cache.memoize`` functions, template fragment caching, and the
``response_hit_indication`` option that appends to ``app.after_request_funcs``
while a request is running.
"""

from __future__ import annotations

import typing as t

import pytest
from flask_caching import Cache

from flask import Flask
from flask import render_template_string
from flask import request


@pytest.fixture
def env() -> tuple[Flask, Cache, dict[str, int]]:
    app = Flask(__name__)
    app.config["TESTING"] = True
    cache = Cache(app, config={"CACHE_TYPE": "SimpleCache"})
    calls: dict[str, int] = {"version": 1}

    def hit(name: str) -> int:
        calls[name] = calls.get(name, 0) + 1
        return calls[name]

    @app.route("/")
    @cache.cached(timeout=50)
    def index() -> str:
        return f"index rendered {hit('index')} times"

    @app.route("/items/<int:id>")
    @cache.cached(timeout=50)
    def item(id: int) -> t.Any:
        hit("item")
        return {"id": id, "n": calls["item"]}

    @app.route("/search")
    @cache.cached(timeout=50, query_string=True)
    def search() -> t.Any:
        hit("search")
        return {"q": request.args.get("q"), "page": request.args.get("page")}

    @app.route("/nocache-query")
    @cache.cached(timeout=50)
    def no_query() -> str:
        return f"{request.args.get('q')} {hit('no_query')}"

    @app.route("/stats")
    @cache.cached(timeout=50, unless=lambda: request.args.get("fresh") == "1")
    def stats() -> str:
        return str(hit("stats"))

    @app.route("/hits")
    @cache.cached(timeout=50, response_hit_indication=True)
    def hits() -> str:
        return str(hit("hits"))

    @app.route("/missing")
    @cache.cached(timeout=50)
    def missing() -> t.Any:
        hit("missing")
        return "nope", 404

    @cache.memoize(timeout=50)
    def user_score(user_id: int, bonus: int = 0) -> int:
        hit(f"score:{user_id}")
        return calls["version"] * 100 + user_id + bonus

    @app.route("/score/<int:user_id>")
    def score(user_id: int) -> t.Any:
        return {"score": user_score(user_id), "bonus": user_score(user_id, bonus=5)}

    @app.route("/sidebar/<name>")
    def sidebar(name: str) -> str:
        return render_template_string(
            "{% cache 60, 'sidebar' %}sidebar for {{ name }}{% endcache %}", name=name
        )

    app.user_score = user_score  # type: ignore[attr-defined]
    return app, cache, calls


def test_extension_registered(env: t.Any) -> None:
    app, cache, _ = env
    assert cache in app.extensions["cache"]
    assert cache.app is app


def test_cached_view_called_once(env: t.Any) -> None:
    app, cache, calls = env
    client = app.test_client()
    for _ in range(3):
        rv = client.get("/")
        assert rv.status_code == 200
        assert rv.data == b"index rendered 1 times"
    assert calls["index"] == 1
    with app.app_context():
        # Default key is "view/" + request.path.
        assert cache.get("view//") == "index rendered 1 times"
        cache.delete("view//")
    assert client.get("/").data == b"index rendered 2 times"


def test_key_from_request_path(env: t.Any) -> None:
    app, cache, calls = env
    client = app.test_client()
    assert client.get("/items/1").get_json() == {"id": 1, "n": 1}
    assert client.get("/items/2").get_json() == {"id": 2, "n": 2}
    assert client.get("/items/1").get_json() == {"id": 1, "n": 1}
    assert calls["item"] == 2
    with app.app_context():
        assert cache.has("view//items/1") and cache.has("view//items/2")


def test_without_query_string_the_query_is_ignored(env: t.Any) -> None:
    app, _, _ = env
    client = app.test_client()
    assert client.get("/nocache-query?q=a").data == b"a 1"
    assert client.get("/nocache-query?q=b").data == b"a 1"


def test_query_string_keys(env: t.Any) -> None:
    app, _, calls = env
    client = app.test_client()
    assert client.get("/search?q=flask&page=2").get_json() == {"q": "flask", "page": "2"}
    # Same args in another order: same key.
    assert client.get("/search?page=2&q=flask").get_json() == {"q": "flask", "page": "2"}
    assert calls["search"] == 1
    assert client.get("/search?q=django").get_json() == {"q": "django", "page": None}
    assert calls["search"] == 2


def test_unless_bypasses_cache(env: t.Any) -> None:
    app, _, _ = env
    client = app.test_client()
    assert client.get("/stats").data == b"1"
    assert client.get("/stats").data == b"1"
    assert client.get("/stats?fresh=1").data == b"2"


def test_response_hit_indication(env: t.Any) -> None:
    app, _, calls = env
    client = app.test_client()
    first = client.get("/hits")
    assert "hit_cache" not in first.headers
    second = client.get("/hits")
    assert second.data == b"1"
    # The after_request function Flask-Caching appended to
    # app.after_request_funcs[None] ran on the cached response.
    assert second.headers["hit_cache"] == "True"
    assert calls["hits"] == 1


def test_response_filter(env: t.Any) -> None:
    app, cache, _ = env
    seen: list[int] = []

    @app.route("/flaky")
    @cache.cached(timeout=50, response_filter=lambda rv: rv[1] == 200)
    def flaky() -> t.Any:
        seen.append(1)
        return "x", 503 if len(seen) == 1 else 200

    client = app.test_client()
    assert client.get("/flaky").status_code == 503
    assert client.get("/flaky").status_code == 200
    assert client.get("/flaky").status_code == 200
    # The 503 was not kept; the 200 was.
    assert len(seen) == 2


def test_memoize(env: t.Any) -> None:
    app, cache, calls = env
    client = app.test_client()
    assert client.get("/score/7").get_json() == {"score": 107, "bonus": 112}
    assert client.get("/score/7").get_json() == {"score": 107, "bonus": 112}
    # One call per distinct argument set.
    assert calls["score:7"] == 2
    assert client.get("/score/8").get_json() == {"score": 108, "bonus": 113}

    calls["version"] = 3
    with app.app_context():
        cache.delete_memoized(app.user_score, 7)
        assert app.user_score(7) == 307
        assert app.user_score(7, bonus=5) == 112
        assert app.user_score(8) == 108
        cache.clear()
        assert app.user_score(8) == 308


def test_cached_outside_request_uses_url_for(env: t.Any) -> None:
    app, cache, calls = env
    # url_for without a request needs to know the server.
    app.config["SERVER_NAME"] = "localhost"
    client = app.test_client()
    client.get("/items/3")
    with app.app_context():
        # Without a request, the key is built from url_for(view): relative
        # since Flask-Caching 2.5, external (Flask's default outside a
        # request) before it, as on Python 3.10, where 2.4 is the newest.
        key = item_key(app)
        assert key in ("view//items/3", "view/http://localhost/items/3")
        if key == "view//items/3":
            assert cache.get(key) == {"id": 3, "n": 1}


def item_key(app: Flask) -> str:
    view = app.view_functions["item"]
    return str(view.make_cache_key(id=3))


def test_template_fragment_cache(env: t.Any) -> None:
    app, _, _ = env
    client = app.test_client()
    assert client.get("/sidebar/one").data == b"sidebar for one"
    assert client.get("/sidebar/two").data == b"sidebar for one"


def test_cache_needs_app_when_created_without(env: t.Any) -> None:
    app2 = Flask(__name__)
    cache = Cache(config={"CACHE_TYPE": "SimpleCache"})
    cache.init_app(app2)
    with app2.app_context():
        cache.set("k", 1)
        assert cache.get("k") == 1
    other = Flask(__name__)
    cache.init_app(other)
    with other.app_context():
        # Each app has its own backend.
        assert cache.get("k") is None
