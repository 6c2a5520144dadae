"""Flask's request and response objects: Werkzeug's, plus what the app knows.

Limits (body size, form memory, form parts) and cookie size come from the
current app's config unless set on the object itself.
"""

from __future__ import annotations

import typing as t
from functools import lru_cache
from http import HTTPStatus
from urllib.parse import parse_qsl

from werkzeug.datastructures import EnvironHeaders
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import BadRequest
from werkzeug.exceptions import HTTPException
from werkzeug.sansio.http import parse_cookie
from werkzeug.utils import cached_property
from werkzeug.wrappers import Request as _WerkzeugRequest
from . import json
from ._accel import enabled
from ._accel.wrappers import RequestShortcuts
from ._accel.wrappers import ResponseShortcuts
from ._accel.wrappers import get_server
from .globals import _cv_app

if t.TYPE_CHECKING:  # pragma: no cover
    from werkzeug.routing import Rule


@lru_cache(maxsize=None)
def _split_blueprint_path(name: str) -> list[str]:
    """``"a.b.c"`` -> ``["a.b.c", "a.b", "a"]``: a blueprint and its parents."""
    out = [name]
    while "." in name:
        name = name.rpartition(".")[0]
        out.append(name)
    return out


class _ConfigLimit:
    """A request limit that defaults to a config key of the current app."""

    def __init__(self, key: str) -> None:
        self.key = key

    def __set_name__(self, owner: type, name: str) -> None:
        self.attr = f"_{name}"

    @t.overload
    def __get__(self, obj: None, owner: type | None = None) -> _ConfigLimit: ...

    @t.overload
    def __get__(self, obj: object, owner: type | None = None) -> int | None: ...

    def __get__(self, obj: object, owner: type | None = None) -> _ConfigLimit | int | None:
        if obj is None:
            return self
        value: int | None = obj.__dict__.get(self.attr)
        if value is not None:
            return value
        ctx = _cv_app.get(None)
        if ctx is None:
            limit: int | None = getattr(_WerkzeugRequest, self.attr[1:])
            return limit
        limit = ctx.app.config[self.key]
        return limit

    def __set__(self, obj: t.Any, value: int | None) -> None:
        obj.__dict__[self.attr] = value


class _FromEnviron:
    """A request field read from the environ on first access, then stored
    on the instance (so later reads and assignments are plain attributes)."""

    def __init__(self, read: t.Callable[[t.Any], t.Any]) -> None:
        self.read = read

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: t.Any, owner: type | None = None) -> t.Any:
        if obj is None:
            return self
        value = obj.__dict__[self.name] = self.read(obj.environ)
        return value


def _decoded(key: str) -> t.Callable[[t.Any], str]:
    # WSGI strings are latin-1 decoded bytes; paths are UTF-8.
    return lambda environ: (environ.get(key) or "").encode("latin1").decode(
        errors="replace"
    )


class Request(RequestShortcuts):
    """The request object used by default in Flask.

    Adds the routing results (``url_rule``, ``view_args``, ``endpoint``,
    ``blueprint``) and takes its limits from the app's config.
    """

    json_module: t.Any = json

    # Werkzeug computes these eight fields from the environ up front; most
    # requests read two or three. Reading them on demand took 15% off a
    # hello-world request. Values are identical.
    method = _FromEnviron(lambda env: env.get("REQUEST_METHOD", "GET").upper())
    scheme = _FromEnviron(lambda env: env.get("wsgi.url_scheme", "http"))
    server = _FromEnviron(get_server)
    root_path = _FromEnviron(lambda env: _decoded("SCRIPT_NAME")(env).rstrip("/"))
    path = _FromEnviron(lambda env: "/" + _decoded("PATH_INFO")(env).lstrip("/"))
    query_string = _FromEnviron(
        lambda env: env.get("QUERY_STRING", "").encode("latin1")
    )
    headers = _FromEnviron(EnvironHeaders)
    remote_addr = _FromEnviron(lambda env: env.get("REMOTE_ADDR"))

    # The storage classes of args, form and cookies. Werkzeug 3.2 deprecates
    # its ``parameter_storage_class`` and ``dict_storage_class`` (always
    # ImmutableMultiDict, and None as class attributes), so they are not
    # read here; a subclass that sets them, as Werkzeug 3.1 allows, still
    # gets its class.
    _param_storage: type[t.Any] = ImmutableMultiDict
    _dict_storage: type[t.Any] = ImmutableMultiDict

    def __init_subclass__(cls, **kwargs: t.Any) -> None:
        super().__init_subclass__(**kwargs)
        for klass in cls.__mro__:
            if klass is Request:
                break
            own = vars(klass)
            if own.get("parameter_storage_class") is not None and "_param_storage" not in vars(cls):
                cls._param_storage = own["parameter_storage_class"]
            if own.get("dict_storage_class") is not None and "_dict_storage" not in vars(cls):
                cls._dict_storage = own["dict_storage_class"]

    def __init__(
        self,
        environ: t.Any,
        populate_request: bool = True,
        shallow: bool = False,
    ) -> None:
        if not enabled("lazy-request-fields"):
            # A Werkzeug whose request fields differ: let it set them all.
            super().__init__(environ, populate_request, shallow)
            return
        self.environ = environ
        self.shallow = shallow
        if populate_request and not shallow:
            environ["werkzeug.request"] = self

    def close(self) -> None:
        """Close uploaded files, if the form was parsed."""
        if "files" in self.__dict__:
            super().close()

    @cached_property
    def cookies(self) -> ImmutableMultiDict[str, str]:
        """The cookies sent with the request."""
        headers = self.headers
        if type(headers) is EnvironHeaders:
            # WSGI has one HTTP_COOKIE key; Werkzeug finds it by walking
            # every environ key (5% of a session request).
            raw = self.environ.get("HTTP_COOKIE", "")
        else:
            raw = ";".join(headers.getlist("Cookie"))
        pairs = self.plain_cookies(raw)
        if pairs is None:
            # Werkzeug's parse without its ``cls`` (deprecated in 3.2; its
            # default before was a mutable MultiDict).
            pairs = list(parse_cookie(raw).items(multi=True))
        cookies: ImmutableMultiDict[str, str] = self._dict_storage(pairs)
        return cookies

    #: The matched :class:`~werkzeug.routing.Rule`, or ``None``.
    url_rule: Rule | None = None
    #: The arguments matched from the URL, or ``None`` on a routing error.
    view_args: dict[str, t.Any] | None = None
    #: The exception raised while matching the URL, if any.
    routing_exception: HTTPException | None = None

    # Descriptors in place of Werkzeug's plain class attributes; pyright
    # checks the descriptor object itself against their declared int | None.
    max_content_length = _ConfigLimit("MAX_CONTENT_LENGTH")  # pyright: ignore[reportAssignmentType]
    max_form_memory_size = _ConfigLimit("MAX_FORM_MEMORY_SIZE")  # pyright: ignore[reportAssignmentType]
    # MAX_FORM_PARTS may be None (no limit), which Werkzeug's int leaves out.
    max_form_parts = _ConfigLimit("MAX_FORM_PARTS")  # type: ignore[assignment]

    def stream_chunks(self, size: int = 64 * 1024) -> t.AsyncIterator[bytes]:
        """The request body in pieces, for an async view
        (``async for chunk in request.stream_chunks()``). For a route with
        ``stream_body=True`` served over ASGI, each piece as it arrives
        (413 once past ``MAX_CONTENT_LENGTH``); otherwise ``request.stream``
        read ``size`` bytes at a time.

        .. beyond-flask:: Streamed request bodies: the view reads the upload while it arrives.
        """
        source = self.environ.get("wsgi.input")
        chunks = getattr(source, "chunks", None)
        if chunks is None or not hasattr(source, "next_chunk"):
            return _read_in_pieces(self.stream, size)
        limit = self.max_content_length
        length = self.content_length
        if limit is not None and length is not None and length > limit:
            from werkzeug.exceptions import RequestEntityTooLarge

            raise RequestEntityTooLarge()
        # The stream's own iterator, not one wrapped in another generator:
        # one frame less per piece.
        return t.cast("t.AsyncIterator[bytes]", chunks())

    @property
    def endpoint(self) -> str | None:
        """The endpoint that matched the request URL."""
        rule = self.url_rule
        return None if rule is None else rule.endpoint

    @property
    def blueprint(self) -> str | None:
        """The dotted name of the blueprint the matched endpoint belongs to."""
        name, dot, _ = (self.endpoint or "").rpartition(".")
        return name if dot else None

    @property
    def blueprints(self) -> list[str]:
        """The current blueprint and its parents, innermost first."""
        name = self.blueprint
        return [] if name is None else _split_blueprint_path(name)

    def on_form_loaded(self) -> None:
        ctx = _cv_app.get(None)
        # In debug mode, make a missing file caused by a wrong form enctype
        # explain itself instead of a bare KeyError.
        if (
            ctx is not None
            and ctx.app.debug
            and self.mimetype != "multipart/form-data"
            and not self.files
        ):
            # Imported here: only debug mode ever needs the explanation.
            from .debughelpers import attach_enctype_error_multidict

            attach_enctype_error_multidict(self)

    @cached_property
    def args(self) -> MultiDict[str, str]:
        """The parsed query string; see Werkzeug's ``Request.args``.

        Bytes that are not UTF-8 stay percent-encoded, as Werkzeug keeps
        escaped ones, also when a client sent them raw (Werkzeug's strict
        decode raised ``UnicodeDecodeError``, a 500, for ``?a=\\x80``).
        """
        args: MultiDict[str, str] = self._param_storage(
            parse_qsl(
                self.query_string.decode("utf-8", "werkzeug.url_quote"),
                keep_blank_values=True,
                errors="werkzeug.url_quote",
            )
        )
        return args

    @property
    def last_event_id(self) -> str | None:
        """The ``Last-Event-ID`` header: the id of the last event an
        ``EventSource`` received, sent when it reconnects, so a view
        returning an :class:`~flask.EventStream` can resume after it.

        .. beyond-flask:: The Last-Event-ID header of a reconnecting EventSource.
        """
        value: str | None = self.headers.get("Last-Event-ID")
        return value

    @property
    def full_path(self) -> str:
        """The path and query string; bytes that are not UTF-8 stay
        percent-encoded, as in ``args`` and ``url``."""
        return f"{self.path}?{self.query_string.decode('utf-8', 'werkzeug.url_quote')}"

    def get_json(
        self, force: bool = False, silent: bool = False, cache: bool = True
    ) -> t.Any | None:
        """Parse the body as JSON; see Werkzeug's ``Request.get_json``.

        A body nested deeper than the parser's recursion limit is the
        client's malformed input like any other: a 400 (``None`` when
        ``silent``), not the 500 a ``RecursionError`` would give.
        """
        try:
            return super().get_json(force=force, silent=silent, cache=cache)
        except RecursionError as e:
            if silent:
                return None
            return self.on_json_loading_failed(ValueError(f"JSON nested too deeply: {e}"))

    def on_json_loading_failed(self, e: ValueError | None) -> t.Any:
        try:
            return super().on_json_loading_failed(e)
        except BadRequest as detailed:
            ctx = _cv_app.get(None)
            if ctx is not None and ctx.app.debug:
                raise
            # Outside debug mode the parser's message is not shown to clients.
            raise BadRequest() from detailed


class Response(ResponseShortcuts):
    """The response object used by default in Flask: HTML unless told."""

    default_mimetype: str | None = "text/html"
    json_module = json
    autocorrect_location_header = False

    def __init__(
        self,
        response: t.Any = None,
        status: int | str | HTTPStatus | None = None,
        headers: t.Any = None,
        mimetype: str | None = None,
        content_type: str | None = None,
        direct_passthrough: bool = False,
    ) -> None:
        # Werkzeug's constructor asks its empty Headers whether they hold a
        # Content-Type (a KeyError raised and caught) and validates each
        # header it sets: 6.8 us for Response("text"); this takes 1.1 us
        # and builds the same object (see flask._accel.wrappers).
        if (
            headers is None
            and not direct_passthrough
            and (type(response) is str or type(response) is bytes)
            and (status is None or type(status) is int)
            and self._plain_init
            and enabled("buffered-response")
        ):
            self._init_buffered(response, status, mimetype, content_type)
        else:
            super().__init__(
                response, status, headers, mimetype, content_type, direct_passthrough
            )

    def __call__(
        self, environ: t.Any, start_response: t.Any
    ) -> t.Iterable[bytes]:
        # A buffered 2xx body with its Content-Length set and no Location
        # needs none of Werkzeug's generic header pass, which was a quarter
        # of a jsonify request. Same bytes out.
        body = self.response
        status = self.status_code
        if (
            self._plain_wsgi
            and type(body) is list
            and len(body) == 1
            and type(body[0]) is bytes
            and 200 <= status < 300
            and status != 204
            and not self.direct_passthrough
            and not self.has_close_callbacks()
            and enabled("direct-wsgi-response")
        ):
            # One pass over the pairs: a missed `in` on Headers raises and
            # catches a KeyError inside Werkzeug, three times per response.
            pairs = self.headers.to_wsgi_list()
            has_length = False
            for key, _ in pairs:
                name = key.lower()
                if name == "content-length":
                    has_length = True
                elif name == "location" or name == "content-location":
                    break
            else:
                if has_length:
                    start_response(self.status, pairs)
                    return [] if environ["REQUEST_METHOD"] == "HEAD" else body
        return super().__call__(environ, start_response)

    @property
    def max_cookie_size(self) -> int:  # type: ignore[override]  # read from the app's config, as Flask documents
        """``MAX_COOKIE_SIZE`` of the current app, else Werkzeug's default."""
        ctx = _cv_app.get(None)
        if ctx is None:
            return super().max_cookie_size
        return ctx.app.config["MAX_COOKIE_SIZE"]  # type: ignore[no-any-return]  # MAX_COOKIE_SIZE is an int


async def _read_in_pieces(stream: t.IO[bytes], size: int) -> t.AsyncIterator[bytes]:
    while True:
        chunk = stream.read(size)
        if not chunk:
            return
        yield chunk
