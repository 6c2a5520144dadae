"""``flask.sansio``: Flask 3's protocol-free classes, as extensions use them.

- Flask-SQLAlchemy-Lite, Flask-Admin and Quart import
  ``flask.sansio.app.App`` and take it to mean "a Flask-style app";
- Quart subclasses ``flask.sansio.blueprints.Blueprint`` and overrides
  ``_merge_blueprint_funcs``, and decorates its own methods with
  ``flask.sansio.scaffold.setupmethod``;
- Flask-RESTX imports ``flask.sansio.scaffold._endpoint_from_view_func``;
- flask-pydantic style code subclasses ``flask.sansio.scaffold.Scaffold``
  and annotates with ``T_route``.
"""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
import typing as t
from datetime import timedelta
from pathlib import Path

import pytest
import werkzeug.routing

import flask
import flask.blueprints
import flask.scaffold
from flask.sansio.app import App
from flask.sansio.blueprints import Blueprint as SansioBlueprint
from flask.sansio.blueprints import BlueprintSetupState
from flask.sansio.scaffold import _endpoint_from_view_func
from flask.sansio.scaffold import Scaffold
from flask.sansio.scaffold import setupmethod
from flask.sansio.scaffold import T_route

SRC = Path(flask.__file__).resolve().parent


def test_the_modules_import_in_a_fresh_interpreter() -> None:
    code = (
        "import flask.sansio.app, flask.sansio.blueprints, flask.sansio.scaffold, flask\n"
        "assert issubclass(flask.Flask, flask.sansio.app.App)\n"
        "assert issubclass(flask.Blueprint, flask.sansio.blueprints.Blueprint)\n"
    )
    subprocess.run([sys.executable, "-W", "error", "-c", code], check=True)


def test_class_hierarchy_matches_flask_3() -> None:
    assert issubclass(flask.Flask, App)
    assert issubclass(App, Scaffold)
    assert issubclass(flask.Blueprint, SansioBlueprint)
    assert issubclass(SansioBlueprint, Scaffold)
    # One Scaffold, one BlueprintSetupState, whichever path is imported.
    assert Scaffold is flask.scaffold.Scaffold
    assert setupmethod is flask.scaffold.setupmethod
    assert BlueprintSetupState is flask.blueprints.BlueprintSetupState
    app = flask.Flask(__name__)
    assert isinstance(app, App)
    assert isinstance(flask.Blueprint("bp", __name__), SansioBlueprint)


def _module_level_imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.ImportFrom) and node.level:
            found.add(node.module or "")
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_sansio_does_not_import_the_request_path() -> None:
    """The layering promise: nothing in flask.sansio pulls in the WSGI
    request path, the Flask class, sessions or the test client."""
    request_path = {"pipeline", "app", "sessions", "testing", "serving", "responses"}
    for name in ("app", "blueprints", "scaffold"):
        imports = _module_level_imports(SRC / "sansio" / f"{name}.py")
        top = {i.split(".")[0] for i in imports}
        assert not top & request_path, (name, imports)
    code = (
        "import sys, flask.sansio.app, flask.sansio.blueprints, flask.sansio.scaffold\n"
        "print(sorted(m for m in ('flask.pipeline', 'flask.app', 'flask.sessions',"
        " 'flask.testing') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    # Importing the subpackage runs flask/__init__, which imports flask.app;
    # the sessions and test client are still left out.
    assert out.strip() == "['flask.app', 'flask.pipeline']"


class MiniApp(App):
    """An app with no protocol at all, like Quart's base: App's registries
    and setup rules are enough to build the URL map."""

    def create_jinja_environment(self) -> t.Any:
        from jinja2 import Environment

        return Environment()


def test_a_protocol_free_app_registers_routes_and_blueprints() -> None:
    app = MiniApp("mini", static_folder=None)
    bp = SansioBlueprint("api", __name__, url_prefix="/api")

    @bp.route("/items/<int:id>")
    def item(id: int) -> str:
        return str(id)

    @app.route("/")
    def index() -> str:
        return "home"

    app.register_blueprint(bp)
    adapter = app.url_map.bind("example.test")
    # Werkzeug's own matcher answers for the map App built.
    assert adapter.match("/") == ("index", {})
    assert adapter.match("/api/items/3") == ("api.item", {"id": 3})
    assert app.view_functions["api.item"] is item
    assert app.blueprints == {"api": bp}
    assert app.config["PERMANENT_SESSION_LIFETIME"] == timedelta(days=31)
    assert app.permanent_session_lifetime == timedelta(days=31)
    assert app.extensions == {}
    # Jinja registrations go to the subclass's environment.
    app.add_template_filter(str.upper, "shout")
    assert app.jinja_env.from_string("{{ 'x' | shout }}").render() == "X"


def test_redirect_uses_the_subclass_response_class() -> None:
    """Quart's ``redirect`` helper calls ``current_app.redirect``, App's."""
    from werkzeug.wrappers import Response as WerkzeugResponse

    class PlainResponse(WerkzeugResponse):
        pass

    class RedirectingApp(MiniApp):
        response_class = PlainResponse

    r = RedirectingApp("mini", static_folder=None).redirect("/there", 307)
    assert type(r) is PlainResponse
    assert (r.status_code, r.headers["Location"]) == (307, "/there")


def test_explicit_automatic_options_leaves_the_methods_as_given() -> None:
    """As Pallets' App does, and Quart's tests check: OPTIONS joins a rule's
    methods only when the rule decides on automatic OPTIONS itself."""
    app = MiniApp("mini", static_folder=None)

    def view() -> str:
        return ""

    app.add_url_rule("/a", "a", view, methods=["GET"], provide_automatic_options=True)
    app.add_url_rule("/b", "b", view, methods=["GET"])
    app.add_url_rule("/c", "c", view, methods=["GET"], provide_automatic_options=False)
    rules = {r.endpoint: r for r in app.url_map.iter_rules()}
    assert rules["a"].methods == {"GET", "HEAD"}
    assert rules["a"].provide_automatic_options is True  # type: ignore[attr-defined]
    assert rules["b"].methods == {"GET", "HEAD", "OPTIONS"}
    assert rules["b"].provide_automatic_options is True  # type: ignore[attr-defined]
    assert rules["c"].methods == {"GET", "HEAD"}
    assert rules["c"].provide_automatic_options is False  # type: ignore[attr-defined]


def test_app_leaves_the_jinja_environment_to_the_subclass() -> None:
    app = App("bare", static_folder=None)
    with pytest.raises(NotImplementedError):
        app.create_jinja_environment()


def test_the_static_route_is_the_subclass_s_to_add(tmp_path: Path) -> None:
    """Quart's App adds its own ``static`` rule (an async view) after
    ``App.__init__``; a second one from the base would clash."""
    (tmp_path / "static").mkdir()
    app = MiniApp("mini", root_path=str(tmp_path))
    assert app.has_static_folder
    assert [r.endpoint for r in app.url_map.iter_rules()] == []

    async def send_static_file(filename: str) -> str:
        return filename

    app.add_url_rule(f"{app.static_url_path}/<path:filename>", "static", send_static_file)
    assert app.url_map.bind("x").match("/static/a.css") == ("static", {"filename": "a.css"})
    flask_app = flask.Flask("mini", root_path=str(tmp_path))
    assert [r.rule for r in flask_app.url_map.iter_rules()] == ["/static/<path:filename>"]


def test_setup_is_refused_after_the_first_request() -> None:
    app = flask.Flask(__name__)

    @app.get("/")
    def index() -> str:
        return "ok"

    assert app._got_first_request is False
    app.test_client().get("/")
    assert app._got_first_request is True
    with pytest.raises(AssertionError, match="can no longer be called"):
        app.add_url_rule("/late", view_func=index)
    # Apps and test fixtures reset the flag to allow late setup.
    app._got_first_request = False
    app.add_url_rule("/late", "late", view_func=index)


def test_setupmethod_on_a_subclass_method() -> None:
    """Quart decorates its own setup methods (before_serving, ...) with it."""

    class ServingApp(flask.Flask):
        @setupmethod
        def before_serving(self, func: t.Callable[[], None]) -> t.Callable[[], None]:
            self.__dict__.setdefault("serving", []).append(func)
            return func

    app = ServingApp(__name__)
    app.before_serving(print)
    assert app.before_serving.__name__ == "before_serving"
    app._got_first_request = True
    with pytest.raises(AssertionError, match="'before_serving'"):
        app.before_serving(print)

    bp = flask.Blueprint("bp", __name__)
    app2 = flask.Flask(__name__)
    app2.register_blueprint(bp)
    with pytest.raises(AssertionError, match="blueprint 'bp'"):
        bp._check_setup_finished("record")


def test_merge_blueprint_funcs_is_the_hook_subclasses_extend() -> None:
    """Quart's Blueprint overrides it to copy its own registries."""
    calls: list[tuple[t.Any, str]] = []

    class QuartLikeBlueprint(flask.Blueprint):
        def _merge_blueprint_funcs(self, app: App, name: str) -> None:
            super()._merge_blueprint_funcs(app, name)
            calls.append((app, name))

    parent = QuartLikeBlueprint("parent", __name__)
    child = QuartLikeBlueprint("child", __name__)

    @child.before_request
    def hook() -> None:
        pass

    parent.register_blueprint(child)
    app = flask.Flask(__name__)
    app.register_blueprint(parent)
    assert calls == [(app, "parent"), (app, "parent.child")]
    assert app.before_request_funcs["parent.child"] == [hook]


def test_endpoint_from_view_func() -> None:
    def my_view() -> str:
        return ""

    assert _endpoint_from_view_func(my_view) == "my_view"
    with pytest.raises(AssertionError, match="expected view func"):
        _endpoint_from_view_func(None)


def test_t_route_annotates_a_scaffold_subclass_route() -> None:
    """flask-pydantic's PydanticScaffold overrides ``route`` with T_route."""
    assert isinstance(T_route, t.TypeVar)
    seen: list[str] = []

    class ValidatingApp(flask.Flask):
        def route(self, rule: str, **options: t.Any) -> t.Callable[[T_route], T_route]:
            inner = super().route(rule, **options)

            def decorator(f: T_route) -> T_route:
                seen.append(rule)
                return inner(f)

            return decorator

    app = ValidatingApp(__name__)

    @app.get("/x")
    def x() -> str:
        return "x"

    assert seen == ["/x"]
    assert app.test_client().get("/x").data == b"x"


def test_other_flask_3_names() -> None:
    sansio_app = importlib.import_module("flask.sansio.app")
    sansio_scaffold = importlib.import_module("flask.sansio.scaffold")
    assert sansio_app._make_timedelta(60) == timedelta(seconds=60)
    assert sansio_app._make_timedelta(None) is None
    # The folder the top-level package was imported from.
    assert Path(sansio_scaffold._find_package_path("flask")) == SRC.parent
    assert Path(sansio_scaffold._find_package_path("flask.sansio.app")) == SRC.parent
    assert flask.app.Rule is werkzeug.routing.Rule
