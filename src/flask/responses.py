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
    from .typing import ResponseReturnValue
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

_ASYNC_BODY_NEEDS_ASGI = (
    "The response body for {endpoint!r} is an async iterator, which only an"
    " ASGI server can send, but this request came through WSGI. Serve"
    " app.asgi_app with an ASGI server (for example 'uvicorn"
    " module:app.asgi_app'), or make the body a plain iterator."
)


def _endpoint() -> str | None:
    ctx = _cv_request.get(None)
    return None if ctx is None else ctx.request.endpoint


def _check_async_body() -> None:
    """Refuse an async body for a request that came through WSGI, where
    Werkzeug would fail later, while sending, with "'async_generator'
    object is not iterable". The ASGI path puts its scope in the environ
    (``asgi.scope``); outside a request nothing is known, so nothing is
    refused."""
    ctx = _cv_request.get(None)
    if ctx is not None and "asgi.scope" not in ctx.request.environ:
        raise TypeError(_ASYNC_BODY_NEEDS_ASGI.format(endpoint=ctx.request.endpoint))


def make_response(app: Flask, rv: ResponseReturnValue) -> Response:
    """Convert a view's return value to :attr:`Flask.response_class`.

    ``rv`` may be a response object, a ``str``/``bytes`` body or an
    iterator of them (an async one when served over ASGI), a ``dict`` or
    ``list`` (sent as JSON), a WSGI callable, or a tuple ``(body, status, headers)``, ``(body, status)``
    or ``(body, headers)``.
    """
    # Taken apart by its run-time shape below, which the union cannot follow.
    value: t.Any = rv
    status = headers = None
    if type(value) is tuple:
        if len(value) == 3:
            value, status, headers = value
        elif len(value) == 2:
            if isinstance(value[1], (Headers, dict, tuple, list)):
                value, headers = value
            else:
                value, status = value
        else:
            raise TypeError(_BAD_TUPLE)

    if value is None:
        raise TypeError(
            f"The view function for {_endpoint()!r} did not return a valid"
            " response. The function either returned None or ended without a"
            " return statement."
        )

    response_class = app.response_class
    if not isinstance(value, response_class):
        if isinstance(value, (str, bytes, bytearray, Iterator)):
            # Status and headers go to the constructor, which is cheaper than
            # setting them afterwards.
            value = response_class(value, status=status, headers=headers)
            status = headers = None
        elif isinstance(value, (dict, list)):
            value = app.json.response(value)
        elif isinstance(value, BaseResponse) or callable(value):
            ctx = _cv_request.get(None)
            environ = None if ctx is None else ctx.request.environ
            try:
                # force_type also takes a WSGI callable, which Werkzeug's
                # annotation leaves out.
                value = response_class.force_type(value, environ)  # pyright: ignore[reportArgumentType]
            except TypeError as e:
                raise TypeError(
                    f"{e}\nThe view function did not return a valid response."
                    f" {_RETURN_TYPES}, but it was a {type(value).__name__}."
                ).with_traceback(e.__traceback__) from None
        elif isinstance(value, AsyncIterator):
            # A streamed body for the ASGI path (flask.asgi iterates it).
            _check_async_body()
            value = response_class(value, status=status, headers=headers)
            status = headers = None
        else:
            raise TypeError(
                "The view function did not return a valid response."
                f" {_RETURN_TYPES}, but it was a {type(value).__name__}."
            )
    elif (
        type(value.response) is not list
        and hasattr(value.response, "__aiter__")
        and not hasattr(value.response, "__iter__")
    ):
        # A response object made around an async-only body (one that can
        # also be iterated, as an EventStream's, serves either way). Bodies
        # are lists far more often than not: one type check for those.
        _check_async_body()

    if status is not None:
        if isinstance(status, (str, bytes, bytearray)):
            # Werkzeug decodes a bytes status; its setter's annotation says str.
            value.status = status  # pyright: ignore[reportAttributeAccessIssue]
        else:
            value.status_code = status
    if headers:
        value.headers.update(headers)
    return value  # type: ignore[no-any-return]  # the response_class instance built above
