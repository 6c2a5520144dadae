"""Tests for blueprints: registration, nesting, hooks and resources."""

from __future__ import annotations

import pytest

import flask
from flask.blueprints import BlueprintSetupState


def _by_endpoint(app, endpoint):
    return next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)


# -- construction and naming -----------------------------------------------------


def test_blueprint_arguments(tmp_path):
    bp = flask.Blueprint(
        "shop",
        "shop_module",
        static_folder="public",
        static_url_path="/files",
        template_folder="tpl",
        url_prefix="/shop",
        subdomain="store",
        url_defaults={"page": 1},
        root_path=str(tmp_path),
        cli_group="shopping",
    )
    assert (bp.name, bp.import_name, bp.root_path) == ("shop", "shop_module", str(tmp_path))
    assert bp.static_folder == str(tmp_path / "public")
    assert bp.static_url_path == "/files"
    assert bp.template_folder == "tpl"
    assert (bp.url_prefix, bp.subdomain) == ("/shop", "store")
    assert bp.url_values_defaults == {"page": 1}
    assert bp.cli_group == "shopping"


@pytest.mark.parametrize(("name", "message"), [("a.b", "dot"), ("", "empty")])
def test_bad_names(name, message):
    with pytest.raises(ValueError, match=message):
        flask.Blueprint(name, __name__)


def test_name_taken(app):
    app.register_blueprint(flask.Blueprint("dup", __name__))
    with pytest.raises(ValueError, match="already registered for a different blueprint"):
        app.register_blueprint(flask.Blueprint("dup", __name__))


def test_register_twice_needs_a_new_name(app, client):
    bp = flask.Blueprint("bp", __name__)
    bp.add_url_rule("/", "index", lambda: flask.request.blueprint)
    app.register_blueprint(bp, url_prefix="/one")
    with pytest.raises(ValueError, match="already registered for this blueprint"):
        app.register_blueprint(bp, url_prefix="/two")
    app.register_blueprint(bp, url_prefix="/two", name="bp2")
    assert client.get("/one/").data == b"bp"
    assert client.get("/two/").data == b"bp2"
    assert set(app.blueprints) == {"bp", "bp2"}
    with app.test_request_context("/two/"):
        assert flask.url_for(".index") == "/two/"


def test_blueprint_setup_is_final_after_registration(app):
    bp = flask.Blueprint("bp", __name__)
    app.register_blueprint(bp)
    with pytest.raises(AssertionError, match="setup method 'before_request'"):
        bp.before_request(lambda: None)


# -- routes and URL building -----------------------------------------------------


def test_routes_prefix_and_endpoints(app, client):
    bp = flask.Blueprint("admin", __name__, url_prefix="/admin")

    @bp.route("/")
    def index():
        return flask.url_for(".users") + " " + flask.url_for("admin.index")

    @bp.get("/users")
    def users():
        return "users"

    bp.post("/users")(lambda: "created")

    app.register_blueprint(bp)
    assert "admin.index" in app.view_functions
    assert client.get("/admin/").data == b"/admin/users /admin/"
    assert client.post("/admin/users").data == b"created"


@pytest.mark.parametrize("verb", ["get", "post", "put", "delete", "patch"])
def test_blueprint_method_shortcuts(app, client, verb):
    bp = flask.Blueprint("bp", __name__, url_prefix="/bp")
    getattr(bp, verb)("/r")(lambda: verb)
    app.register_blueprint(bp)
    assert getattr(client, verb)("/bp/r").data == verb.encode()
    assert _by_endpoint(app, "bp.<lambda>").methods >= {verb.upper()}


def test_blueprint_template_registration_variants(app):
    bp = flask.Blueprint("bp", __name__)
    bp.add_app_template_filter(lambda s: s[::-1], "rev")
    bp.app_template_test("short")(lambda s: len(s) < 3)
    bp.add_app_template_global(lambda: "G", "glob")
    app.register_blueprint(bp)
    with app.app_context():
        out = flask.render_template_string("{{ 'abc'|rev }} {{ 'ab' is short }} {{ glob() }}")
    assert out == "cba True G"


def test_url_prefix_option_overrides(app, client):
    bp = flask.Blueprint("bp", __name__, url_prefix="/default")
    bp.add_url_rule("/x", "x", lambda: "x")
    app.register_blueprint(bp, url_prefix="/chosen/")
    assert client.get("/chosen/x").data == b"x"


def test_blueprint_url_defaults(app, client):
    bp = flask.Blueprint("bp", __name__, url_defaults={"page": 1})
    bp.add_url_rule("/list", "list", lambda page: str(page))
    app.register_blueprint(bp, url_defaults={"page": 7})
    assert client.get("/list").data == b"7"


def test_nested_blueprints(app, client):
    parent = flask.Blueprint("parent", __name__, url_prefix="/parent")
    child = flask.Blueprint("child", __name__, url_prefix="/child")
    grandchild = flask.Blueprint("grand", __name__, url_prefix="/grand")

    @grandchild.route("/view")
    def view():
        return " ".join(
            [flask.request.blueprint, ",".join(flask.request.blueprints),
             flask.url_for(".view"), flask.url_for("parent.p")]
        )

    parent.add_url_rule("/", "p", lambda: "p")
    child.register_blueprint(grandchild)
    parent.register_blueprint(child)
    app.register_blueprint(parent)
    assert "parent.child.grand.view" in app.view_functions
    rv = client.get("/parent/child/grand/view")
    assert rv.data == (
        b"parent.child.grand parent.child.grand,parent.child,parent"
        b" /parent/child/grand/view /parent/"
    )


def test_nested_subdomains():
    app = flask.Flask("subs", subdomain_matching=True, static_folder=None)
    app.config["SERVER_NAME"] = "site.test"
    parent = flask.Blueprint("parent", __name__, subdomain="api")
    child = flask.Blueprint("child", __name__, subdomain="v1")
    child.add_url_rule("/", "index", lambda: "deep")
    parent.register_blueprint(child)
    app.register_blueprint(parent)
    assert _by_endpoint(app, "parent.child.index").subdomain == "v1.api"
    assert app.test_client().get("/", base_url="http://v1.api.site.test/").data == b"deep"


def test_request_blueprint_outside_blueprint(app, client):
    app.add_url_rule("/", "index", lambda: repr((flask.request.blueprint, flask.request.blueprints)))
    assert client.get("/").data == b"(None, [])"


# -- deferred setup --------------------------------------------------------------


def test_record_and_record_once(app):
    bp = flask.Blueprint("bp", __name__, url_prefix="/p")
    every, once = [], []
    bp.record(every.append)
    bp.record_once(once.append)
    app.register_blueprint(bp)
    app.register_blueprint(bp, name="again", url_prefix="/q")
    assert len(every) == 2 and len(once) == 1
    first, second = every
    assert isinstance(first, BlueprintSetupState)
    assert (first.app, first.blueprint) == (app, bp)
    assert first.first_registration and not second.first_registration
    assert (first.name, second.name) == ("bp", "again")
    assert (first.url_prefix, second.url_prefix) == ("/p", "/q")
    assert second.options["name"] == "again"


def test_setup_state_add_url_rule(app, client):
    bp = flask.Blueprint("bp", __name__, url_prefix="/pre")
    bp.record(lambda state: state.add_url_rule("/late", "late", lambda: "late"))
    app.register_blueprint(bp)
    assert _by_endpoint(app, "bp.late").rule == "/pre/late"
    assert client.get("/pre/late").data == b"late"


def test_make_setup_state_is_overridable(app):
    class MyState(BlueprintSetupState):
        pass

    class MyBlueprint(flask.Blueprint):
        def make_setup_state(self, app, options, first_registration=False):
            return MyState(self, app, options, first_registration)

    bp = MyBlueprint("mine", __name__)
    seen = []
    bp.record(seen.append)
    app.register_blueprint(bp)
    assert type(seen[0]) is MyState


# -- hooks and handlers ----------------------------------------------------------


def test_blueprint_local_and_app_wide_hooks(app, client):
    bp = flask.Blueprint("bp", __name__)
    log = []

    bp.before_request(lambda: log.append("bp-before"))
    bp.before_app_request(lambda: log.append("app-before"))
    bp.after_request(lambda r: log.append("bp-after") or r)
    bp.after_app_request(lambda r: log.append("app-after") or r)
    bp.teardown_request(lambda e: log.append("bp-teardown"))
    bp.teardown_app_request(lambda e: log.append("app-teardown"))
    bp.add_url_rule("/in", "in_bp", lambda: "in")
    app.add_url_rule("/out", "out", lambda: "out")
    app.register_blueprint(bp)

    client.get("/in")
    assert log == ["app-before", "bp-before", "bp-after", "app-after",
                   "bp-teardown", "app-teardown"]
    log.clear()
    client.get("/out")
    assert log == ["app-before", "app-after", "app-teardown"]


def test_blueprint_context_processors_and_template_helpers(app, client):
    bp = flask.Blueprint("bp", __name__)
    bp.context_processor(lambda: {"where": "bp"})
    bp.app_context_processor(lambda: {"everywhere": "yes"})
    bp.app_template_filter("shout")(lambda s: s.upper() + "!")
    bp.add_app_template_test(lambda n: n % 2 == 0, "even")
    bp.app_template_global("answer")(lambda: 42)
    template = "{{ where|default('none') }} {{ everywhere }} {{ 'hi'|shout }} {{ 4 is even }} {{ answer() }}"
    bp.add_url_rule("/in", "in_bp", lambda: flask.render_template_string(template))
    app.add_url_rule("/out", "out", lambda: flask.render_template_string(template))
    app.register_blueprint(bp)
    assert client.get("/in").data == b"bp yes HI! True 42"
    assert client.get("/out").data == b"none yes HI! True 42"


def test_blueprint_url_processors(app, client):
    bp = flask.Blueprint("bp", __name__, url_prefix="/<lang>")

    @bp.url_value_preprocessor
    def pull(endpoint, values):
        flask.g.lang = values.pop("lang")

    @bp.url_defaults
    def push(endpoint, values):
        values.setdefault("lang", flask.g.lang)

    @bp.app_url_defaults
    def app_wide(endpoint, values):
        if endpoint == "plain":
            values["src"] = "bp"

    bp.app_url_value_preprocessor(lambda e, v: setattr(flask.g, "seen", e))
    bp.add_url_rule("/page", "page", lambda: f"{flask.g.lang} {flask.url_for('.page')}")
    app.add_url_rule("/plain", "plain", lambda: f"{flask.g.seen} {flask.url_for('plain')}")
    app.register_blueprint(bp)
    assert client.get("/de/page").data == b"de /de/page"
    assert client.get("/plain").data == b"plain /plain?src=bp"


def test_error_handler_lookup_order(app, client):
    parent = flask.Blueprint("parent", __name__, url_prefix="/p")
    child = flask.Blueprint("child", __name__, url_prefix="/c")
    child.errorhandler(KeyError)(lambda e: "child")
    parent.register_error_handler(KeyError, lambda e: "parent")
    parent.register_error_handler(ValueError, lambda e: "parent value")
    app.register_error_handler(LookupError, lambda e: "app")

    def raising(exc):
        def view():
            raise exc

        return view

    child.add_url_rule("/key", "key", raising(KeyError()))
    child.add_url_rule("/value", "value", raising(ValueError()))
    child.add_url_rule("/index", "index", raising(IndexError()))
    parent.add_url_rule("/key", "key", raising(KeyError()))
    parent.register_blueprint(child)
    app.register_blueprint(parent)
    assert client.get("/p/c/key").data == b"child"
    assert client.get("/p/c/value").data == b"parent value"
    assert client.get("/p/c/index").data == b"app"
    assert client.get("/p/key").data == b"parent"


def test_app_errorhandler_is_app_wide(app, client):
    bp = flask.Blueprint("bp", __name__)
    bp.app_errorhandler(404)(lambda e: ("bp says 404", 404))
    app.register_blueprint(bp)
    assert client.get("/nowhere").data == b"bp says 404"


def test_blueprint_404_handler_not_used_for_unmatched_urls(app, client):
    bp = flask.Blueprint("bp", __name__, url_prefix="/bp")
    bp.register_error_handler(404, lambda e: "bp 404")
    bp.add_url_rule("/x", "x", lambda: flask.abort(404))
    app.register_blueprint(bp)
    assert client.get("/bp/x").data == b"bp 404"
    assert client.get("/bp/nothing").data != b"bp 404"


def test_blueprint_endpoint_decorator_targets_app_endpoint(app, client):
    # The endpoint is the app's own, unprefixed (a rule added to the map).
    app.url_map.add(app.url_rule_class("/e", endpoint="named"))
    bp = flask.Blueprint("bp", __name__)

    @bp.endpoint("named")
    def named():
        return f"by endpoint {flask.request.endpoint}"

    assert "named" not in app.view_functions
    app.register_blueprint(bp)
    assert app.view_functions["named"] is named
    assert client.get("/e").data == b"by endpoint named"


# -- resources -------------------------------------------------------------------


def test_blueprint_static_and_templates(app, client, tmp_path):
    (tmp_path / "static").mkdir()
    (tmp_path / "static" / "bp.css").write_text("css!")
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "only_bp.html").write_text("bp template {{ v }}")
    bp = flask.Blueprint(
        "res", __name__, root_path=str(tmp_path), static_folder="static",
        static_url_path="/assets", template_folder="templates", url_prefix="/res",
    )
    bp.add_url_rule("/page", "page", lambda: flask.render_template("only_bp.html", v=1))
    app.register_blueprint(bp)
    assert client.get("/res/assets/bp.css").data == b"css!"
    assert client.get("/res/page").data == b"bp template 1"
    with app.test_request_context():
        assert flask.url_for("res.static", filename="bp.css") == "/res/assets/bp.css"


def test_blueprint_without_static_folder_has_no_static_route(app):
    app.register_blueprint(flask.Blueprint("plain", __name__))
    assert "plain.static" not in app.view_functions


# -- CLI -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cli_group", "args"),
    [(Ellipsis, ["reports", "hello"]), ("tools", ["tools", "hello"]), (None, ["hello"])],
)
def test_blueprint_cli_group(app, cli_group, args):
    kwargs = {} if cli_group is Ellipsis else {"cli_group": cli_group}
    bp = flask.Blueprint("reports", __name__, **kwargs)

    @bp.cli.command("hello")
    def hello():
        print("hello from", flask.current_app.name)

    app.register_blueprint(bp)
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 0, result.output
    assert result.output == f"hello from {app.name}\n"
