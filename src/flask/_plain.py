"""The pieces of a plain answer (:func:`flask.pipeline._plain_answer`):
the headers and bodies Werkzeug would have produced for a plain ``str``
or ``dict`` return value or an unhandled HTTP error, without building a
response object."""

from __future__ import annotations

import typing as t

from werkzeug.exceptions import HTTPException
from werkzeug.utils import get_content_type

from .json.provider import DefaultJSONProvider
from .wrappers import Response

if t.TYPE_CHECKING:  # pragma: no cover
    from _typeshed.wsgi import WSGIEnvironment

HTML_UTF8 = get_content_type(Response.default_mimetype or "text/html", "utf-8")
JSON = get_content_type(DefaultJSONProvider.mimetype, "utf-8")


# (exception class, code, description) -> (status line, HTML body)
_error_pages: dict[tuple[type, int | None, t.Any], tuple[str, bytes]] = {}


def error_page(rv: HTTPException, environ: WSGIEnvironment) -> tuple[str, bytes]:
    """The status line and body Werkzeug renders for an HTTP error.

    Werkzeug's page depends only on the code, its name and the
    description, but rendering it (escaping, a name lookup that imports)
    was a fifth of a 404 request; pages of classes that render themselves
    differently are not remembered.
    """
    cls = type(rv)
    key = (cls, rv.code, rv.description)
    page = _error_pages.get(key)
    if page is None:
        # The status line is Werkzeug's for the code (get_response builds
        # Response(status=code)), not the exception's own name.
        status = status_line(rv.code)
        page = (status, rv.get_body(environ).encode())
        if (
            cls.get_body is HTTPException.get_body
            and cls.get_description is HTTPException.get_description
            and cls.name is HTTPException.name
            and type(rv.description) is str
            and len(_error_pages) < 64  # descriptions may embed request data
        ):
            _error_pages[key] = page
    return page


def headers(content_type: str, body: bytes) -> list[tuple[str, str]]:
    return [("Content-Type", content_type), ("Content-Length", str(len(body)))]


def status_line(code: int | None) -> str:
    # Werkzeug's own status line for the code: its wording changes between
    # versions (upper case before 3.2, title case after).
    return Response(status=code or 500).status
