"""Flask's request and response objects: Werkzeug's, plus what the app knows.

Limits (body size, form memory, form parts) and cookie size come from the
current app's config unless set on the object itself.
"""

from __future__ import annotations

import typing as t
from functools import lru_cache
from io import BytesIO
from http import HTTPStatus
from urllib.parse import parse_qsl

from werkzeug.datastructures import EnvironHeaders
from werkzeug.datastructures import Headers
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import BadRequest
from werkzeug.exceptions import HTTPException
from werkzeug.formparser import FormDataParser
from werkzeug.sansio.http import parse_cookie
from werkzeug.sansio.request import Request as _SansioRequest
from werkzeug.utils import cached_property
from werkzeug.utils import get_content_type
from werkzeug.wrappers import Request as _WerkzeugRequest
from werkzeug.wrappers import Response as _WerkzeugResponse
from werkzeug.wsgi import LimitedStream
from werkzeug.wsgi import _get_server

from . import _body
from . import json
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


def _sansio_fields() -> set[str]:
    code = _SansioRequest.__init__.__code__
    return set(code.co_varnames[1 : code.co_argcount])


_URLENCODED = "application/x-www-form-urlencoded"

_LAZY_FIELDS = {
    "method", "scheme", "server", "root_path", "path", "query_string",
    "headers", "remote_addr",
}
# The lazy fields below stand in for Werkzeug's constructor only while it
# sets exactly these; any other Werkzeug gets its own constructor called.
_LAZY_FIELDS_MATCH = _sansio_fields() == _LAZY_FIELDS


class Request(_WerkzeugRequest):
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
    server = _FromEnviron(_get_server)
    root_path = _FromEnviron(lambda env: _decoded("SCRIPT_NAME")(env).rstrip("/"))
    path = _FromEnviron(lambda env: "/" + _decoded("PATH_INFO")(env).lstrip("/"))
    query_string = _FromEnviron(
        lambda env: env.get("QUERY_STRING", "").encode("latin1")
    )
    headers = _FromEnviron(EnvironHeaders)
    remote_addr = _FromEnviron(lambda env: env.get("REMOTE_ADDR"))

    def __init__(
        self,
        environ: t.Any,
        populate_request: bool = True,
        shallow: bool = False,
    ) -> None:
        if not _LAZY_FIELDS_MATCH:
            # A Werkzeug whose request fields differ: let it set them all.
            super().__init__(environ, populate_request, shallow)
            return
        self.environ = environ
        self.shallow = shallow
        if populate_request and not shallow:
            environ["werkzeug.request"] = self

    def _parse_content_type(self) -> None:
        # Werkzeug's hook behind ``mimetype`` and ``mimetype_params``:
        # the same parse, remembered per distinct header value.
        if "_parsed_content_type" not in self.__dict__:
            headers = self.headers
            if type(headers) is EnvironHeaders:
                raw = self.environ.get("CONTENT_TYPE", "")
            else:
                raw = headers.get("Content-Type", "")
            self._parsed_content_type = _body.parse_content_type(raw)

    def _small_body(self) -> bytes | None:
        """The whole body read directly (see :mod:`flask._body`), or
        ``None`` when Werkzeug's stream must do it. Leaves ``stream``
        consumed, as reading it would."""
        if self.shallow or "stream" in self.__dict__:
            return None
        environ = self.environ
        length = _body.small_body_length(environ)
        if length is None:
            return None
        data = _body.read_body(environ, length, self.max_content_length)
        self.__dict__["stream"] = LimitedStream(environ["wsgi.input"], 0)
        return data

    # Werkzeug's overloads, so that callers keep their precise types (pyright
    # finds them overlapping for a call with no arguments, as Werkzeug's are).
    @t.overload
    def get_data(  # pyright: ignore[reportOverlappingOverload]
        self,
        cache: bool = True,
        as_text: t.Literal[False] = False,
        parse_form_data: bool = False,
    ) -> bytes: ...

    @t.overload
    def get_data(
        self,
        cache: bool = True,
        as_text: t.Literal[True] = ...,
        parse_form_data: bool = False,
    ) -> str: ...

    def get_data(
        self, cache: bool = True, as_text: bool = False, parse_form_data: bool = False
    ) -> bytes | str:
        if not parse_form_data and getattr(self, "_cached_data", None) is None:
            data = self._small_body()
            if data is not None:
                if cache:
                    self._cached_data = data
                return data.decode(errors="replace") if as_text else data
        if as_text:
            return super().get_data(cache, True, parse_form_data)
        return super().get_data(cache, False, parse_form_data)

    def _load_urlencoded(self) -> bool:
        """Parse a small urlencoded form body directly; False when
        Werkzeug's parser must do it (other types, custom parsers)."""
        if (
            self.environ.get("CONTENT_TYPE") != _URLENCODED
            or self.form_data_parser_class is not FormDataParser
            or type(self).make_form_data_parser is not _WerkzeugRequest.make_form_data_parser
        ):
            return False
        data = getattr(self, "_cached_data", None)
        if data is None:
            data = self._small_body()
            if data is None:
                return False
            stream: t.Any = self.__dict__["stream"]
        else:
            stream = BytesIO(b"")
        storage = self.parameter_storage_class
        try:
            form = storage(_body.parse_urlencoded(data.decode()))
        except UnicodeDecodeError:
            # Werkzeug's parser is silent about undecodable forms.
            form = storage()
        d = self.__dict__
        d["stream"], d["form"], d["files"] = stream, form, storage()
        return True

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
        pairs = _body.parse_plain_cookies(raw)
        if pairs is None:
            return parse_cookie(raw, cls=self.dict_storage_class)  # type: ignore[return-value]  # an immutable dict_storage_class, as Werkzeug's cookies property uses
        return self.dict_storage_class(pairs)  # type: ignore[return-value]  # an immutable dict_storage_class, as Werkzeug's cookies property uses

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

    def _load_form_data(self) -> None:
        if "form" in self.__dict__:
            return
        if not self._load_urlencoded():
            super()._load_form_data()
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
        return self.parameter_storage_class(
            parse_qsl(
                self.query_string.decode("utf-8", "werkzeug.url_quote"),
                keep_blank_values=True,
                errors="werkzeug.url_quote",
            )
        )

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


_WSGI_STEPS = ("get_wsgi_response", "get_wsgi_headers", "get_app_iter", "close")
# What Werkzeug's constructor calls on the way; a subclass that overrides
# one of these gets Werkzeug's constructor.
_INIT_STEPS = ("set_data", "status", "_clean_status")


@lru_cache(maxsize=64)
def _content_type_for(mimetype: str) -> str:
    return get_content_type(mimetype, "utf-8")


class _FastInit:
    """Whether :meth:`Response._init_buffered` builds exactly what
    Werkzeug's constructor builds. Checked once, on first use, against
    the installed Werkzeug, so a Werkzeug that constructs responses
    differently simply gets its own constructor called."""

    ok: bool | None = None

    @classmethod
    def check(cls) -> bool:
        if cls.ok is None:
            cls.ok = False  # in case the comparison itself raises
            try:
                cls.ok = all(
                    _same_response(body, status, mimetype, content_type)
                    for body in ("h\u00e9llo", b"raw")
                    for status in (None, 201, 999)
                    for mimetype, content_type in (
                        (None, None),
                        ("", None),
                        ("application/json", None),
                        (None, "text/plain"),
                    )
                )
            except Exception:
                pass
        return cls.ok


def _same_response(
    body: str | bytes, status: int | None, mimetype: str | None, content_type: str | None
) -> bool:
    fast = Response.__new__(Response)
    fast._init_buffered(body, status, mimetype, content_type)
    slow = Response.__new__(Response)
    _WerkzeugResponse.__init__(slow, body, status, None, mimetype, content_type)
    return (
        vars(fast).keys() == vars(slow).keys()
        and all(
            getattr(fast, k) == getattr(slow, k)
            for k in vars(slow)
            if k != "headers"
        )
        and fast.headers.to_wsgi_list() == slow.headers.to_wsgi_list()
    )


class Response(_WerkzeugResponse):
    """The response object used by default in Flask: HTML unless told."""

    default_mimetype: str | None = "text/html"
    json_module = json
    autocorrect_location_header = False

    # Whether Werkzeug's WSGI steps are unchanged, so __call__ may skip them.
    _plain_wsgi = True

    # Whether the constructor steps are unchanged, so __init__ may take
    # the buffered-body shortcut.
    _plain_init = True

    def __init_subclass__(cls, **kwargs: t.Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._plain_wsgi = all(
            getattr(cls, name) is getattr(Response, name) for name in _WSGI_STEPS
        )
        cls._plain_init = all(
            getattr(cls, name) is getattr(Response, name) for name in _INIT_STEPS
        )

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
        # and builds the same object (checked once by _FastInit).
        if (
            headers is None
            and not direct_passthrough
            and (type(response) is str or type(response) is bytes)
            and (status is None or type(status) is int)
            and self._plain_init
            and _FastInit.check()
        ):
            self._init_buffered(response, status, mimetype, content_type)
        else:
            super().__init__(
                response, status, headers, mimetype, content_type, direct_passthrough
            )

    def _init_buffered(
        self,
        body: str | bytes,
        status: int | None,
        mimetype: str | None,
        content_type: str | None,
    ) -> None:
        # The callers pass exactly str or bytes.
        if isinstance(body, str):
            body = body.encode()
        if content_type is None:
            if mimetype is None:
                mimetype = self.default_mimetype
            if mimetype is not None:
                content_type = _content_type_for(mimetype)
        pairs = []
        if content_type is not None:
            pairs.append(("Content-Type", content_type))
        if self.automatically_set_content_length:
            pairs.append(("Content-Length", str(len(body))))
        headers = self.headers = Headers()
        headers._list = pairs
        self.status = self.default_status if status is None else status
        self.direct_passthrough = False
        self._on_close = []
        self.response = [body]

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
            and not self._on_close
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
