"""Application and request contexts.

A context is pushed by setting a context variable (see :mod:`flask.globals`),
so it is isolated per thread, greenlet and asyncio task. Contexts talk to the
app only through its public methods; this module never imports the app.
"""

from __future__ import annotations

import sys
import threading
import typing as t
from contextvars import Context
from contextvars import copy_context
from functools import wraps
from types import TracebackType

from werkzeug.exceptions import BadRequest
from werkzeug.exceptions import HTTPException
from werkzeug.routing.exceptions import WebsocketMismatch

from .globals import _cv_app
from .globals import _cv_request
from .globals import g
from .globals import request
from .globals import session
from .matching import match_directly
from .matching import reject_invalid_host
from .signals import appcontext_popped
from .signals import appcontext_pushed

if t.TYPE_CHECKING:  # pragma: no cover
    from _typeshed.wsgi import WSGIEnvironment
    from werkzeug.routing import MapAdapter

    from .app import Flask
    from .sessions import SessionMixin
    from .wrappers import Request

F = t.TypeVar("F", bound=t.Callable[..., t.Any])

# Marks "no exception passed": None is a meaningful value for pop(). Without
# one, teardown sees the exception being handled where pop() was called.
_sentinel: t.Any = object()


class _AppCtxGlobals:
    """The namespace behind :data:`flask.g`: a plain object for one app context."""

    def get(self, name: str, default: t.Any | None = None) -> t.Any:
        """The attribute ``name``, or ``default`` when it is not set."""
        return self.__dict__.get(name, default)

    def pop(self, name: str, default: t.Any = _sentinel) -> t.Any:
        """Remove and return ``name``; like ``dict.pop``."""
        if default is _sentinel:
            return self.__dict__.pop(name)
        return self.__dict__.pop(name, default)

    def setdefault(self, name: str, default: t.Any = None) -> t.Any:
        """The value of ``name``, set to ``default`` first if missing."""
        return self.__dict__.setdefault(name, default)

    def __getattr__(self, name: str) -> t.Any:
        # Only reached for missing names; say which one.
        raise AttributeError(name) from None

    def __contains__(self, item: str) -> bool:
        return item in self.__dict__

    def __iter__(self) -> t.Iterator[str]:
        return iter(self.__dict__)

    def __repr__(self) -> str:
        # Named after the app whose context is active, as Flask shows it.
        top = _cv_app.get(None)
        if top is None:
            return object.__repr__(self)
        return f"<flask.g of '{top.app.name}'>"


_Ctx = t.TypeVar("_Ctx", bound="_PushedInWith")


class _PushedInWith:
    """``with ctx:`` pushes the context and pops it with the exception
    that ended the block, if any."""

    def push(self) -> None:
        raise NotImplementedError

    def pop(self, exc: BaseException | None = None) -> None:
        raise NotImplementedError

    def __enter__(self: _Ctx) -> _Ctx:
        self.push()
        return self

    def __exit__(
        self,
        exc_type: type | None,
        exc_value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.pop(exc_value)


class AppContext(_PushedInWith):
    """Makes :data:`current_app` and :data:`g` available while pushed.

    Pushed automatically with each request, and by ``with app.app_context():``
    for CLI commands, tests and background work.
    """

    # Streams still running after the last pop (see ContextHold), and the
    # exception that pop saw while teardown waits for them.
    _holds = 0
    _deferred: tuple[BaseException | None] | None = None

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.g: _AppCtxGlobals = app.app_ctx_globals_class()
        self._url_adapter: MapAdapter | None | bool = False
        self._cv_tokens: list[t.Any] = []

    @property
    def url_adapter(self) -> MapAdapter | None:
        """The adapter used to build URLs without a request.

        Built on first use: during a request the request's adapter is used,
        so most app contexts never need one.
        """
        if self._url_adapter is False:
            self._url_adapter = self.app.create_url_adapter(None)
        return self._url_adapter  # type: ignore[return-value]  # False only before the first call, replaced above

    @url_adapter.setter
    def url_adapter(self, value: MapAdapter | None) -> None:
        self._url_adapter = value

    def push(self) -> None:
        """Make this the current app context."""
        self._cv_tokens.append(_cv_app.set(self))
        if appcontext_pushed.receivers:
            appcontext_pushed.send(self.app, _async_wrapper=self.app.ensure_sync)

    def pop(self, exc: BaseException | None = _sentinel) -> None:
        """Pop the context, running teardown functions when it is the last push."""
        tokens = self._cv_tokens
        try:
            if len(tokens) == 1:
                exc = sys.exc_info()[1] if exc is _sentinel else exc
                if not (self._holds and defer_teardown(self, exc)):
                    self.app.do_teardown_appcontext(exc)
        finally:
            current = _cv_app.get()
            _cv_app.reset(tokens.pop())
        if current is not self:
            raise AssertionError(
                f"Popped wrong app context. ({current!r} instead of {self!r})"
            )
        if appcontext_popped.receivers:
            appcontext_popped.send(self.app, _async_wrapper=self.app.ensure_sync)


_WS_ONLY = (
    "This URL is a WebSocket endpoint: connect to it with a WebSocket client."
)
_WS_NEEDS_ASGI = (
    "This URL is a WebSocket endpoint, and WebSocket routes need an ASGI"
    " server (for example 'uvicorn module:app'); this server speaks"
    " WSGI, which cannot carry WebSocket connections."
)


def _log_wsgi_refusal(app: Flask, endpoint: str) -> None:
    """Say once per endpoint, in the server's log, why WebSocket handshakes
    get 400: the client sees the body, whoever runs the server did not."""
    # A set kept on the app: a (rare) race between threads logs twice.
    warned: set[str] = app.__dict__.setdefault("_wsgi_ws_refusals_logged", set())
    if endpoint not in warned:
        warned.add(endpoint)
        app.logger.warning(
            "WebSocket request to %r refused with 400: this server speaks WSGI,"
            " and WebSocket routes need an ASGI server. Serve app (or"
            " app.asgi_app) with one, for example 'uvicorn module:app'. Logged"
            " once per endpoint.",
            endpoint,
        )


class RequestContext(_PushedInWith):
    """Everything about one request: the request, its URL match and session.

    Pushing it also pushes an app context when none for this app is active.
    The session is opened on first access, not at push.
    """

    def __init__(
        self,
        app: Flask,
        environ: WSGIEnvironment,
        request: Request | None = None,
        session: SessionMixin | None = None,
    ) -> None:
        self.app = app
        if request is not None:
            self.request: Request = request
        else:
            fresh = self.request = app.request_class(environ)
            fresh.json_module = app.json
        self._url_adapter: MapAdapter | None | object = _sentinel
        #: Flashed messages, loaded from the session once per request.
        self.flashes: list[tuple[str, str]] | None = None
        self._session_obj = session
        self._after_request_functions: list[t.Callable[..., t.Any]] = []
        self._cv_tokens: list[tuple[t.Any, AppContext | None]] = []

    _holds = 0
    _deferred: tuple[BaseException | None] | None = None
    #: Tasks for after the response (flask.background), once any is added.
    _background_tasks: list[t.Any] | None = None

    @property
    def url_adapter(self) -> MapAdapter | None:
        """The URL map bound to this request (``app.create_url_adapter``).

        Bound on first use: plain requests are matched without it (see
        :mod:`flask.matching`). A binding error becomes the request's
        ``routing_exception``.
        """
        adapter = self._url_adapter
        if adapter is _sentinel:
            try:
                adapter = self.app.create_url_adapter(self.request)
            except HTTPException as e:
                self.request.routing_exception = e
                adapter = self._hostless_adapter()
            self._url_adapter = adapter
        return adapter  # type: ignore[return-value]  # the sentinel is replaced above

    @url_adapter.setter
    def url_adapter(self, value: MapAdapter | None) -> None:
        self._url_adapter = value

    def _hostless_adapter(self) -> MapAdapter:
        # The client's Host could not be bound (untrusted, or no IDNA form);
        # the error page may still build URLs, so bind without it, as
        # Werkzeug does for a Host it reads as empty.
        request = self.request
        return self.app.url_map.bind(
            self.app.config["SERVER_NAME"] or "",
            script_name=request.root_path or "/",
            url_scheme=request.scheme,
            default_method=request.method,
            path_info=request.path,
        )

    @property
    def session(self) -> SessionMixin:
        """The session, opened through the app's session interface on first use."""
        session = self._session_obj
        if session is None:
            interface = self.app.session_interface
            session = interface.open_session(self.app, self.request)
            if session is None:
                session = interface.make_null_session(self.app)
            self._session_obj = session
        return session

    @session.setter
    def session(self, value: SessionMixin | None) -> None:
        self._session_obj = value

    # Flask's name for the session slot, read by its tests and some
    # extensions; reading it opens the session like ``session`` does.
    _session = session

    @property
    def session_loaded(self) -> bool:
        """Whether the session has been opened (or assigned) yet."""
        return self._session_obj is not None

    def copy(self) -> RequestContext:
        """A new context for the same request and session, for another task."""
        shared = self.request
        return type(self)(self.app, shared.environ, shared, self.session)

    def match_request(self) -> None:
        """Match the URL, storing the rule and arguments or the routing error."""
        try:
            # Called only when an adapter was bound (a URL adapter exists).
            rule, args = self.url_adapter.match(return_rule=True)  # type: ignore[union-attr]
        except WebsocketMismatch:
            self.request.routing_exception = BadRequest(_WS_ONLY)
        except HTTPException as e:
            self.request.routing_exception = e
        else:
            if rule.websocket:
                # A WebSocket handshake reached the WSGI path (only a WSGI
                # server sends one here; ASGI servers give it its own scope).
                self.request.routing_exception = BadRequest(_WS_NEEDS_ASGI)
                _log_wsgi_refusal(self.app, rule.endpoint)
                return
            self.request.url_rule = rule
            # MapAdapter.match builds a dict but declares a Mapping.
            self.request.view_args = args  # type: ignore[assignment]

    def push(self) -> None:
        """Make this the current request, pushing an app context if needed."""
        # An app context of this app may already be active (a test's
        # ``with app.app_context():``); only push our own when not.
        top = _cv_app.get(None)
        own: AppContext | None = None
        if top is None or top.app is not self.app:
            own = self.app.app_context()
            own.push()
        self._cv_tokens.append((_cv_request.set(self), own))
        if reject_invalid_host(self.request, self.app.config):
            return
        if self._url_adapter is _sentinel and self.app._matches_directly():
            if match_directly(self.app.url_map, self.request):
                return
        if self.url_adapter is not None and self.request.routing_exception is None:
            self.match_request()

    def pop(self, exc: BaseException | None = _sentinel) -> None:
        """Pop the context; the last pop runs teardown and closes the request."""
        tokens = self._cv_tokens
        try:
            if len(tokens) == 1:
                exc = sys.exc_info()[1] if exc is _sentinel else exc
                if not (self._holds and defer_teardown(self, exc)):
                    self.app.do_teardown_request(exc)
                    self.request.close()
        finally:
            current = _cv_request.get()
            token, pushed = tokens.pop()
            _cv_request.reset(token)
            if pushed is not None:
                pushed.pop(exc)
            if current is not self:
                raise AssertionError(
                    f"Popped wrong request context. ({current!r} instead of {self!r})"
                )

    # The ASGI path (flask.asgi.http) pushes a context on the event loop
    # but may run teardown functions in the thread pool
    # (flask.pipeline.teardown_steps). Context-variable tokens can only be
    # reset in the context that made them, so the pop stays on the loop.

    def _pop_after_teardown(self) -> None:
        """Pop after ``pipeline.teardown_steps`` ran, without running them again."""
        token, app_ctx = self._cv_tokens.pop()
        _cv_request.reset(token)
        if app_ctx is not None:
            _cv_app.reset(app_ctx._cv_tokens.pop())
            if appcontext_popped.receivers:
                appcontext_popped.send(self.app, _async_wrapper=self.app.ensure_sync)

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} {self.request.url!r}"
            f" [{self.request.method}] of {self.app.name}>"
        )


# Guards a hold's count against the last pop on another thread: the pop
# leaves its teardown to the hold, or runs it itself, never neither.
_hold_lock = threading.Lock()


def defer_teardown(ctx: RequestContext | AppContext, exc: BaseException | None) -> bool:
    """At the last pop of a held context: leave teardown to the hold's
    release (``True``), unless the hold ended meanwhile."""
    with _hold_lock:
        if ctx._holds:
            ctx._deferred = (exc,)
            return True
        return False


class ContextHold:
    """Keeps the current request's contexts for a stream that outlives
    the view (:func:`~flask.stream_with_context`, :class:`~flask.EventStream`).

    The stream runs in :attr:`context`, a copy of the context variables
    taken here, so the request is current inside it and nothing the stream
    sets reaches the thread that iterates it. The request's last pop then
    leaves its teardown to :meth:`release`, so teardown runs once, after
    the stream, on whichever thread ends it.
    """

    __slots__ = ("context", "_contexts")

    def __init__(self) -> None:
        self.context: Context = copy_context()
        contexts: list[RequestContext | AppContext] = []
        req = _cv_request.get(None)
        if req is not None:
            contexts.append(req)
        app = _cv_app.get(None)
        if app is not None:
            contexts.append(app)
        with _hold_lock:
            for ctx in contexts:
                ctx._holds += 1
        self._contexts: list[RequestContext | AppContext] | None = contexts

    def release(self, exc: BaseException | None = None) -> None:
        """End the hold (once; later calls do nothing): run the teardown
        a pop left waiting, in :attr:`context`, with ``exc`` or else the
        exception that pop saw."""
        contexts, self._contexts = self._contexts, None
        if contexts:
            self.context.run(_release, contexts, exc)


def _release(contexts: list[RequestContext | AppContext], exc: BaseException | None) -> None:
    # Request first, then its app context, as pop() orders them; an error
    # in one still lets the next run.
    if not contexts:
        return
    ctx = contexts[0]
    try:
        with _hold_lock:
            ctx._holds -= 1
            deferred = None
            if not ctx._holds:
                deferred, ctx._deferred = ctx._deferred, None
        if deferred is not None:
            error = exc if exc is not None else deferred[0]
            if isinstance(ctx, RequestContext):
                ctx.app.do_teardown_request(error)
                ctx.request.close()
            else:
                ctx.app.do_teardown_appcontext(error)
    finally:
        _release(contexts[1:], exc)


def template_context_defaults() -> dict[str, t.Any]:
    """``g``, ``request`` and ``session`` for templates. The proxies are
    passed, not the objects, so rendering does not open the session."""
    context: dict[str, t.Any] = {}
    if _cv_app.get(None) is not None:
        context["g"] = g
    if _cv_request.get(None) is not None:
        context["request"] = request
        context["session"] = session
    return context


def has_app_context() -> bool:
    """Whether an application context is active."""
    return _cv_app.get(None) is not None


def has_request_context() -> bool:
    """Whether a request context is active."""
    return _cv_request.get(None) is not None


def _active_request(caller: str) -> RequestContext:
    """The current request context, or the error naming ``caller``."""
    ctx: RequestContext | None = _cv_request.get(None)
    if ctx is None:
        raise RuntimeError(
            f"'{caller}' can only be used when a request context is active,"
            " such as in a view function."
        )
    return ctx


def after_this_request(f: F) -> F:
    """Run ``f(response)`` after the current request, before ``after_request``
    hooks registered on the app."""
    _active_request("after_this_request")._after_request_functions.append(f)
    return f


def copy_current_request_context(f: F) -> F:
    """Decorate ``f`` so it runs inside a copy of the current request context,
    for example in a greenlet or thread started during the request."""
    copied = _active_request("copy_current_request_context").copy()

    @wraps(f)
    def in_copied_context(*args: t.Any, **kwargs: t.Any) -> t.Any:
        with copied:
            return copied.app.ensure_sync(f)(*args, **kwargs)

    return t.cast(F, in_copied_context)
