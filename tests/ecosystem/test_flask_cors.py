"""Flask-CORS running unmodified on our Flask.

``CORS(app)`` for everything, per-resource options, ``@cross_origin`` on
single views, CORS on a blueprint, and preflight ``OPTIONS`` requests answered
with the right ``Access-Control-*`` headers, also for error responses.
"""

from __future__ import annotations

import typing as t

import pytest
from flask_cors import CORS
from flask_cors import cross_origin

from flask import abort
from flask import Blueprint
from flask import Flask
from flask import jsonify
from flask import request

GOOD = "https://app.example.com"
EVIL = "https://evil.example.net"


def preflight(client: t.Any, path: str, origin: str, method: str = "PUT", headers: str = "") -> t.Any:
    h = {"Origin": origin, "Access-Control-Request-Method": method}
    if headers:
        h["Access-Control-Request-Headers"] = headers
    return client.options(path, headers=h)


def test_cors_everywhere() -> None:
    app = Flask(__name__)
    CORS(app)

    @app.route("/hello")
    def hello() -> str:
        return "hi"

    client = app.test_client()
    rv = client.get("/hello", headers={"Origin": GOOD})
    assert rv.data == b"hi"
    # origins="*" without send_wildcard echoes the request's origin.
    assert rv.headers["Access-Control-Allow-Origin"] == GOOD
    # Without an Origin header the wildcard is sent.
    assert client.get("/hello").headers["Access-Control-Allow-Origin"] == "*"

    rv = preflight(client, "/hello", GOOD, "GET", "X-Requested-With")
    assert rv.status_code == 200
    assert rv.headers["Access-Control-Allow-Origin"] == GOOD
    assert set(rv.headers["Access-Control-Allow-Methods"].split(", ")) >= {"GET", "POST", "PUT", "DELETE"}
    assert rv.headers["Access-Control-Allow-Headers"] == "X-Requested-With"
    # Flask's automatic OPTIONS response: nothing from the view, an Allow header.
    assert rv.data == b""
    assert set(rv.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}


@pytest.fixture
def api_app() -> Flask:
    app = Flask(__name__)
    CORS(
        app,
        resources={
            r"/api/*": {
                "origins": [GOOD, r"https://.*\.partner\.org"],
                "methods": ["GET", "POST", "PUT"],
                "allow_headers": ["Content-Type", "X-Token"],
                "expose_headers": ["X-Total-Count"],
                "supports_credentials": True,
                "max_age": 600,
            },
            "/public/*": {"origins": "*"},
        },
    )

    @app.get("/api/books")
    def books() -> t.Any:
        rv = jsonify([{"id": 1, "title": "Dune"}])
        rv.headers["X-Total-Count"] = "1"
        return rv

    @app.route("/api/books/<int:id>", methods=["PUT", "DELETE"])
    def update_book(id: int) -> t.Any:
        return {"id": id, "method": request.method}

    @app.get("/api/broken")
    def broken() -> t.Any:
        raise RuntimeError("boom")

    @app.get("/api/forbidden")
    def forbidden() -> t.Any:
        abort(403)

    @app.get("/public/logo")
    def logo() -> str:
        return "logo"

    @app.get("/internal")
    def internal() -> str:
        return "internal"

    return app


def test_resource_origin_allowed(api_app: Flask) -> None:
    client = api_app.test_client()
    rv = client.get("/api/books", headers={"Origin": GOOD})
    assert rv.get_json() == [{"id": 1, "title": "Dune"}]
    assert rv.headers["Access-Control-Allow-Origin"] == GOOD
    assert rv.headers["Access-Control-Allow-Credentials"] == "true"
    assert rv.headers["Access-Control-Expose-Headers"] == "X-Total-Count"
    assert "Origin" in rv.headers["Vary"]

    rv = client.get("/api/books", headers={"Origin": "https://shop.partner.org"})
    assert rv.headers["Access-Control-Allow-Origin"] == "https://shop.partner.org"


def test_resource_origin_refused(api_app: Flask) -> None:
    client = api_app.test_client()
    rv = client.get("/api/books", headers={"Origin": EVIL})
    # The request still runs; the browser is just not told it may read it.
    assert rv.status_code == 200
    assert "Access-Control-Allow-Origin" not in rv.headers
    assert "Access-Control-Allow-Credentials" not in rv.headers


def test_paths_outside_resources(api_app: Flask) -> None:
    client = api_app.test_client()
    rv = client.get("/internal", headers={"Origin": GOOD})
    assert rv.data == b"internal"
    assert not [h for h in rv.headers.keys() if h.startswith("Access-Control-")]
    rv = client.get("/public/logo", headers={"Origin": EVIL})
    assert rv.headers["Access-Control-Allow-Origin"] == EVIL


def test_resource_preflight(api_app: Flask) -> None:
    client = api_app.test_client()
    rv = preflight(client, "/api/books/3", GOOD, "PUT", "content-type, x-token")
    assert rv.status_code == 200
    assert rv.headers["Access-Control-Allow-Origin"] == GOOD
    assert set(rv.headers["Access-Control-Allow-Methods"].split(", ")) == {"GET", "POST", "PUT"}
    assert rv.headers["Access-Control-Allow-Headers"].lower() == "content-type, x-token"
    assert rv.headers["Access-Control-Max-Age"] == "600"
    assert rv.headers["Access-Control-Allow-Credentials"] == "true"
    assert set(rv.headers["Allow"].split(", ")) == {"PUT", "DELETE", "OPTIONS"}

    # A header that is not allowed is left out of the answer.
    rv = preflight(client, "/api/books/3", GOOD, "PUT", "X-Evil")
    assert "Access-Control-Allow-Headers" not in rv.headers
    # A method that is not allowed is not in the answer.
    rv = preflight(client, "/api/books/3", GOOD, "PATCH")
    assert "PATCH" not in rv.headers.get("Access-Control-Allow-Methods", "")

    # The actual request after the preflight.
    rv = client.put("/api/books/3", headers={"Origin": GOOD}, json={})
    assert rv.get_json() == {"id": 3, "method": "PUT"}
    assert rv.headers["Access-Control-Allow-Origin"] == GOOD


def test_error_responses_get_cors_headers(api_app: Flask) -> None:
    client = api_app.test_client()
    rv = client.get("/api/nowhere", headers={"Origin": GOOD})
    assert rv.status_code == 404
    assert rv.headers["Access-Control-Allow-Origin"] == GOOD
    rv = client.get("/api/forbidden", headers={"Origin": GOOD})
    assert rv.status_code == 403
    assert rv.headers["Access-Control-Allow-Origin"] == GOOD
    rv = client.post("/api/books", headers={"Origin": GOOD})
    assert rv.status_code == 405
    assert rv.headers["Access-Control-Allow-Origin"] == GOOD

    # An unhandled exception becomes a 500 (not testing, so not propagated);
    # Flask-CORS wrapped handle_exception on the app instance.
    rv = client.get("/api/broken", headers={"Origin": GOOD})
    assert rv.status_code == 500
    assert rv.headers["Access-Control-Allow-Origin"] == GOOD


def test_intercept_exceptions_wraps_app_methods(api_app: Flask) -> None:
    # Flask-CORS replaces these on the instance; the app must call them.
    assert "handle_exception" in vars(api_app)
    assert "handle_user_exception" in vars(api_app)
    called: list[str] = []
    wrapped = api_app.handle_user_exception

    def spy(e: Exception) -> t.Any:
        called.append(type(e).__name__)
        return wrapped(e)

    api_app.handle_user_exception = spy  # type: ignore[method-assign]
    rv = api_app.test_client().get("/api/forbidden", headers={"Origin": GOOD})
    assert rv.status_code == 403
    assert called == ["Forbidden"]


def test_cross_origin_decorator() -> None:
    app = Flask(__name__)

    @app.route("/open", methods=["GET", "POST"])
    @cross_origin()
    def open_view() -> str:
        return f"open {request.method}"

    @app.route("/partner")
    @cross_origin(origins=[GOOD], methods=["GET"], max_age=120, allow_headers=["X-Token"])
    def partner() -> str:
        return "partner"

    @app.route("/plain")
    def plain() -> str:
        return "plain"

    client = app.test_client()
    rv = client.post("/open", headers={"Origin": EVIL})
    assert rv.data == b"open POST"
    assert rv.headers["Access-Control-Allow-Origin"] == EVIL

    rv = client.get("/partner", headers={"Origin": GOOD})
    assert rv.headers["Access-Control-Allow-Origin"] == GOOD
    rv = client.get("/partner", headers={"Origin": EVIL})
    assert "Access-Control-Allow-Origin" not in rv.headers

    # The decorator turns off Flask's automatic OPTIONS for the view and
    # answers the preflight itself (via app.make_default_options_response).
    assert app.view_functions["partner"].provide_automatic_options is False
    assert "OPTIONS" in app.view_functions["partner"].required_methods
    (rule,) = app.url_map.iter_rules("partner")
    assert "OPTIONS" in rule.methods
    rv = preflight(client, "/partner", GOOD, "GET", "X-Token")
    assert rv.status_code == 200
    assert rv.data == b""
    assert rv.headers["Access-Control-Allow-Origin"] == GOOD
    assert rv.headers["Access-Control-Allow-Methods"] == "GET"
    assert rv.headers["Access-Control-Max-Age"] == "120"
    assert rv.headers["Access-Control-Allow-Headers"] == "X-Token"
    assert set(rv.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}

    rv = client.get("/plain", headers={"Origin": GOOD})
    assert "Access-Control-Allow-Origin" not in rv.headers


def test_cross_origin_without_automatic_options() -> None:
    app = Flask(__name__)

    @app.route("/manual", methods=["GET", "OPTIONS"])
    @cross_origin(automatic_options=False)
    def manual() -> str:
        return f"view saw {request.method}"

    rv = app.test_client().options("/manual", headers={"Origin": GOOD})
    assert rv.data == b"view saw OPTIONS"
    assert rv.headers["Access-Control-Allow-Origin"] == GOOD


def test_cors_on_blueprint() -> None:
    app = Flask(__name__)
    api = Blueprint("api", __name__, url_prefix="/v1")
    CORS(api, origins=[GOOD])

    @api.get("/ping")
    def ping() -> str:
        return "pong"

    @app.get("/root")
    def root() -> str:
        return "root"

    app.register_blueprint(api)
    client = app.test_client()
    rv = client.get("/v1/ping", headers={"Origin": GOOD})
    assert rv.headers["Access-Control-Allow-Origin"] == GOOD
    rv = client.get("/root", headers={"Origin": GOOD})
    assert "Access-Control-Allow-Origin" not in rv.headers


def test_config_driven_options() -> None:
    app = Flask(__name__)
    app.config["CORS_ORIGINS"] = [GOOD]
    app.config["CORS_SUPPORTS_CREDENTIALS"] = True
    CORS(app)

    @app.get("/x")
    def x() -> str:
        return "x"

    rv = app.test_client().get("/x", headers={"Origin": GOOD})
    assert rv.headers["Access-Control-Allow-Origin"] == GOOD
    assert rv.headers["Access-Control-Allow-Credentials"] == "true"
