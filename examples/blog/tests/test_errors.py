from __future__ import annotations

import pytest

from conftest import build_app


def test_html_404_page(client):
    r = client.get("/no/such/page")
    assert r.status_code == 404
    assert r.mimetype == "text/html"
    assert b"<title>Page not found" in r.data
    # It is a full page of the site, built on base.html.
    assert b'href="/static/style.css"' in r.data
    assert b"Back to the front page" in r.data


def test_html_405_uses_generic_page(client):
    r = client.put("/")
    assert r.status_code == 405
    assert b"<title>405 Method Not Allowed" in r.data


@pytest.fixture
def fragile_app(db_path, tmp_path):
    """An app with routes that crash, and exceptions not propagated."""
    app = build_app(db_path, tmp_path, TESTING=False, PROPAGATE_EXCEPTIONS=False)

    @app.route("/boom")
    def boom() -> str:
        raise RuntimeError("kaboom")

    @app.route("/api/boom")
    def api_boom() -> str:
        raise RuntimeError("kaboom")

    return app


def test_html_500_page(fragile_app):
    r = fragile_app.test_client().get("/boom")
    assert r.status_code == 500
    assert r.mimetype == "text/html"
    assert b"<title>Something went wrong" in r.data
    # Internals are not leaked to visitors.
    assert b"kaboom" not in r.data


def test_api_500_is_json(fragile_app):
    r = fragile_app.test_client().get("/api/boom")
    assert r.status_code == 500
    assert r.get_json()["error"] == "Internal Server Error"
    assert b"kaboom" not in r.data


def test_testing_mode_propagates(app):
    @app.route("/explode")
    def explode() -> str:
        raise RuntimeError("kaboom")

    with pytest.raises(RuntimeError, match="kaboom"):
        app.test_client().get("/explode")


def test_health(client):
    assert client.get("/health").get_json() == {"status": "ok"}
