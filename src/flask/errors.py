"""Error handling for an app: finding handlers and turning errors into
responses, as :meth:`Flask.handle_exception` and friends document."""

from __future__ import annotations

import sys
import typing as t

from werkzeug.exceptions import BadRequest
from werkzeug.exceptions import BadRequestKeyError
from werkzeug.exceptions import HTTPException
from werkzeug.exceptions import InternalServerError
from werkzeug.routing import RequestRedirect
from werkzeug.routing.exceptions import RoutingException

from .concurrency import blocking_step
from .concurrency import call_step
from .concurrency import in_thread
from .concurrency import run_steps
from .globals import _cv_request
from .scaffold import _exc_class_and_code
from .signals import got_request_exception

if t.TYPE_CHECKING:  # pragma: no cover
    from .app import Flask
    from .concurrency import Run
    from .concurrency import Steps
    from .typing import ResponseReturnValue
    from .wrappers import Request
    from .wrappers import Response

ExcInfo = tuple[type, BaseException, t.Any] | tuple[None, None, None]


def _current_blueprints() -> list[str]:
    ctx = _cv_request.get(None)
    return [] if ctx is None else ctx.request.blueprints


def find_error_handler(
    app: Flask, e: Exception, blueprints: list[str]
) -> t.Callable[..., t.Any] | None:
    """The handler for ``e``: by status code before class, innermost
    blueprint before the app, most derived class first."""
    exc_class, code = _exc_class_and_code(type(e))
    spec = app.error_handler_spec
    scopes = (*blueprints, None)
    for by_code in (code, None) if code is not None else (None,):
        for scope in scopes:
            handlers = spec.get(scope, {}).get(by_code)
            if not handlers:
                continue
            for cls in exc_class.__mro__:
                handler = handlers.get(cls)
                if handler is not None:
                    return handler
    return None


def trap_http_exception(app: Flask, e: Exception) -> bool:
    """Whether an HTTP exception should propagate like any other error
    (``TRAP_HTTP_EXCEPTIONS``, ``TRAP_BAD_REQUEST_ERRORS``)."""
    config = app.config
    if config["TRAP_HTTP_EXCEPTIONS"]:
        return True
    trap_bad_request = config["TRAP_BAD_REQUEST_ERRORS"]
    if trap_bad_request is None:
        # In debug mode a missing form key explains itself instead of a 400.
        return app.debug and isinstance(e, BadRequestKeyError)
    return bool(trap_bad_request) and isinstance(e, BadRequest)


def handle_http_exception(
    app: Flask, e: HTTPException
) -> HTTPException | ResponseReturnValue:
    """Run the handler registered for an HTTP error, or return the error
    itself (it is a valid response)."""
    return run_steps(_http_exception_steps(app, in_thread(app), e))  # type: ignore[no-any-return]


def _http_exception_steps(app: Flask, run: Run, e: HTTPException) -> Steps[t.Any]:
    # Codeless exceptions and routing redirects are not errors to handle.
    if e.code is None or isinstance(e, RoutingException):
        return e
    handler = app._find_error_handler(e, _current_blueprints())
    if handler is None:
        return e
    return (yield from call_step(run, handler, e))


def user_exception_steps(app: Flask, run: Run, e: Exception) -> Steps[t.Any]:
    """``handle_user_exception`` as steps (:mod:`flask.pipeline`): the
    error handler is called where it belongs; without one, ``e`` is
    raised again."""
    if isinstance(e, BadRequestKeyError) and (
        app.debug or app.config["TRAP_BAD_REQUEST_ERRORS"]
    ):
        e.show_exception = True
    if isinstance(e, HTTPException) and not app.trap_http_exception(e):
        if "handle_http_exception" in app.__dict__ or (
            type(app).handle_http_exception is not handle_http_exception
        ):
            return (yield from blocking_step(run, app.handle_http_exception, e))
        return (yield from _http_exception_steps(app, run, e))
    handler = app._find_error_handler(e, _current_blueprints())
    if handler is None:
        raise e
    return (yield from call_step(run, handler, e))


def handle_user_exception(
    app: Flask, e: Exception
) -> HTTPException | ResponseReturnValue:
    """Handle an exception raised while dispatching, or re-raise it."""
    return run_steps(user_exception_steps(app, in_thread(app), e))  # type: ignore[no-any-return]


def _propagates(app: Flask) -> bool:
    """``PROPAGATE_EXCEPTIONS``; unset, it follows testing and debug mode."""
    configured = app.config["PROPAGATE_EXCEPTIONS"]
    return bool(app.testing or app.debug) if configured is None else bool(configured)


def handle_exception(app: Flask, e: Exception) -> Response:
    """Turn an unhandled exception into a 500 response, or propagate it in
    debug and testing mode (``PROPAGATE_EXCEPTIONS``)."""
    exc_info = sys.exc_info()
    if got_request_exception.receivers:
        got_request_exception.send(app, _async_wrapper=app.ensure_sync, exception=e)
    if _propagates(app):
        if exc_info[1] is e:
            raise
        raise e
    app.log_exception(exc_info)
    server_error: t.Any = InternalServerError(original_exception=e)
    handler = app._find_error_handler(server_error, _current_blueprints())
    if handler is not None:
        server_error = app.ensure_sync(handler)(server_error)
    return app.finalize_request(server_error, from_error_handler=True)


def raise_routing_exception(app: Flask, request: Request) -> t.NoReturn:
    """Raise the routing error; in debug mode, explain a redirect that would
    drop a form body instead of following it."""
    exc = request.routing_exception
    if (
        app.debug
        and isinstance(exc, RequestRedirect)
        and exc.code not in {307, 308}
        and request.method not in {"GET", "HEAD", "OPTIONS"}
    ):
        from .debughelpers import FormDataRoutingRedirect

        raise FormDataRoutingRedirect(request)
    raise exc  # type: ignore[misc]  # exc is the exception being handled
