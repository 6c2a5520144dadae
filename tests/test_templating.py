"""Tests for flask.templating."""

from __future__ import annotations

import json
import logging
import os

import pytest
from jinja2 import DictLoader
from jinja2 import TemplateNotFound
from markupsafe import Markup

import flask
from flask import templating
from flask.signals import before_render_template
from flask.signals import template_rendered

# -- loader and environment with a stand-in app ------------------------------


class FakeBlueprint:
    def __init__(self, name, templates):
        self.name = name
        self.import_name = f"fake.{name}"
        self.jinja_loader = DictLoader(templates) if templates is not None else None


class FakeApp:
    import_name = "fake"
    jinja_options: dict = {}
    debug = False

    def __init__(self, app_templates, *blueprints):
        self.jinja_loader = DictLoader(app_templates)
        self.blueprints = list(blueprints)
        self.config = {"EXPLAIN_TEMPLATE_LOADING": False, "TEMPLATES_AUTO_RELOAD": None}
        self.logged = []
        self.logger = type("L", (), {"info": lambda _s, msg: self.logged.append(msg)})()
        self.json = type("J", (), {"dumps": staticmethod(lambda o, **kw: "DUMPED")})()

    def iter_blueprints(self):
        return iter(self.blueprints)

    def create_global_jinja_loader(self):
        return templating.DispatchingJinjaLoader(self)

    def select_jinja_autoescape(self, filename):
        return filename is None or filename.endswith(".html")

    def url_for(self, endpoint, **values):
        return f"/{endpoint}"


def test_loader_prefers_app_then_blueprints_in_order():
    app = FakeApp(
        {"shared.html": "app"},
        FakeBlueprint("one", {"shared.html": "one", "only_one.html": "one"}),
        FakeBlueprint("none", None),
        FakeBlueprint("two", {"only_one.html": "two", "two.html": "two"}),
    )
    env = templating.Environment(app)
    assert isinstance(env.loader, templating.DispatchingJinjaLoader)
    assert env.app is app
    assert env.get_template("shared.html").render() == "app"
    assert env.get_template("only_one.html").render() == "one"
    assert env.get_template("two.html").render() == "two"
    with pytest.raises(TemplateNotFound):
        env.get_template("nowhere.html")
    assert env.list_templates() == ["only_one.html", "shared.html", "two.html"]
    assert app.logged == []


def test_loader_explains_when_configured():
    app = FakeApp({"a.html": "A"}, FakeBlueprint("bp", {"a.html": "B"}))
    app.config["EXPLAIN_TEMPLATE_LOADING"] = True
    env = templating.Environment(app)
    assert env.get_template("a.html").render() == "A"
    (text,) = app.logged
    assert "trying loader of application 'fake'" in text
    assert "trying loader of blueprint 'bp' (fake.bp)" in text
    assert "multiple loaders returned a match" in text

    with pytest.raises(TemplateNotFound):
        env.get_template("missing.html")
    assert "could not be found" in app.logged[-1]


def test_create_environment_options():
    app = FakeApp({"x.html": "{{ v }}", "x.txt": "{{ v }}"})
    env = templating.create_environment(app)
    assert type(env) is templating.Environment
    assert env.auto_reload is False
    assert env.globals["config"] is app.config
    assert env.globals["url_for"]("home") == "/home"
    assert env.globals["get_flashed_messages"] is flask.helpers.get_flashed_messages
    assert env.policies["json.dumps_function"] is app.json.dumps
    assert env.get_template("x.html").render(v="<b>") == "&lt;b&gt;"
    assert env.get_template("x.txt").render(v="<b>") == "<b>"

    app.debug = True
    assert templating.create_environment(app).auto_reload is True
    app.config["TEMPLATES_AUTO_RELOAD"] = False
    assert templating.create_environment(app).auto_reload is False

    class MyEnv(templating.Environment):
        pass

    app.jinja_environment = MyEnv
    app.jinja_options = {"autoescape": False, "auto_reload": True}
    env = templating.create_environment(app)
    assert type(env) is MyEnv
    assert env.auto_reload is True
    assert env.from_string("{{ v }}").render(v="<b>") == "<b>"


# -- through a real app ------------------------------------------------------


@pytest.fixture
def app(tmp_path):
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "hello.html").write_text("Hello {{ name }}!{{ extra }}")
    (folder / "plain.txt").write_text("{{ name }}")
    (folder / "globals.html").write_text(
        "{{ request.path }}|{{ session.get('k') }}|{{ g.v }}|{{ config.MARK }}"
    )
    app = flask.Flask("templating_app", root_path=os.fspath(tmp_path))
    app.config.update(TESTING=True, SECRET_KEY="s", MARK="m")
    return app


def test_render_template_and_context_processors(app):
    @app.context_processor
    def inject():
        return {"extra": "+", "name": "processor"}

    with app.test_request_context():
        # Explicit values win over context processors.
        assert flask.render_template("hello.html", name="<Ann>") == "Hello &lt;Ann&gt;!+"
        assert flask.render_template("plain.txt", name="<Ann>") == "<Ann>"
        assert flask.render_template(["nope.html", "plain.txt"], name="x") == "x"
        assert flask.render_template_string("{{ a }}", a=Markup("<i>")) == "<i>"
        with pytest.raises(TemplateNotFound):
            flask.render_template("nope.html")


def test_render_needs_app_context(app):
    with pytest.raises(RuntimeError, match="application context"):
        templating.render_template_string("x")


def test_request_globals_available(app):
    @app.route("/page")
    def page():
        flask.session["k"] = "sess"
        flask.g.v = "gv"
        return flask.render_template("globals.html")

    assert app.test_client().get("/page").data == b"/page|sess|gv|m"


def test_tojson_uses_app_json(app):
    with app.app_context():
        out = flask.render_template_string("{{ d|tojson }}", d={"b": 1, "a": "</"})
    assert json.loads(out.replace("\\u003c", "<")) == {"a": "</", "b": 1}
    assert "</" not in out


def test_signals_sent_and_context_mutable(app):
    events = []

    def before(sender, template, context):
        events.append(("before", sender, template.name))
        context["name"] = "changed"

    def after(sender, template, context):
        events.append(("after", sender, context["name"]))

    with before_render_template.connected_to(before, app), template_rendered.connected_to(
        after, app
    ):
        with app.app_context():
            assert flask.render_template("hello.html", name="orig") == "Hello changed!"
    assert events == [
        ("before", app, "hello.html"),
        ("after", app, "changed"),
    ]


def test_stream_template_in_request(app):
    rendered = []

    def after(sender, template, context):
        rendered.append(template.name)

    @app.route("/stream")
    def stream():
        return flask.stream_template("globals.html")

    @app.route("/stream-string")
    def stream_string():
        flask.g.v = "G"
        return flask.stream_template_string("{{ g.v }}{{ request.args.q }}")

    client = app.test_client()
    with template_rendered.connected_to(after, app):
        assert client.get("/stream").data == b"/stream|None||m"
    assert rendered == ["globals.html"]
    assert client.get("/stream-string?q=1").data == b"G1"


def test_stream_template_without_request(app):
    with app.app_context():
        pieces = flask.stream_template_string("{{ a }}-{{ b }}", a=1, b=2)
        assert "".join(pieces) == "1-2"


def test_get_template_attribute_macro(app, tmp_path):
    (tmp_path / "templates" / "macros.html").write_text(
        "{% macro twice(x) %}{{ x }}{{ x }}{% endmacro %}"
    )
    with app.app_context():
        assert flask.get_template_attribute("macros.html", "twice")("ab") == "abab"


def test_blueprint_templates_and_explain_logging(app, tmp_path, caplog):
    bp_folder = tmp_path / "bp_templates"
    bp_folder.mkdir()
    (bp_folder / "bp_only.html").write_text("from blueprint")
    bp = flask.Blueprint("shop", __name__, template_folder=os.fspath(bp_folder))

    @bp.route("/missing")
    def missing():
        return flask.render_template("absent.html")

    @bp.route("/found")
    def found():
        return flask.render_template("bp_only.html")

    app.register_blueprint(bp)
    client = app.test_client()
    assert client.get("/found").data == b"from blueprint"

    app.config["EXPLAIN_TEMPLATE_LOADING"] = True
    app.logger.setLevel(logging.INFO)
    with caplog.at_level(logging.INFO, logger=app.logger.name):
        with pytest.raises(TemplateNotFound):
            client.get("/missing")
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "Locating template 'absent.html'" in text
    assert "trying loader of application 'templating_app'" in text
    assert f"trying loader of blueprint 'shop' ({__name__})" in text
    assert "belongs to the blueprint 'shop'" in text


def test_custom_environment_class(app):
    class Env(templating.Environment):
        pass

    class App(flask.Flask):
        jinja_environment = Env

    assert isinstance(App("custom_env").jinja_env, Env)


def test_dict_attribute_lookup_matches_jinja_semantics():
    import flask
    from jinja2 import StrictUndefined, UndefinedError

    class Row(dict):
        id = "attribute wins on a subclass"

    app = flask.Flask(__name__)
    with app.app_context():
        render = flask.render_template_string
        row = {"id": 7, "items": "the key"}
        assert render("{{ row.id }}", row=row) == "7"
        # dict's own attributes still win over keys, as in Jinja
        assert render("{{ row.items is callable }}", row=row) == "True"
        assert render("{{ row.missing }}|{{ row.missing is defined }}", row=row) == "|False"
        assert render("{{ row.id }}", row=Row(id=1)) == "attribute wins on a subclass"
        app.jinja_env.undefined = StrictUndefined
        try:
            render("{{ row.missing }}", row=row)
        except UndefinedError as e:
            assert "missing" in str(e)
        else:
            raise AssertionError("StrictUndefined should raise")
