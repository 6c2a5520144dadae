"""Tests for URL rules, dispatch by URL, and URL building."""

from __future__ import annotations

import pytest
from werkzeug.routing import BaseConverter
from werkzeug.routing import BuildError

import flask


def _echo(**kwargs):
    return repr(sorted(kwargs.items()))


# -- registering rules -----------------------------------------------------------


@pytest.mark.parametrize("verb", ["get", "post", "put", "delete", "patch"])
def test_method_shortcuts(app, client, verb):
    getattr(app, verb)("/thing")(lambda: verb)
    assert getattr(client, verb)("/thing").data == verb.encode()
    other = "post" if verb != "post" else "put"
    assert getattr(client, other)("/thing").status_code == 405


def test_method_shortcuts_refuse_methods_argument(app):
    with pytest.raises(TypeError, match="route"):
        app.get("/x", methods=["POST"])


def test_route_registers_view_and_endpoint(app, client):
    @app.route("/hello/<name>")
    def hello(name):
        return f"hi {name}"

    assert app.view_functions["hello"] is hello
    assert client.get("/hello/ann").data == b"hi ann"
    assert client.get("/nope").status_code == 404


def test_explicit_endpoint_and_methods(app, client):
    app.add_url_rule("/f", endpoint="form", view_func=lambda: flask.request.method,
                     methods=["POST", "put"])
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == "form")
    assert {"POST", "PUT", "OPTIONS"} <= rule.methods
    assert client.put("/f").data == b"PUT"
    assert client.get("/f").status_code == 405


def test_methods_as_string_is_a_type_error(app):
    with pytest.raises(TypeError, match="list of strings"):
        app.add_url_rule("/x", "x", lambda: "", methods="POST")


def test_view_function_attributes_are_honoured(app, client):
    def view():
        return "v"

    view.methods = ["PUT"]
    view.required_methods = ["DELETE"]
    view.provide_automatic_options = False
    app.add_url_rule("/v", view_func=view)
    assert client.put("/v").data == b"v"
    assert client.delete("/v").data == b"v"
    assert client.options("/v").status_code == 405


def test_endpoint_decorator(app, client):
    app.add_url_rule("/e", endpoint="by_name")

    @app.endpoint("by_name")
    def handler():
        return "named"

    assert app.view_functions["by_name"] is handler
    assert client.get("/e").data == b"named"


def test_overwriting_an_endpoint_is_refused(app):
    app.add_url_rule("/a", "same", lambda: "a")
    with pytest.raises(AssertionError, match="overwriting an existing endpoint function: same"):
        app.add_url_rule("/b", "same", lambda: "b")


def test_same_function_may_be_registered_twice(app, client):
    def page(n=1):
        return str(n)

    app.add_url_rule("/page/", "page", page, defaults={"n": 1})
    app.add_url_rule("/page/<int:n>", "page", page)
    assert client.get("/page/").data == b"1"
    assert client.get("/page/7").data == b"7"
    with app.test_request_context():
        assert flask.url_for("page") == "/page/"
        assert flask.url_for("page", n=3) == "/page/3"


# -- automatic methods -----------------------------------------------------------


def test_automatic_head_and_options(app, client):
    app.add_url_rule("/r", "r", lambda: "body!", methods=["GET", "POST"])
    head = client.head("/r")
    assert head.status_code == 200 and head.data == b""
    assert head.headers["Content-Length"] == "5"
    opts = client.options("/r")
    assert opts.status_code == 200
    assert set(opts.allow) == {"GET", "HEAD", "POST", "OPTIONS"}


def test_provide_automatic_options_false_on_rule(app, client):
    app.add_url_rule("/r", "r", lambda: "x", provide_automatic_options=False)
    assert client.options("/r").status_code == 405


def test_provide_automatic_options_config(app, client):
    app.config["PROVIDE_AUTOMATIC_OPTIONS"] = False
    app.add_url_rule("/r", "r", lambda: "x")
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == "r")
    assert "OPTIONS" not in rule.methods
    assert client.options("/r").status_code == 405


def test_method_not_allowed_lists_allow(app, client):
    app.add_url_rule("/only-get", "g", lambda: "x")
    rv = client.post("/only-get")
    assert rv.status_code == 405
    assert set(rv.allow) == {"GET", "HEAD", "OPTIONS"}


# -- rule options ----------------------------------------------------------------


def test_strict_slashes(app, client):
    app.add_url_rule("/dir/", "dir", lambda: "dir")
    app.add_url_rule("/loose/", "loose", lambda: "loose", strict_slashes=False)
    rv = client.get("/dir")
    assert rv.status_code == 308
    assert rv.location.endswith("/dir/")
    assert client.get("/loose").data == b"loose"


def test_redirect_to(app, client):
    app.add_url_rule("/new", "new", lambda: "new")
    app.add_url_rule("/old", "old", redirect_to="/new")
    rv = client.get("/old")
    assert rv.status_code == 308
    assert rv.location.endswith("/new")
    assert client.get("/old", follow_redirects=True).data == b"new"


def test_merge_slashes(app, client):
    app.add_url_rule("/a/b", "merged", lambda: "m")
    app.add_url_rule("/c/d", "strict", lambda: "s", merge_slashes=False)
    rv = client.get("/a//b")
    assert rv.status_code == 308 and rv.location.endswith("/a/b")
    assert client.get("/c//d").status_code == 404


def test_build_only(app, client):
    app.add_url_rule("/external/<slug>", "ext", build_only=True)
    assert client.get("/external/x").status_code == 404
    with app.test_request_context():
        assert flask.url_for("ext", slug="x") == "/external/x"


def test_subdomain_matching():
    app = flask.Flask("subs", subdomain_matching=True, static_folder=None)
    app.config["SERVER_NAME"] = "site.test"
    app.add_url_rule("/", "api", lambda: "api", subdomain="api")
    app.add_url_rule("/", "user", lambda user: user, subdomain="<user>")
    client = app.test_client()
    assert client.get("/", base_url="http://api.site.test/").data == b"api"
    assert client.get("/", base_url="http://bob.site.test/").data == b"bob"
    with app.test_request_context(base_url="http://api.site.test/"):
        assert flask.url_for("user", user="eve") == "http://eve.site.test/"


def test_host_matching():
    app = flask.Flask("hosts", host_matching=True, static_folder=None)
    app.add_url_rule("/", "a", lambda: "A", host="a.test")
    app.add_url_rule("/", "b", lambda: "B", host="b.test")
    client = app.test_client()
    assert client.get("/", base_url="http://a.test/").data == b"A"
    assert client.get("/", base_url="http://b.test/").data == b"B"
    assert client.get("/", base_url="http://c.test/").status_code == 404


def test_custom_converter(app, client):
    class ListConverter(BaseConverter):
        def to_python(self, value):
            return value.split(",")

        def to_url(self, value):
            return ",".join(super(ListConverter, self).to_url(v) for v in value)

    app.url_map.converters["list"] = ListConverter

    @app.route("/tags/<list:tags>")
    def tags(tags):
        return "|".join(reversed(tags))

    assert client.get("/tags/a,b,c").data == b"c|b|a"
    with app.test_request_context():
        assert flask.url_for("tags", tags=["x", "y"]) == "/tags/x,y"


# -- url_for ----------------------------------------------------------------------


@pytest.fixture
def routed(app):
    app.add_url_rule("/", "index", _echo)
    app.add_url_rule("/create", "thing", _echo, methods=["POST"])
    app.add_url_rule("/show", "thing", _echo, methods=["GET"])
    return app


def test_url_for_in_request(routed):
    with routed.test_request_context():
        assert flask.url_for("index") == "/"
        assert flask.url_for("index", page=2, q="a b") == "/?page=2&q=a+b"
        assert flask.url_for("index", _anchor="part 2") == "/#part%202"
        assert flask.url_for("index", _external=True) == "http://localhost/"
        assert (
            flask.url_for("index", _external=True, _scheme="https")
            == "https://localhost/"
        )
        assert flask.url_for("thing", _method="POST") == "/create"
        assert flask.url_for("thing", _method="GET") == "/show"


def test_url_for_scheme_requires_external(routed):
    with routed.test_request_context():
        with pytest.raises(ValueError, match="_external"):
            flask.url_for("index", _scheme="https", _external=False)


def test_url_for_relative_endpoint_needs_blueprint(routed):
    with routed.test_request_context():
        # Without a blueprint, ".index" is just "index".
        assert flask.url_for(".index") == "/"


def test_url_for_outside_request_uses_config(routed):
    routed.config.update(
        SERVER_NAME="example.org",
        APPLICATION_ROOT="/app",
        PREFERRED_URL_SCHEME="https",
    )
    with routed.app_context():
        assert flask.url_for("index") == "https://example.org/app/"
        assert flask.url_for("index", _external=False) == "/app/"
    assert routed.url_for("index", x=1) == "https://example.org/app/?x=1"


def test_url_for_outside_request_without_server_name(routed):
    with routed.app_context():
        with pytest.raises(RuntimeError, match="SERVER_NAME"):
            flask.url_for("index")


def test_url_for_without_app_context(routed):
    with pytest.raises(RuntimeError, match="application context"):
        flask.url_for("index")


def test_url_for_unknown_endpoint(routed):
    with routed.test_request_context():
        with pytest.raises(BuildError):
            flask.url_for("missing")


def test_url_defaults_and_value_preprocessor(app, client):
    @app.url_value_preprocessor
    def pull_lang(endpoint, values):
        flask.g.lang = values.pop("lang", None)

    @app.url_defaults
    def push_lang(endpoint, values):
        if "lang" in values or not hasattr(flask.g, "lang"):
            return
        if app.url_map.is_endpoint_expecting(endpoint, "lang"):
            values["lang"] = flask.g.lang

    @app.route("/<lang>/about")
    def about():
        return f"{flask.g.lang} {flask.url_for('about')}"

    assert client.get("/fr/about").data == b"fr /fr/about"


def test_url_build_error_handlers(routed):
    seen = []

    def fallback(error, endpoint, values):
        seen.append((type(error), endpoint, values))
        if endpoint == "known.elsewhere":
            return "https://elsewhere.test/"
        return None

    routed.url_build_error_handlers.append(fallback)
    with routed.test_request_context():
        assert flask.url_for("known.elsewhere", a=1) == "https://elsewhere.test/"
        with pytest.raises(BuildError):
            flask.url_for("truly.missing")
    assert seen[0][:2] == (BuildError, "known.elsewhere")
    assert seen[0][2]["a"] == 1
    assert seen[1][1] == "truly.missing"


def test_trusted_hosts(app, client):
    app.config["TRUSTED_HOSTS"] = ["good.test", ".trusted.test"]
    app.add_url_rule("/", "index", lambda: flask.request.host)
    assert client.get("/", base_url="http://good.test/").data == b"good.test"
    assert client.get("/", base_url="http://x.trusted.test/").status_code == 200
    assert client.get("/", base_url="http://evil.test/").status_code == 400


def test_non_ascii_paths_match_as_utf8():
    app = flask.Flask(__name__)

    @app.route("/caf\u00e9/<name>")
    def cafe(name):
        return name

    client = app.test_client()
    assert client.get("/caf\u00e9/cr\u00e8me").get_data(as_text=True) == "cr\u00e8me"
    assert client.get("/caf%C3%A9/x").get_data(as_text=True) == "x"
    assert client.get("/cafe/x").status_code == 404


def test_overridden_inject_url_defaults_is_called():
    class LangApp(flask.Flask):
        def inject_url_defaults(self, endpoint, values):
            values.setdefault("lang", "fr")
            super().inject_url_defaults(endpoint, values)

    app = LangApp(__name__)

    @app.route("/<lang>/about")
    def about(lang):
        return lang

    with app.test_request_context():
        assert flask.url_for("about") == "/fr/about"

    plain = flask.Flask(__name__)
    plain.add_url_rule("/<lang>/about", "about", about)
    plain.inject_url_defaults = lambda endpoint, values: values.setdefault("lang", "de")
    with plain.test_request_context():
        assert flask.url_for("about") == "/de/about"


@pytest.mark.needs_shortcut("lazy-url-builder")
def test_url_builders_are_made_on_first_build() -> None:
    """Shortcut for start-up: adding a rule compiles no URL builder; the
    first build makes it, and every build equals stock Werkzeug's."""
    from werkzeug.routing import Map
    from werkzeug.routing import Rule

    from flask.matching import LazyBuilderRule

    specs = [
        ("/", {}),
        ("/user/<int:uid>", {"uid": 7}),
        ("/post/<slug>/edit", {"slug": "a b/ü", "extra": ["1", "2"]}),
        ("/files/<path:p>", {"p": "a/b c"}),
        ("/d/<int:n>", {}),
        ("/sub", {"q": "x&y"}),
    ]
    defaults = {"/d/<int:n>": {"n": 3}}
    ours = Map([LazyBuilderRule(r, endpoint=str(i), defaults=defaults.get(r)) for i, (r, _) in enumerate(specs)])
    stock = Map([Rule(r, endpoint=str(i), defaults=defaults.get(r)) for i, (r, _) in enumerate(specs)])
    rules = list(ours.iter_rules())
    assert all(r._build.__name__ == "build_first" for r in rules)
    assert all(r._build_unknown.__name__ == "build_first" for r in rules)
    a, b = ours.bind("example.org"), stock.bind("example.org")
    for _ in range(2):  # the first build compiles, the second reuses
        for i, (_, values) in enumerate(specs):
            for external in (False, True):
                assert a.build(str(i), values, force_external=external) == b.build(
                    str(i), values, force_external=external
                )
    assert all(r._build_unknown.__name__ != "build_first" for r in rules)


@pytest.mark.needs_shortcut("lazy-url-builder")
def test_app_rules_build_urls_lazily() -> None:
    app = flask.Flask(__name__)
    app.add_url_rule("/item/<int:n>", "item", lambda n: str(n))
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == "item")
    assert rule._build_unknown.__name__ == "build_first"
    with app.test_request_context():
        assert flask.url_for("item", n=5, q="a b") == "/item/5?q=a+b"
    assert rule._build_unknown.__name__ != "build_first"
