"""Turning a view's return value into a response object."""

from __future__ import annotations

import typing as t
from collections.abc import AsyncIterator
from collections.abc import Iterator

from werkzeug.datastructures import Headers
from werkzeug.wrappers import Response as BaseResponse

from .globals import _cv_request

if t.TYPE_CHECKING:  # pragma: no cover
    from .app import Flask
    from .wrappers import Response

_BAD_TUPLE = (
    "The view function did not return a valid response tuple."
    " The tuple must have the form (body, status, headers),"
    " (body, status), or (body, headers)."
)
_RETURN_TYPES = (
    "The return type must be a string, dict, list, tuple with headers or"
    " status, Response instance, or WSGI callable"
)


def _endpoint() -> str | None:
    ctx = _cv_request.get(None)
    return None if ctx is None else ctx.request.endpoint


def make_response(app: Flask, rv: t.Any) -> Response:
    """Convert a view's return value to :attr:`Flask.response_class`.

    ``rv`` may be a response object, a ``str``/``bytes`` body or an
    iterator of them (an async one when served over ASGI), a ``dict`` or ``list`` (sent as JSON), a WSGI
    callable, or a tuple ``(body, status, headers)``, ``(body, status)``
    or ``(body, headers)``.
    """
    status = headers = None
    if type(rv) is tuple:
        if len(rv) == 3:
            rv, status, headers = rv
        elif len(rv) == 2:
            if isinstance(rv[1], (Headers, dict, tuple, list)):
                rv, headers = rv
            else:
                rv, status = rv
        else:
            raise TypeError(_BAD_TUPLE)

    if rv is None:
        raise TypeError(
            f"The view function for {_endpoint()!r} did not return a valid"
            " response. The function either returned None or ended without a"
            " return statement."
        )

    response_class = app.response_class
    if not isinstance(rv, response_class):
        if isinstance(rv, (str, bytes, bytearray, Iterator, AsyncIterator)):
            # Status and headers go to the constructor, which is cheaper than
            # setting them afterwards.
            rv = response_class(rv, status=status, headers=headers)
            status = headers = None
        elif isinstance(rv, (dict, list)):
            rv = app.json.response(rv)
        elif isinstance(rv, BaseResponse) or callable(rv):
            ctx = _cv_request.get(None)
            environ = None if ctx is None else ctx.request.environ
            try:
                # force_type also takes a WSGI callable, which Werkzeug's
                # annotation leaves out.
                rv = response_class.force_type(rv, environ)  # pyright: ignore[reportArgumentType]
            except TypeError as e:
                raise TypeError(
                    f"{e}\nThe view function did not return a valid response."
                    f" {_RETURN_TYPES}, but it was a {type(rv).__name__}."
                ).with_traceback(e.__traceback__) from None
        else:
            raise TypeError(
                "The view function did not return a valid response."
                f" {_RETURN_TYPES}, but it was a {type(rv).__name__}."
            )

    if status is not None:
        # Werkzeug's ``status`` setter takes a code as well as a status line
        # (``status_code``'s setter is that same assignment).
        rv.status = status
    if headers:
        rv.headers.update(headers)
    return rv  # type: ignore[no-any-return]
