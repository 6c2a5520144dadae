"""The steps of a request, written once, and the WSGI driver.

::

    wsgi_app(environ, start_response)
      RequestContext.push()            url matched, app context pushed
      respond_steps()                  (full_dispatch_request)
        view_steps()
          request_started              (only if anyone listens)
          preprocess_steps()           url_value_preprocessors, before_request
          dispatch_steps()             the view (or the routing error)
          handle_user_exception()      on an exception: its error handler
        finalize_steps()               (or _plain_answer(), see below)
          make_response()              view return value -> Response
          process_steps()              after_this_request, after_request,
                                       session save
          request_finished             (only if anyone listens)
      handle_exception()               on an unhandled exception: 500
      response(environ, start_response)
      RequestContext.pop()             teardown_steps(): teardown_request,
                                       teardown_appcontext

Each ``*_steps`` function is a generator that calls user functions through
:func:`~flask.concurrency.call_step` and sync framework work that may
block through :func:`~flask.concurrency.blocking_step`. Two drivers run
them (:mod:`flask.concurrency`): in the caller's thread for WSGI and for
the public methods of :class:`~flask.Flask` (``preprocess_request``,
``dispatch_request``, ... are these steps run that way), and on the event
loop for ASGI (:mod:`flask.asgi.http`), where coroutine functions are
awaited and each contiguous run of sync steps takes one pool hop.

A method overridden by a subclass (or on the instance) is honoured: its
step calls the method as a whole. When none of the response-making
methods is overridden, a plain return value that nothing else would look
at skips ``finalize_request`` and is answered as ``(status, headers,
body)`` (:func:`_plain_answer`).
"""

from __future__ import annotations

import typing as t

from werkzeug.exceptions import HTTPException

from .background import after_body
from .background import SEALED
from .background import start_now
from .concurrency import blocking_step
from .concurrency import call_step
from .concurrency import in_thread
from .concurrency import run_steps
from .ctx import defer_teardown
from .errors import handle_user_exception
from .errors import user_exception_steps
from .globals import _cv_app
from .globals import _cv_request
from .signals import appcontext_popped
from .signals import appcontext_tearing_down
from .signals import request_finished
from .signals import request_started
from .signals import request_tearing_down
from .wrappers import Response
from ._plain import error_page
from ._plain import headers as headers_for
from ._plain import HTML_UTF8
from ._plain import JSON
from .json.provider import DefaultJSONProvider
from .responses import make_response
from .session_state import session_is_cheap
from .session_state import session_needs_saving

if t.TYPE_CHECKING:  # pragma: no cover
    from _typeshed.wsgi import StartResponse
    from _typeshed.wsgi import WSGIEnvironment

    from .app import Flask
    from .concurrency import Run
    from .concurrency import Steps
    from .ctx import RequestContext
    from .typing import ResponseReturnValue

R = t.TypeVar("R")
Hooks = dict[str | None, list[t.Callable[..., t.Any]]]
# What respond_steps gives: a response, or (status line, headers, body).
Answer = t.Union[tuple[str, list[tuple[str, str]], bytes], Response]

#: Environ key of Werkzeug's protocol for keeping a request's contexts open
#: after it (the test client's ``with client:``); shared with flask.testing.
PRESERVE_CONTEXT_KEY = "werkzeug.debug.preserve_context"


def wsgi_app(
    app: Flask, environ: WSGIEnvironment, start_response: StartResponse
) -> t.Iterable[bytes]:
    """Serve one WSGI request: ``Flask.wsgi_app``. Wrap this, not the
    app, with WSGI middleware (``app.wsgi_app = Middleware(app.wsgi_app)``)."""
    ctx = app.request_context(environ)
    error: BaseException | None = None
    try:
        try:
            ctx.push()
            answer = run_steps(respond_steps(app, ctx, in_thread(app)))
        except Exception as e:
            error = e
            answer = app.handle_exception(e)
        except BaseException as e:
            error = e
            raise
        if type(answer) is tuple:
            status, headers, body = answer
            start_response(status, headers)
            out: t.Iterable[bytes] = [] if environ["REQUEST_METHOD"] == "HEAD" else [body]
        else:
            out = answer(environ, start_response)  # type: ignore[operator]  # a Response
        if ctx._background_tasks is None:
            # Sealed: a task added from here on (a stream, a teardown
            # function) starts at once rather than wait for a closing.
            ctx._background_tasks = SEALED
        else:
            out = after_body(app, ctx, environ, out)
        return out
    except BaseException:
        if ctx._background_tasks is not None:
            # No body to close: the tasks are not lost with the request.
            start_now(app, ctx)
        raise
    finally:
        # Werkzeug's protocol (its debugger, and the test client's ``with
        # client:``) for keeping a request's contexts after it.
        if PRESERVE_CONTEXT_KEY in environ:
            environ[PRESERVE_CONTEXT_KEY](_cv_app.get())
            environ[PRESERVE_CONTEXT_KEY](_cv_request.get())
        ctx.pop(reported(app, error))


def reported(app: Flask, error: BaseException | None) -> BaseException | None:
    """The error teardown functions are told of (``should_ignore_error``)."""
    if error is not None and app.should_ignore_error(error):
        return None
    return error


def _own_steps(app: Flask) -> frozenset[str]:
    """The request-path methods of ``app`` that are Flask's own, so their
    steps run here; an overridden one is called as a whole, as a sync step
    (slower over ASGI, never wrong). Decided per class at the first
    request; an override assigned on the instance is seen at once
    (``Flask.__setattr__`` drops what was decided)."""
    own: frozenset[str] | None = app.__dict__.get(OWN_STEPS_KEY)
    if own is None:
        cls = type(app)
        mine = app.__dict__
        own = mine[OWN_STEPS_KEY] = frozenset(
            name
            for name, func in _STEP_METHODS.items()
            if getattr(cls, name, None) is func and name not in mine
        )
    return own


def _in_except(handle: t.Callable[[Exception], R], e: Exception) -> R:
    # Flask's handlers re-raise with a bare ``raise``: give them the
    # exception as the one being handled, in whichever thread they run.
    try:
        raise e
    except Exception:
        return handle(e)


def _send(signal: t.Any, app: Flask, kwargs: dict[str, t.Any]) -> None:
    signal.send(app, _async_wrapper=app.ensure_sync, **kwargs)


def _stay() -> None:
    """A step that does nothing: yielded to move off the event loop."""


def respond_steps(
    app: Flask, ctx: RequestContext, run: Run, own: frozenset[str] | None = None
) -> Steps[Answer]:
    """The request's steps from ``request_started`` to the answer: a
    response, or ``(status, headers, body)`` from :func:`_plain_answer`.
    ``own`` is :func:`_own_steps`, when the caller has it already."""
    if own is None:
        own = _own_steps(app)
    if not _PIPELINE <= own:
        return (yield from blocking_step(run, app.full_dispatch_request))
    rv = yield from view_steps(app, ctx, run, own)
    # Opening a session other than Flask's cookie one may do I/O: not on
    # the loop (session_is_cheap, inlined: this runs on every request).
    if (
        run.on_loop
        and ctx._session_obj is None
        and not getattr(app.session_interface, "_cookie_based", False)
    ):
        yield from blocking_step(run, _stay)
    plain = _plain_answer(app, ctx, rv, ctx.request.environ)
    if plain is not None:
        return plain
    return (yield from finalize_steps(app, ctx, run, rv))


def full_dispatch_request(app: Flask) -> Response:
    """Dispatch the current request, with hooks and error handling."""
    run = in_thread(app)
    ctx = _cv_request.get()
    return run_steps(finalize_steps(app, ctx, run, run_steps(view_steps(app, ctx, run))))


def view_steps(
    app: Flask, ctx: RequestContext, run: Run, own: frozenset[str] | None = None
) -> Steps[t.Any]:
    """What the request's hooks and view return, or their error handler."""
    if not app._got_first_request:
        app._got_first_request = True
    if own is None:
        own = _own_steps(app)
    request = ctx.request
    try:
        if request_started.receivers:
            yield from blocking_step(run, _send, request_started, app, {})
        rv = None
        if "preprocess_request" not in own:
            rv = yield from blocking_step(run, app.preprocess_request)
        elif app.url_value_preprocessors or app.before_request_funcs:
            rv = yield from preprocess_steps(app, ctx, run, app.before_request_funcs)
        if rv is None:
            if "dispatch_request" not in own:
                rv = yield from blocking_step(run, app.dispatch_request)
            elif request.routing_exception is not None or request.method == "OPTIONS":
                rv = yield from dispatch_steps(app, ctx, run)
            else:
                # dispatch_steps' common case, without its frames: a
                # hello-world request went through five generators.
                view = app.view_functions[request.url_rule.endpoint]  # type: ignore[union-attr]  # matched
                here = None if run.on_loop else run.here(view)
                if here is None:
                    rv = yield view, (), request.view_args  # type: ignore[misc]  # has view_args
                else:
                    rv = here(**request.view_args)  # type: ignore[arg-type]  # as above
    except Exception as e:
        rv = yield from user_error_steps(app, run, e, own)
    return rv


def user_error_steps(
    app: Flask, run: Run, e: Exception, own: frozenset[str] | None = None
) -> Steps[t.Any]:
    """``handle_user_exception`` as steps: Flask's own step by step (an
    async error handler awaited on the loop), an override as a whole."""
    if "handle_user_exception" in (_own_steps(app) if own is None else own):
        return (yield from user_exception_steps(app, run, e))
    return (yield from blocking_step(run, _in_except, app.handle_user_exception, e))


def preprocess_steps(app: Flask, ctx: RequestContext, run: Run, befores: Hooks) -> Steps[t.Any]:
    """URL value preprocessors, then the ``befores`` hooks (``before_request``
    or ``before_websocket``); the first returning a value ends the request with it."""
    request = ctx.request
    scopes = _scopes(ctx)
    preprocessors = app.url_value_preprocessors
    if preprocessors:
        for scope in scopes:
            for func in preprocessors.get(scope, ()):
                yield from call_step(run, func, request.endpoint, request.view_args)
    if befores:
        for scope in scopes:
            for func in befores.get(scope, ()):
                rv = yield from call_step(run, func)
                if rv is not None:
                    return rv
    return None


def preprocess_request(app: Flask) -> ResponseReturnValue | None:
    """Run URL value preprocessors, then ``before_request`` hooks; the
    first hook returning a value ends the request with it."""
    steps = preprocess_steps(app, _cv_request.get(), in_thread(app), app.before_request_funcs)
    return run_steps(steps)  # type: ignore[no-any-return]


def dispatch_steps(app: Flask, ctx: RequestContext, run: Run) -> Steps[t.Any]:
    """Call the matched view, answer an automatic OPTIONS, or raise the
    routing error."""
    request = ctx.request
    if request.routing_exception is not None:
        app.raise_routing_exception(request)
    rule = request.url_rule
    if request.method == "OPTIONS" and getattr(rule, "provide_automatic_options", False):
        return app.make_default_options_response()
    view = app.view_functions[rule.endpoint]  # type: ignore[union-attr]  # a matched request has a rule
    return (yield from call_step(run, view, **request.view_args))  # type: ignore[arg-type]  # and its view_args


def dispatch_request(app: Flask) -> ResponseReturnValue:
    """Call the matched view, answer an automatic OPTIONS, or raise the
    routing error."""
    return run_steps(dispatch_steps(app, _cv_request.get(), in_thread(app)))  # type: ignore[no-any-return]


def finalize_steps(
    app: Flask, ctx: RequestContext, run: Run, rv: t.Any, from_error_handler: bool = False
) -> Steps[Response]:
    """Make the response and run the response hooks. When finalizing an
    error response, a failure here is logged rather than raised again."""
    response = app.make_response(rv)
    try:
        if "process_response" in _own_steps(app):
            response = yield from process_steps(app, ctx, run, response)
        else:
            response = yield from blocking_step(run, app.process_response, response)
        if request_finished.receivers:
            yield from blocking_step(run, _send, request_finished, app, {"response": response})
    except Exception:
        if not from_error_handler:
            raise
        app.logger.exception("Request finalizing failed with an error while handling an error")
    return response


def finalize_request(app: Flask, rv: t.Any, from_error_handler: bool = False) -> Response:
    """Make the response and run the response hooks. When finalizing an
    error response, a failure here is logged rather than raised again."""
    return run_steps(finalize_steps(app, _cv_request.get(), in_thread(app), rv, from_error_handler))


def process_steps(
    app: Flask, ctx: RequestContext, run: Run, response: Response
) -> Steps[Response]:
    """``after_this_request`` functions, then ``after_request`` hooks
    innermost first, then saving the session."""
    for func in ctx._after_request_functions:
        response = yield from call_step(run, func, response)
    afters = app.after_request_funcs
    if afters:
        for scope in reversed(_scopes(ctx)):
            for func in reversed(afters.get(scope, ())):
                response = yield from call_step(run, func, response)
    if run.on_loop and not session_is_cheap(app, ctx):
        yield from blocking_step(run, _stay)
    if session_needs_saving(app, ctx):
        yield from blocking_step(
            run, app.session_interface.save_session, app, ctx.session, response
        )
    return response


def process_response(app: Flask, response: Response) -> Response:
    """Run ``after_this_request`` functions, then ``after_request`` hooks
    innermost first, then save the session."""
    return run_steps(process_steps(app, _cv_request.get(), in_thread(app), response))


def quiet_teardown(app: Flask, ctx: RequestContext, own: frozenset[str] | None = None) -> bool:
    """When nothing is registered to run at teardown, do what
    :func:`teardown_steps` would (close the request) and say so; most
    requests need no teardown steps at all."""
    if (
        app.teardown_request_funcs
        or app.teardown_appcontext_funcs
        or request_tearing_down.receivers
        or appcontext_tearing_down.receivers
        or not _TEARDOWN <= (_own_steps(app) if own is None else own)
    ):
        return False
    if len(ctx._cv_tokens) == 1:
        ctx.request.close()
    return True


def quiet_app_teardown(app: Flask) -> bool:
    """Whether popping an app context of ``app`` runs nothing (it may then
    be done on the loop, or left out): no ``teardown_appcontext`` function,
    no receiver of the pop's signals, Flask's own ``do_teardown_appcontext``."""
    return (
        not app.teardown_appcontext_funcs
        and not appcontext_tearing_down.receivers
        and not appcontext_popped.receivers
        and "do_teardown_appcontext" in _own_steps(app)
    )


def teardown_steps(
    app: Flask, ctx: RequestContext, run: Run, exc: BaseException | None
) -> Steps[None]:
    """What the last pop of ``ctx`` runs before popping: request teardown,
    closing the request, app context teardown (when ``ctx`` pushed it)."""
    if len(ctx._cv_tokens) != 1:
        return
    own = _own_steps(app)
    try:
        # A stream still running (stream_with_context) tears down at its end.
        if not (ctx._holds and defer_teardown(ctx, exc)):
            if "do_teardown_request" not in own:
                yield from blocking_step(run, app.do_teardown_request, exc)
            elif app.teardown_request_funcs or request_tearing_down.receivers:
                yield from _teardown_request_steps(app, ctx, run, exc)
            ctx.request.close()
    finally:
        app_ctx = ctx._cv_tokens[0][1]
        if app_ctx is not None and len(app_ctx._cv_tokens) == 1:
            if app_ctx._holds and defer_teardown(app_ctx, exc):
                pass
            elif "do_teardown_appcontext" not in own:
                yield from blocking_step(run, app.do_teardown_appcontext, exc)
            elif app.teardown_appcontext_funcs or appcontext_tearing_down.receivers:
                yield from _teardown_app_steps(app, run, exc)


def _teardown_request_steps(
    app: Flask, ctx: RequestContext, run: Run, exc: BaseException | None
) -> Steps[None]:
    teardowns = app.teardown_request_funcs
    if teardowns or request_tearing_down.receivers:
        funcs = [
            func
            for scope in reversed(_scopes(ctx))
            for func in reversed(teardowns.get(scope, ()))
        ]
        yield from _teardown(app, run, funcs, request_tearing_down, exc)


def _teardown_app_steps(app: Flask, run: Run, exc: BaseException | None) -> Steps[None]:
    if app.teardown_appcontext_funcs or appcontext_tearing_down.receivers:
        funcs = app.teardown_appcontext_funcs[::-1]
        yield from _teardown(app, run, funcs, appcontext_tearing_down, exc)


def do_teardown_request(app: Flask, exc: BaseException | None = None) -> None:
    """Run ``teardown_request`` functions, innermost scope first, newest
    first within a scope."""
    if app.teardown_request_funcs or request_tearing_down.receivers:
        run_steps(_teardown_request_steps(app, _cv_request.get(), in_thread(app), exc))


def do_teardown_appcontext(app: Flask, exc: BaseException | None = None) -> None:
    """Run ``teardown_appcontext`` functions, newest first."""
    if app.teardown_appcontext_funcs or appcontext_tearing_down.receivers:
        run_steps(_teardown_app_steps(app, in_thread(app), exc))


def _teardown(
    app: Flask,
    run: Run,
    funcs: list[t.Callable[..., t.Any]],
    signal: t.Any,
    exc: BaseException | None,
) -> Steps[None]:
    """Call every function with ``exc``, then the signal, even if some
    raise; then raise the first error, so that one failing teardown
    neither hides nor skips the others."""
    first: BaseException | None = None
    for func in funcs:
        try:
            yield from call_step(run, func, exc)
        except Exception as e:
            first = first or e
    if signal.receivers:
        try:
            yield from blocking_step(run, _send, signal, app, {"exc": exc})
        except Exception as e:
            first = first or e
    if first is not None:
        raise first

_APP_SCOPE: tuple[str | None, ...] = (None,)


def _scopes(ctx: RequestContext) -> tuple[str | None, ...]:
    """Hook scopes for the request, outermost first: the app, then each
    blueprint down to the innermost. They depend only on the matched rule,
    so they are computed once per rule."""
    rule = ctx.request.url_rule
    if rule is None:
        return _APP_SCOPE
    scopes: tuple[str | None, ...] | None = rule.__dict__.get("_flask_scopes")
    if scopes is None:
        scopes = rule.__dict__["_flask_scopes"] = (None, *reversed(ctx.request.blueprints))
    return scopes


def _plain_answer(
    app: Flask, ctx: RequestContext, rv: t.Any, environ: WSGIEnvironment
) -> tuple[str, list[tuple[str, str]], bytes] | None:
    """``(status, headers, body)`` for a return value that needs no
    response object, or ``None``.

    That is a plain ``str`` or ``dict``, or an unhandled HTTP error (404,
    405, ...), when nothing after the view would see a response (no
    after-request hook, nobody listening to ``request_finished``, and no
    session to save other than Flask's own cookie session, whose headers
    are added here). Building and serialising a Werkzeug ``Response`` was
    40% of a hello-world request; the bytes on the wire are the same.
    Only for an app whose pipeline methods are Flask's own.
    """
    kind = type(rv)
    if kind is str or kind is dict:
        if _response_observed(app, ctx):
            return None
        status = "200 OK"
        if kind is str:
            body = rv.encode()
            headers = headers_for(HTML_UTF8, body)
        else:
            json = app.json
            if type(json) is not DefaultJSONProvider or "response" in json.__dict__:
                return None
            body = json._response_text(rv).encode()
            headers = headers_for(JSON, body)
    elif (
        isinstance(rv, HTTPException)
        and rv.response is None
        and type(rv).get_response is HTTPException.get_response
        and not _response_observed(app, ctx)
    ):
        status, body = error_page(rv, environ)
        headers = rv.get_headers(environ)
        headers.append(("Content-Length", str(len(body))))
    else:
        return None
    if session_needs_saving(app, ctx):
        # What save_session would add, when the session interface can say
        # without a response object (Flask's own cookie interface).
        session_headers = getattr(app.session_interface, "_plain_headers", None)
        if session_headers is None:
            return None
        extra = session_headers(app, ctx.session)
        if extra is None:
            return None
        headers += extra
    return status, headers, body


def _response_observed(app: Flask, ctx: RequestContext) -> bool:
    """Whether a hook after the view needs the response object (the
    session is asked separately, see :func:`_plain_answer`)."""
    if (
        ctx._after_request_functions
        or request_finished.receivers
        or app.response_class is not Response
    ):
        return True
    afters = app.after_request_funcs
    if afters:  # most apps register none: no scopes to look through
        for scope in _scopes(ctx):
            if afters.get(scope):
                return True
    return False


# The request-path methods whose steps are written here, by method name
# (and those the plain answer needs unchanged).
_STEP_METHODS: dict[str, t.Callable[..., t.Any]] = {
    "full_dispatch_request": full_dispatch_request,
    "finalize_request": finalize_request,
    "make_response": make_response,
    "preprocess_request": preprocess_request,
    "dispatch_request": dispatch_request,
    "process_response": process_response,
    "do_teardown_request": do_teardown_request,
    "do_teardown_appcontext": do_teardown_appcontext,
    "handle_user_exception": handle_user_exception,
}


#: The names of :data:`_STEP_METHODS`, for ``Flask.__setattr__``.
STEP_METHOD_NAMES = frozenset(_STEP_METHODS)
#: Where :func:`_own_steps` keeps its answer, in the app's ``__dict__``.
OWN_STEPS_KEY = "_flask_own_steps"

_PIPELINE = frozenset(("full_dispatch_request", "finalize_request", "make_response", "process_response"))
_TEARDOWN = frozenset(("do_teardown_request", "do_teardown_appcontext"))


def make_default_options_response(app: Flask) -> Response:
    """The answer to an automatic OPTIONS request: an ``Allow`` header."""
    adapter = _cv_request.get().url_adapter
    response = app.response_class()
    response.allow.update(adapter.allowed_methods())  # type: ignore[union-attr]  # only reached with a bound adapter
    return response
