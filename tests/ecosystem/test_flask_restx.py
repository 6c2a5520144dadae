"""Flask-RESTX running unmodified on our Flask.

At import it resolves ``flask.sansio.scaffold._endpoint_from_view_func``
(on Flask 3) and otherwise falls back to a copy of its own after arming a
``FlaskCompatibilityWarning``. ``Api`` replaces ``app.handle_exception`` and
``app.handle_user_exception`` on the instance with its error router, adds
rules through ``BlueprintSetupState`` (whose ``add_url_rule`` it swaps on
the state object), serves a Swagger document built from ``app.url_map``,
and validates payloads against models.
"""

from __future__ import annotations

import subprocess
import sys
import typing as t

import pytest
from flask_restx import Api
from flask_restx import fields
from flask_restx import Namespace
from flask_restx import Resource

from flask import Blueprint
from flask import Flask


def make_app(with_blueprint: bool = False) -> Flask:
    app = Flask(__name__)
    app.config["TESTING"] = True
    todos: dict[int, dict[str, t.Any]] = {1: {"id": 1, "task": "write tests"}}

    if with_blueprint:
        bp = Blueprint("api", __name__, url_prefix="/api/v1")
        api = Api(bp, version="1.0", title="Todo API", doc="/docs/")
    else:
        api = Api(app, version="1.0", title="Todo API", doc="/docs/")

    ns = Namespace("todos", description="Todo operations")
    todo = ns.model(
        "Todo",
        {
            "id": fields.Integer(readonly=True),
            "task": fields.String(required=True, min_length=1),
        },
    )

    class NotReady(Exception):
        pass

    @ns.errorhandler(NotReady)
    def not_ready(error: NotReady) -> tuple[dict[str, str], int]:
        return {"message": "not ready yet"}, 503

    @ns.route("/")
    class TodoList(Resource):
        @ns.marshal_list_with(todo)
        def get(self) -> t.Any:
            return list(todos.values())

        @ns.expect(todo, validate=True)
        @ns.marshal_with(todo, code=201)
        def post(self) -> t.Any:
            new = {"id": max(todos) + 1, "task": api.payload["task"]}
            todos[new["id"]] = new
            return new, 201

    @ns.route("/<int:id>")
    @ns.response(404, "Todo not found")
    class TodoItem(Resource):
        @ns.marshal_with(todo)
        def get(self, id: int) -> t.Any:
            if id not in todos:
                ns.abort(404, f"Todo {id} doesn't exist")
            return todos[id]

    @ns.route("/broken")
    class Broken(Resource):
        def get(self) -> t.Any:
            raise NotReady()

    api.add_namespace(ns)
    if with_blueprint:
        app.register_blueprint(bp)
    return app


def test_imports_flasks_endpoint_helper_without_warnings() -> None:
    code = (
        "import warnings\n"
        "warnings.simplefilter('error')\n"
        "import flask.sansio.scaffold, flask_restx.api\n"
        "assert flask_restx.api.endpoint_from_view_func is"
        " flask.sansio.scaffold._endpoint_from_view_func\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)


@pytest.mark.parametrize("with_blueprint", [False, True])
def test_resources_marshalling_and_validation(with_blueprint: bool) -> None:
    app = make_app(with_blueprint)
    prefix = "/api/v1" if with_blueprint else ""
    client = app.test_client()

    assert client.get(f"{prefix}/todos/").get_json() == [{"id": 1, "task": "write tests"}]
    r = client.post(f"{prefix}/todos/", json={"task": "ship it", "extra": True})
    assert r.status_code == 201
    assert r.get_json() == {"id": 2, "task": "ship it"}
    assert client.get(f"{prefix}/todos/2").get_json() == {"id": 2, "task": "ship it"}

    bad = client.post(f"{prefix}/todos/", json={"task": ""})
    assert bad.status_code == 400
    assert "task" in bad.get_json()["errors"]


@pytest.mark.parametrize("with_blueprint", [False, True])
def test_errors_go_through_the_api_error_router(with_blueprint: bool) -> None:
    app = make_app(with_blueprint)
    prefix = "/api/v1" if with_blueprint else ""
    client = app.test_client()

    missing = client.get(f"{prefix}/todos/99")
    assert missing.status_code == 404
    assert missing.get_json()["message"].startswith("Todo 99 doesn't exist")
    broken = client.get(f"{prefix}/todos/broken")
    assert broken.status_code == 503
    assert broken.get_json() == {"message": "not ready yet"}
    # A 405 from routing is answered as JSON by the API as well.
    r = client.delete(f"{prefix}/todos/1")
    assert r.status_code == 405
    assert r.is_json


def test_swagger_document_lists_the_routes() -> None:
    app = make_app(with_blueprint=True)
    client = app.test_client()
    spec = client.get("/api/v1/swagger.json").get_json()
    assert spec["info"] == {"title": "Todo API", "version": "1.0"}
    assert spec["basePath"] == "/api/v1"
    assert set(spec["paths"]) == {"/todos/", "/todos/{id}", "/todos/broken"}
    assert set(spec["paths"]["/todos/"]) == {"get", "post"}
    assert spec["definitions"]["Todo"]["required"] == ["task"]
    docs = client.get("/api/v1/docs/")
    assert docs.status_code == 200
    assert b"swagger" in docs.data.lower()


def test_a_blueprint_api_registers_once() -> None:
    bp = Blueprint("once", __name__)
    Api(bp)
    app = Flask(__name__)
    try:
        from werkzeug.routing.exceptions import DuplicateRuleError
    except ImportError:  # Werkzeug before 3.2
        pass
    else:
        # A blueprint Api adds "/" twice (its root and its doc endpoint),
        # which Werkzeug 3.2 refuses; Pallets Flask raises the same.
        with pytest.raises(DuplicateRuleError):
            app.register_blueprint(bp)
        return
    app.register_blueprint(bp)
    with pytest.raises(ValueError, match="only be registered once"):
        app.register_blueprint(bp, name="again")
