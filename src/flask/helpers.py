"""Helpers that act on the current application or request.

They reach the app only through :mod:`flask.globals`, so they can be
imported anywhere without pulling in :mod:`flask.app`.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import typing as t
from datetime import timedelta
from functools import update_wrapper

import werkzeug.exceptions
import werkzeug.utils

from .ctx import ContextHold
from .ctx import _active_request
from .globals import _cv_app
from .globals import _no_app_msg
from .globals import current_app
from .globals import request
from .globals import request_ctx
from .globals import session
from .signals import message_flashed
from .wrappers import _split_blueprint_path as _split_blueprint_path  # one definition, in wrappers

if t.TYPE_CHECKING:  # pragma: no cover
    from datetime import datetime

    from werkzeug.wrappers import Response as BaseResponse

    from .ctx import RequestContext
    from .wrappers import Response

_FALSEY = frozenset(("0", "false", "no"))


def get_debug_flag() -> bool:
    """Whether debug mode was requested through the ``FLASK_DEBUG``
    environment variable. Empty, ``0``, ``false`` and ``no`` mean off.
    """
    value = os.environ.get("FLASK_DEBUG")
    return bool(value) and value.lower() not in _FALSEY  # type: ignore[union-attr]  # bool(value) rules out None


def get_load_dotenv(default: bool = True) -> bool:
    """Whether the CLI should load ``.env`` files. Setting
    ``FLASK_SKIP_DOTENV`` to a true-ish value turns loading off; when it
    is unset or empty, ``default`` is returned.
    """
    value = os.environ.get("FLASK_SKIP_DOTENV")
    if not value:
        return default
    return value.lower() in _FALSEY


def stream_with_context(
    generator_or_function: t.Iterator[t.AnyStr] | t.Callable[..., t.Iterator[t.AnyStr]],
) -> t.Iterator[t.AnyStr] | t.Callable[..., t.Iterator[t.AnyStr]]:
    """Keep the current app and request contexts available while a
    streamed response is iterated, after the view has returned.

    Pass an iterator, or use it as a decorator on a generator function.

    .. beyond-flask:: The stream never leaks a context and tears down once.

    The stream runs in its own copy of the request's context variables, so
    nothing stays current on the thread that iterates it, even when the
    server abandons the iterator without calling ``close()`` and it is
    finalized later on another thread. The request's teardown functions
    run once, when the stream ends, is closed or is finalized (Pallets
    Flask runs them before the stream and again after it). See
    :doc:`/streaming`.
    """
    try:
        source = iter(generator_or_function)  # type: ignore[arg-type]  # iter() tells an iterator from a generator function
    except TypeError:
        func = t.cast(t.Callable[..., t.Iterator[t.AnyStr]], generator_or_function)

        def wrapper(*args: t.Any, **kwargs: t.Any) -> t.Iterator[t.AnyStr]:
            stream = stream_with_context(func(*args, **kwargs))
            return stream  # type: ignore[return-value]  # the callable's result is an iterator

        return update_wrapper(wrapper, func)

    _active_request("stream_with_context")
    return _ContextStream(source, ContextHold())


class _ContextStream(t.Generic[t.AnyStr]):
    """An iterator that advances ``source`` inside the hold's context.

    One ``Context.run`` per chunk, rather than a push and pop of both
    contexts: the request stays current inside the stream and never
    becomes current on the server's thread.
    """

    __slots__ = ("_source", "_hold", "__weakref__")

    def __init__(self, source: t.Iterator[t.AnyStr], hold: ContextHold) -> None:
        self._source: t.Iterator[t.AnyStr] = source
        self._hold: ContextHold | None = hold

    def __iter__(self) -> _ContextStream[t.AnyStr]:
        return self

    def __next__(self) -> t.AnyStr:
        hold = self._hold
        if hold is None:
            raise StopIteration
        try:
            chunk: t.AnyStr = hold.context.run(next, self._source)
            return chunk
        except StopIteration:
            self._end(None)
            raise
        except BaseException as e:
            self._end(e)
            raise

    def close(self) -> None:
        """Close the source and run the request's teardown (once)."""
        self._end(None)

    def _end(self, error: BaseException | None) -> None:
        hold, self._hold = self._hold, None
        if hold is None:
            return
        try:
            close = getattr(self._source, "close", None)
            if close is not None:
                hold.context.run(close)
        finally:
            hold.release(error)

    def __del__(self) -> None:
        # Abandoned without close() (pallets/flask#6123): finalize here, on
        # whichever thread drops it; the worker thread holds nothing.
        self._end(None)


def make_response(*args: t.Any) -> Response:
    """Turn a view's return value into a response object so headers can
    be added before returning it.

    With no arguments, an empty response; with one, that value; with
    several, they are treated as a ``(body, status, headers)`` tuple.
    """
    if not args:
        return current_app.response_class()
    value = args[0] if len(args) == 1 else args
    return current_app.make_response(value)


def url_for(
    endpoint: str,
    *,
    _anchor: str | None = None,
    _method: str | None = None,
    _scheme: str | None = None,
    _external: bool | None = None,
    **values: t.Any,
) -> str:
    """Build a URL for ``endpoint`` with the current app; see
    :meth:`flask.Flask.url_for`.
    """
    # Views call this often: the app comes from the context variable rather
    # than through the proxy, and the four options, nearly always unset, are
    # then not passed on at all (10.1 -> 8.4 us a call, measured on a busy
    # machine, against forwarding them through ``current_app``).
    app_ctx = _cv_app.get(None)
    if app_ctx is None:
        raise RuntimeError(_no_app_msg)
    if _anchor is None and _method is None and _scheme is None and _external is None:
        return app_ctx.app.url_for(endpoint, **values)
    return app_ctx.app.url_for(
        endpoint, _anchor=_anchor, _method=_method, _scheme=_scheme, _external=_external,
        **values,
    )


def redirect(
    location: str, code: int = 302, Response: type[BaseResponse] | None = None
) -> BaseResponse:
    """Return a redirect response to ``location``.

    Inside an app context this goes through ``current_app.redirect`` so
    the app can customise it; ``Response`` is only used outside one.
    """
    app_ctx = _cv_app.get(None)
    if app_ctx is not None:
        return app_ctx.app.redirect(location, code=code)
    return werkzeug.utils.redirect(location, code=code, Response=Response)


def abort(code: int | BaseResponse, *args: t.Any, **kwargs: t.Any) -> t.NoReturn:
    """Raise the HTTP exception for ``code``, using the current app's
    ``aborter`` when an app context is active.
    """
    app_ctx = _cv_app.get(None)
    if app_ctx is not None:
        app_ctx.app.aborter(code, *args, **kwargs)
    werkzeug.exceptions.abort(code, *args, **kwargs)


def get_template_attribute(template_name: str, attribute: str) -> t.Any:
    """Load a template and return one of its exported names, such as a
    macro, so Python code can call it.
    """
    template = current_app.jinja_env.get_template(template_name)
    return getattr(template.module, attribute)


def flash(message: str, category: str = "message") -> None:
    """Store ``message`` in the session so the next request can show it
    with :func:`get_flashed_messages`.
    """
    # Reassign rather than mutate in place so the session notices the change.
    pending = session.get("_flashes", [])
    pending.append((category, message))
    session["_flashes"] = pending

    if message_flashed.receivers:
        app = current_app._get_current_object()  # type: ignore[attr-defined]  # the proxy's own method
        message_flashed.send(
            app, _async_wrapper=app.ensure_sync, message=message, category=category
        )


def _take_flashes() -> list[tuple[str, str]]:
    # The first call of a request moves the messages from the session to the
    # request context, so later calls in the same request see them too.
    # One proxy lookup; the proxy's own method is unknown to the type it
    # stands for.
    ctx: RequestContext = request_ctx._get_current_object()  # type: ignore[attr-defined]
    if ctx.flashes is None:
        ctx.flashes = session.pop("_flashes") if "_flashes" in session else []
    return ctx.flashes


def get_flashed_messages(
    with_categories: bool = False, category_filter: t.Iterable[str] = ()
) -> list[str] | list[tuple[str, str]]:
    """Return the flashed messages and remove them from the session.

    Repeated calls in one request return the same messages. With
    ``with_categories`` the items are ``(category, message)`` tuples;
    ``category_filter`` keeps only the listed categories.
    """
    flashes = _take_flashes()
    if category_filter:
        wanted = set(category_filter)
        flashes = [item for item in flashes if item[0] in wanted]
    if with_categories:
        return flashes
    return [item[1] for item in flashes]


def _send_file_options(**kwargs: t.Any) -> dict[str, t.Any]:
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # the proxy's own method
    if kwargs.get("max_age") is None:
        # Werkzeug calls this with the file name for path-based sends.
        kwargs["max_age"] = app.get_send_file_max_age
    kwargs["environ"] = request.environ
    kwargs["use_x_sendfile"] = app.config["USE_X_SENDFILE"]
    kwargs["response_class"] = app.response_class
    kwargs["_root_path"] = app.root_path
    return kwargs


def send_file(
    path_or_file: os.PathLike[t.AnyStr] | str | t.IO[bytes],
    mimetype: str | None = None,
    as_attachment: bool = False,
    download_name: str | None = None,
    conditional: bool = True,
    etag: bool | str = True,
    last_modified: datetime | int | float | None = None,
    max_age: None | int | t.Callable[[str | None], int | None] = None,
) -> Response:
    """Send a file to the client; relative paths are taken from the app's
    ``root_path``. See :func:`werkzeug.utils.send_file` for the options.
    ``max_age`` defaults to ``current_app.get_send_file_max_age``.
    """
    return werkzeug.utils.send_file(  # type: ignore[return-value]  # built with the app's response_class
        **_send_file_options(
            path_or_file=path_or_file,
            mimetype=mimetype,
            as_attachment=as_attachment,
            download_name=download_name,
            conditional=conditional,
            etag=etag,
            last_modified=last_modified,
            max_age=max_age,
        )
    )


def send_from_directory(
    directory: os.PathLike[str] | str,
    path: os.PathLike[str] | str,
    **kwargs: t.Any,
) -> Response:
    """Send ``path`` from inside ``directory``, refusing paths that escape
    it and answering 404 for missing files. ``directory`` is relative to
    the app's ``root_path``; ``kwargs`` go to :func:`send_file`.
    """
    return werkzeug.utils.send_from_directory(  # type: ignore[return-value]  # built with the app's response_class
        directory, path, **_send_file_options(**kwargs)
    )


def get_root_path(import_name: str) -> str:
    """Return the folder of the package ``import_name``, or the folder
    holding the module. Falls back to the working directory when the
    module cannot be located (for example an interactive ``__main__``).

    The module is not imported when its file can be found from its spec.
    """
    module_file: str | None = getattr(sys.modules.get(import_name), "__file__", None)
    if module_file is not None:
        return os.path.dirname(os.path.abspath(module_file))

    try:
        spec = importlib.util.find_spec(import_name)
    except (ImportError, ValueError):
        # ValueError: a module such as __main__ whose __spec__ is None.
        spec = None
    loader = spec.loader if spec is not None else None
    if loader is None:
        return os.getcwd()

    get_filename = getattr(loader, "get_filename", None)
    if get_filename is not None:
        filepath: str = get_filename(import_name)
    else:
        # Loaders without file information: import and look at the module.
        __import__(import_name)
        module_file = getattr(sys.modules[import_name], "__file__", None)
        if module_file is None:
            raise RuntimeError(
                "No root path can be found for the provided module"
                f" {import_name!r}. This can happen because the module"
                " came from an import hook that does not provide file"
                " name information or because it's a namespace package."
                " In this case the root path needs to be explicitly"
                " provided."
            )
        filepath = module_file
    return os.path.dirname(os.path.abspath(filepath))


class _FileServing:
    """Files of an app or blueprint, served or opened relative to its
    folders. :class:`flask.Flask` and :class:`flask.Blueprint` add this to
    their protocol-free bases, which only describe where the files are."""

    root_path: str

    if t.TYPE_CHECKING:  # pragma: no cover
        # Provided by Scaffold, which comes first in the subclasses' bases.
        @property
        def static_folder(self) -> str | None: ...

        @property
        def has_static_folder(self) -> bool: ...

    def get_send_file_max_age(self, filename: str | None) -> int | None:
        """Cache max age for a static file: ``SEND_FILE_MAX_AGE_DEFAULT``."""
        value = current_app.config["SEND_FILE_MAX_AGE_DEFAULT"]
        if isinstance(value, timedelta):
            return int(value.total_seconds())
        return value  # type: ignore[no-any-return]

    def send_static_file(self, filename: str) -> Response:
        """The view behind the ``static`` endpoint."""
        folder = self.static_folder
        if folder is None:
            raise RuntimeError("'static_folder' must be set to serve static_files.")
        cache_for = self.get_send_file_max_age(filename)
        return send_from_directory(folder, filename, max_age=cache_for)

    def open_resource(
        self, resource: str, mode: str = "rb", encoding: str | None = None
    ) -> t.IO[t.AnyStr]:
        """Open a file relative to ``root_path`` for reading."""
        if mode not in {"r", "rt", "rb"}:
            raise ValueError("Resources can only be opened for reading.")
        path = os.path.join(self.root_path, resource)
        if "b" in mode:
            return open(path, mode)
        return open(path, mode, encoding=encoding)
