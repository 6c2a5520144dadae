"""Quart, Pallets' ASGI framework, running on our ``flask.sansio``.

Quart's ``Quart`` subclasses ``flask.sansio.app.App`` and its ``Blueprint``
subclasses ``flask.sansio.blueprints.Blueprint``: configuration, the URL
map, the registries, blueprint registration (through
``_merge_blueprint_funcs``), ``setupmethod``, ``_find_error_handler``,
``redirect`` and ``handle_url_build_error`` are ours, the async request
path is Quart's. (Quart's own test suite gives the same results on this
package as on Pallets Flask 3.1.3.)
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import typing as t

from quart import Blueprint
from quart import Quart
from quart import redirect
from quart import request
from quart import session
from quart import url_for

from flask.sansio.app import App
from flask.sansio.blueprints import Blueprint as SansioBlueprint


def make_app() -> Quart:
    app = Quart(__name__)
    app.config.update(TESTING=True, SECRET_KEY="quart secret")
    api = Blueprint("api", __name__, url_prefix="/api")
    calls: list[str] = []
    app.config["CALLS"] = calls

    @api.before_request
    async def api_before() -> None:
        calls.append("api before")

    @api.route("/items/<int:id>", methods=["GET", "PUT"])
    async def item(id: int) -> t.Any:
        if request.method == "PUT":
            data = await request.get_json()
            return {"id": id, "name": data["name"]}
        return {"id": id, "url": url_for("api.item", id=id)}

    @api.errorhandler(KeyError)
    async def key_error(e: KeyError) -> tuple[dict[str, str], int]:
        return {"missing": e.args[0]}, 400

    @api.get("/broken")
    async def broken() -> str:
        raise KeyError("name")

    @app.route("/login/<name>", methods=["POST"])
    async def login(name: str) -> t.Any:
        session["user"] = name
        return redirect(url_for("whoami"))

    @app.get("/whoami")
    async def whoami() -> t.Any:
        return {"user": session.get("user")}

    @app.errorhandler(404)
    async def not_found(e: Exception) -> tuple[str, int]:
        return "nothing here", 404

    app.register_blueprint(api)
    return app


def run(coro: t.Awaitable[t.Any]) -> t.Any:
    return asyncio.run(coro)  # type: ignore[arg-type]


def test_quart_is_built_on_our_sansio_classes() -> None:
    assert issubclass(Quart, App)
    assert issubclass(Blueprint, SansioBlueprint)


def test_imports_without_warnings() -> None:
    # Every warning is an error, but those Quart's own modules cause by
    # importing what Werkzeug deprecates (parse_etags, on Werkzeug 3.2):
    # Pallets Flask gets them too; a warning from flask stays an error.
    code = (
        "import warnings\n"
        "warnings.simplefilter('error')\n"
        "warnings.filterwarnings('ignore', category=DeprecationWarning, module=r'quart\\.')\n"
        "import quart\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)


def test_routes_blueprints_and_hooks() -> None:
    app = make_app()

    async def scenario() -> None:
        client = app.test_client()
        r = await client.get("/api/items/3")
        assert r.status_code == 200
        assert await r.get_json() == {"id": 3, "url": "/api/items/3"}
        r = await client.put("/api/items/4", json={"name": "four"})
        assert await r.get_json() == {"id": 4, "name": "four"}
        # Quart's OPTIONS answer from the rule App built.
        r = await client.options("/api/items/3")
        assert set(r.headers["Allow"].split(", ")) == {"GET", "HEAD", "PUT", "OPTIONS"}
        r = await client.delete("/api/items/3")
        assert r.status_code == 405

    run(scenario())
    # GET, PUT and the 405; Quart answers OPTIONS before the hooks run.
    assert app.config["CALLS"] == ["api before"] * 3
    assert sorted(app.blueprints) == ["api"]
    assert app.before_request_funcs["api"]


def test_error_handlers_found_through_the_blueprint_scopes() -> None:
    app = make_app()

    async def scenario() -> None:
        client = app.test_client()
        r = await client.get("/api/broken")
        assert (r.status_code, await r.get_json()) == (400, {"missing": "name"})
        r = await client.get("/nowhere")
        assert (r.status_code, await r.get_data()) == (404, b"nothing here")

    run(scenario())


def test_redirect_and_session() -> None:
    app = make_app()

    async def scenario() -> None:
        client = app.test_client()
        r = await client.post("/login/zoe")
        assert r.status_code == 302
        assert r.headers["Location"] == "/whoami"
        r = await client.get("/whoami")
        assert await r.get_json() == {"user": "zoe"}

    run(scenario())
