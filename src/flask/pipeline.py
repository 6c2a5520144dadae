"""The request path, top to bottom.

::

    wsgi_app(environ, start_response)
      RequestContext.push()            url matched, app context pushed
      full_dispatch_request()
        request_started                (only if anyone listens)
        preprocess_request()           url_value_preprocessors, before_request
        dispatch_request()             the view (or the routing error)
        handle_user_exception()        on an exception: its error handler
        finalize_request()             (or _plain_answer(), see below)
          make_response()              view return value -> Response
          process_response()           after_this_request, after_request,
                                       session save
          request_finished             (only if anyone listens)
      handle_exception()               on an unhandled exception: 500
      response(environ, start_response)
      RequestContext.pop()             teardown_request, teardown_appcontext

Each step is a public method of :class:`~flask.Flask` that may be
overridden; the functions here are their default implementations. When
none of the response-making steps is overridden, a plain return value that
nothing else would look at skips ``finalize_request`` and is answered as
``(status, headers, body)`` (:func:`_plain_answer`).

Only :func:`wsgi_app` speaks WSGI; everything it calls works on the
contexts and return values, so the same steps can serve another protocol.
"""

from __future__ import annotations

import typing as t

from werkzeug.exceptions import HTTPException
from werkzeug.utils import get_content_type

from .globals import _cv_app
from .globals import _cv_request
from .signals import appcontext_tearing_down
from .signals import request_finished
from .signals import request_started
from .signals import request_tearing_down
from .wrappers import Response
from .json.provider import DefaultJSONProvider

if t.TYPE_CHECKING:  # pragma: no cover
    from _typeshed.wsgi import StartResponse
    from _typeshed.wsgi import WSGIEnvironment

    from .app import Flask
    from .ctx import RequestContext
    from .sessions import SessionInterface
    from .typing import ResponseReturnValue

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
            if app._default_pipeline():
                rv = _view_result(app)
                plain = _plain_answer(app, ctx, rv, environ)
                if plain is not None:
                    status, headers, body = plain
                    start_response(status, headers)
                    return [] if ctx.request.method == "HEAD" else [body]
                response = app.finalize_request(rv)
            else:
                response = app.full_dispatch_request()
        except Exception as e:
            error = e
            response = app.handle_exception(e)
        except BaseException as e:
            error = e
            raise
        return response(environ, start_response)
    finally:
        # The test client keeps the contexts of a request open after it.
        if PRESERVE_CONTEXT_KEY in environ:
            environ[PRESERVE_CONTEXT_KEY](_cv_app.get())
            environ[PRESERVE_CONTEXT_KEY](_cv_request.get())
        if error is not None and app.should_ignore_error(error):
            error = None
        ctx.pop(error)


def full_dispatch_request(app: Flask) -> Response:
    """Dispatch the current request, with hooks and error handling."""
    return app.finalize_request(_view_result(app))


def _view_result(app: Flask) -> t.Any:
    """What the request's hooks and view return, or their error handler."""
    app._got_first_request = True
    try:
        if request_started.receivers:
            request_started.send(app, _async_wrapper=app.ensure_sync)
        rv = app.preprocess_request()
        if rv is None:
            rv = app.dispatch_request()
    except Exception as e:
        rv = app.handle_user_exception(e)
    return rv


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


_HTML_UTF8 = get_content_type(Response.default_mimetype or "text/html", "utf-8")
_JSON = get_content_type(DefaultJSONProvider.mimetype, "utf-8")


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
            headers = _headers(_HTML_UTF8, body)
        else:
            json = app.json
            if type(json) is not DefaultJSONProvider or "response" in json.__dict__:
                return None
            body = json._response_text(rv).encode()
            headers = _headers(_JSON, body)
    elif (
        isinstance(rv, HTTPException)
        and rv.response is None
        and type(rv).get_response is HTTPException.get_response
        and not _response_observed(app, ctx)
    ):
        status, body = _error_page(rv, environ)
        headers = rv.get_headers(environ)
        headers.append(("Content-Length", str(len(body))))
    else:
        return None
    if _session_needs_saving(app, ctx):
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


# (exception class, code, description) -> (status line, HTML body)
_error_pages: dict[tuple[type, int | None, t.Any], tuple[str, bytes]] = {}


def _error_page(rv: HTTPException, environ: WSGIEnvironment) -> tuple[str, bytes]:
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
        status = _status_line(rv.code)
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


def _headers(content_type: str, body: bytes) -> list[tuple[str, str]]:
    return [("Content-Type", content_type), ("Content-Length", str(len(body)))]


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
    for scope in _scopes(ctx):
        if afters.get(scope):
            return True
    return False


def _status_line(code: int | None) -> str:
    # Werkzeug's own status line for the code: its wording changes between
    # versions (upper case before 3.2, title case after).
    return Response(status=code or 500).status


def preprocess_request(app: Flask) -> ResponseReturnValue | None:
    """Run URL value preprocessors, then ``before_request`` hooks; the
    first hook returning a value ends the request with it."""
    ctx = _cv_request.get()
    request = ctx.request
    scopes = _scopes(ctx)
    preprocessors = app.url_value_preprocessors
    for scope in scopes:
        for func in preprocessors.get(scope, ()):
            func(request.endpoint, request.view_args)
    befores = app.before_request_funcs
    for scope in scopes:
        for func in befores.get(scope, ()):
            rv: ResponseReturnValue | None = app.ensure_sync(func)()
            if rv is not None:
                return rv
    return None


def dispatch_request(app: Flask) -> ResponseReturnValue:
    """Call the matched view, answer an automatic OPTIONS, or raise the
    routing error."""
    request = _cv_request.get().request
    if request.routing_exception is not None:
        app.raise_routing_exception(request)
    rule = request.url_rule
    if request.method == "OPTIONS" and getattr(
        rule, "provide_automatic_options", False
    ):
        return app.make_default_options_response()
    view = app.view_functions[rule.endpoint]  # type: ignore[union-attr]  # a matched request has a rule
    rv: ResponseReturnValue = app.ensure_sync(view)(**request.view_args)  # type: ignore[arg-type]  # and its view_args
    return rv


def finalize_request(
    app: Flask, rv: t.Any, from_error_handler: bool = False
) -> Response:
    """Make the response and run the response hooks. When finalizing an
    error response, a failure here is logged rather than raised again."""
    response = app.make_response(rv)
    try:
        response = app.process_response(response)
        if request_finished.receivers:
            request_finished.send(
                app, _async_wrapper=app.ensure_sync, response=response
            )
    except Exception:
        if not from_error_handler:
            raise
        app.logger.exception(
            "Request finalizing failed with an error while handling an error"
        )
    return response


class DefaultSessionInterface:
    """``Flask.session_interface`` until it is first used: then one shared
    :class:`~flask.sessions.SecureCookieSessionInterface`. Assigning on a
    subclass or an app replaces it as usual. The session machinery
    (ItsDangerous, hashing, tagged JSON) is imported only then, which a
    request that neither touches the session nor sends a cookie never does.
    """

    #: Set once the shared interface exists (the request path then stops
    #: asking whether an app still uses this placeholder).
    resolved = False

    def __set_name__(self, owner: type, name: str) -> None:
        self._owner = owner
        self._name = name

    def __get__(self, obj: object, owner: type | None = None) -> SessionInterface:
        from .sessions import SecureCookieSessionInterface

        interface = SecureCookieSessionInterface()
        # Later reads find the instance on the class itself, not this object.
        setattr(self._owner, self._name, interface)
        DefaultSessionInterface.resolved = True
        return interface


def _default_session_pending(app: Flask) -> bool:
    """Whether ``app.session_interface`` is still the unresolved placeholder,
    found without reading it (which would create the interface)."""
    if "session_interface" in app.__dict__:
        return False
    for klass in type(app).__mro__:
        found = klass.__dict__.get("session_interface")
        if found is not None:
            return type(found) is DefaultSessionInterface
    return False


def _session_needs_saving(app: Flask, ctx: RequestContext) -> bool:
    """Open the session now if saving it could change the response.

    An untouched cookie session only matters when the request carried the
    cookie (a permanent session is refreshed); other interfaces may rely on
    every request, so they are always given the chance.
    """
    loaded = ctx.session_loaded
    if not loaded and "HTTP_COOKIE" not in ctx.request.environ:
        if not DefaultSessionInterface.resolved and _default_session_pending(app):
            # Flask's cookie session, not created yet: without a cookie
            # there is nothing to save or refresh.
            return False
        interface = app.session_interface
        if getattr(interface, "_cookie_based", False):
            return False
    else:
        interface = app.session_interface
        if (
            not loaded
            and getattr(interface, "_cookie_based", False)
            and interface.get_cookie_name(app) not in ctx.request.cookies
        ):
            return False
    return not interface.is_null_session(ctx.session)


def process_response(app: Flask, response: Response) -> Response:
    """Run ``after_this_request`` functions, then ``after_request`` hooks
    innermost first, then save the session."""
    ctx = _cv_request.get()
    for func in ctx._after_request_functions:
        response = app.ensure_sync(func)(response)
    afters = app.after_request_funcs
    for scope in reversed(_scopes(ctx)):
        for func in reversed(afters.get(scope, ())):
            response = app.ensure_sync(func)(response)
    if _session_needs_saving(app, ctx):
        app.session_interface.save_session(app, ctx.session, response)
    return response


def do_teardown_request(app: Flask, exc: BaseException | None = None) -> None:
    """Run ``teardown_request`` functions, innermost scope first, newest
    first within a scope."""
    teardowns = app.teardown_request_funcs
    if not teardowns and not request_tearing_down.receivers:
        return
    funcs = [
        func
        for scope in reversed(_scopes(_cv_request.get()))
        for func in reversed(teardowns.get(scope, ()))
    ]
    _teardown(app, funcs, request_tearing_down, exc)


def do_teardown_appcontext(app: Flask, exc: BaseException | None = None) -> None:
    """Run ``teardown_appcontext`` functions, newest first."""
    if not app.teardown_appcontext_funcs and not appcontext_tearing_down.receivers:
        return
    funcs = app.teardown_appcontext_funcs[::-1]
    _teardown(app, funcs, appcontext_tearing_down, exc)


def _teardown(
    app: Flask,
    funcs: list[t.Callable[..., t.Any]],
    signal: t.Any,
    exc: BaseException | None,
) -> None:
    """Call every function with ``exc``, then the signal, even if some
    raise; then raise the first error, so that one failing teardown
    neither hides nor skips the others."""
    if not funcs and not signal.receivers:
        return
    first: BaseException | None = None
    for func in funcs:
        try:
            app.ensure_sync(func)(exc)
        except Exception as e:
            first = first or e
    if signal.receivers:
        try:
            signal.send(app, _async_wrapper=app.ensure_sync, exc=exc)
        except Exception as e:
            first = first or e
    if first is not None:
        raise first


def make_default_options_response(app: Flask) -> Response:
    """The answer to an automatic OPTIONS request: an ``Allow`` header."""
    adapter = _cv_request.get().url_adapter
    response = app.response_class()
    response.allow.update(adapter.allowed_methods())  # type: ignore[union-attr]  # only reached with a bound adapter
    return response
