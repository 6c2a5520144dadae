"""Error pages: HTML for browsers, JSON for anything under ``/api/``."""

from __future__ import annotations

from flask import Flask, render_template, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException, InternalServerError

# Codes that get a page of their own; the rest fall back to generic.html.
HTML_PAGES = {404: "errors/404.html", 500: "errors/500.html"}


def wants_json() -> bool:
    """API paths always answer in JSON, whatever the client accepts."""
    path: str = request.path
    return path == "/api" or path.startswith("/api/")


def json_error(e: HTTPException) -> tuple[dict[str, object], int]:
    """The JSON body and status code for ``e``."""
    code = e.code or 500
    return {"error": e.name, "message": e.description, "status": code}, code


def handle_http_error(e: HTTPException) -> HTTPException | ResponseReturnValue:
    """Render HTTP errors raised by views, abort() or routing."""
    if wants_json():
        body, code = json_error(e)
        # Keep e.g. the Allow header of a 405 on the JSON response.
        headers = [h for h in e.get_headers() if h[0].lower() != "content-type"]
        return body, code, headers
    if e.code is None or e.code < 400:
        # Redirect-style exceptions (RequestRedirect) must pass through.
        return e
    template = HTML_PAGES.get(e.code, "errors/generic.html")
    return render_template(template, error=e), e.code


def handle_server_error(e: InternalServerError) -> ResponseReturnValue:
    """Unhandled exceptions arrive here wrapped in InternalServerError."""
    if wants_json():
        return json_error(e)
    return render_template("errors/500.html", error=e), 500


def init_app(app: Flask) -> None:
    """Register the handlers on ``app``."""
    app.register_error_handler(HTTPException, handle_http_error)
    # A more specific handler than HTTPException, so it's also the one Flask
    # uses for unhandled exceptions when they are turned into a 500.
    app.register_error_handler(InternalServerError, handle_server_error)
