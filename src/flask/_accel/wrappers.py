"""Request and response shortcuts (see :mod:`flask._accel` for the gate).

The request half reads a small body, its Content-Type, an urlencoded form
and cookies in a few direct steps (:mod:`flask._accel.body`), through the hooks
Werkzeug's own properties call (``_parse_content_type``,
``_load_form_data``). The response half builds a ``Response`` for a
``str`` or ``bytes`` body without Werkzeug's per-header validation, and
``flask.wrappers.Response.__call__`` skips Werkzeug's generic header pass
for a buffered 2xx body.
"""

from __future__ import annotations

import typing as t
from functools import lru_cache
from io import BytesIO

import werkzeug.wsgi
from werkzeug.datastructures import EnvironHeaders
from werkzeug.datastructures import Headers
from werkzeug.formparser import FormDataParser
from werkzeug.sansio.request import Request as _SansioRequest
from werkzeug.utils import get_content_type
from werkzeug.wrappers import Request as _WerkzeugRequest
from werkzeug.wrappers import Response as _WerkzeugResponse
from werkzeug.wsgi import LimitedStream

from . import body as _body
from . import enabled

_URLENCODED = "application/x-www-form-urlencoded"

#: The fields flask.Request reads from the environ on first access.
LAZY_FIELDS = frozenset({
    "method", "scheme", "server", "root_path", "path", "query_string",
    "headers", "remote_addr",
})

# The server address as Werkzeug's Request.__init__ reads it. Only called
# while the lazy-request-fields shortcut is on (its check finds it).
_werkzeug_get_server: t.Any = getattr(werkzeug.wsgi, "_get_server", None)


def get_server(environ: t.Any) -> t.Any:
    """``Request.server`` as Werkzeug computes it."""
    return _werkzeug_get_server(environ)


def has_close_callbacks(response: _WerkzeugResponse) -> bool:
    """Whether ``call_on_close`` registered anything on ``response``."""
    return bool(getattr(response, "_on_close", True))


class RequestShortcuts(_WerkzeugRequest):
    """The request half; :class:`flask.Request` derives from it."""

    _param_storage: type[t.Any]

    def _parse_content_type(self) -> None:
        # Werkzeug's hook behind ``mimetype`` and ``mimetype_params``:
        # the same parse, remembered per distinct header value.
        if not enabled("small-body"):
            super()._parse_content_type()
        elif "_parsed_content_type" not in self.__dict__:
            headers = self.headers
            if type(headers) is EnvironHeaders:
                raw = self.environ.get("CONTENT_TYPE", "")
            else:
                raw = headers.get("Content-Type", "")
            self._parsed_content_type = _body.parse_content_type(raw)

    def _small_body(self) -> bytes | None:
        """The whole body read directly (see :mod:`flask._accel.body`), or
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
        if (
            not parse_form_data
            and getattr(self, "_cached_data", None) is None
            and enabled("small-body")
        ):
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
        storage = self._param_storage
        try:
            form = storage(_body.parse_urlencoded(data.decode()))
        except UnicodeDecodeError:
            # Werkzeug's parser is silent about undecodable forms.
            form = storage()
        d = self.__dict__
        d["stream"], d["form"], d["files"] = stream, form, storage()
        return True

    def _load_form_data(self) -> None:
        if "form" in self.__dict__:
            return
        if not (enabled("small-body") and self._load_urlencoded()):
            super()._load_form_data()
        self.on_form_loaded()

    def on_form_loaded(self) -> None:
        """Called once the form and files are parsed."""

    def plain_cookies(self, raw: str) -> list[tuple[str, str]] | None:
        """The cookie pairs of a ``Cookie`` header parsed directly, or
        ``None`` when Werkzeug's ``parse_cookie`` must do it."""
        return _body.parse_plain_cookies(raw) if enabled("small-body") else None


_WSGI_STEPS = ("get_wsgi_response", "get_wsgi_headers", "get_app_iter", "close")
# What Werkzeug's constructor calls on the way; a subclass that overrides
# one of these gets Werkzeug's constructor.
_INIT_STEPS = ("set_data", "status", "_clean_status")


@lru_cache(maxsize=64)
def _content_type_for(mimetype: str) -> str:
    return get_content_type(mimetype, "utf-8")


class ResponseShortcuts(_WerkzeugResponse):
    """The response half; :class:`flask.Response` derives from it."""

    # Whether Werkzeug's WSGI steps are unchanged, so __call__ may skip them.
    _plain_wsgi = True

    # Whether the constructor steps are unchanged, so __init__ may take
    # the buffered-body shortcut.
    _plain_init = True

    def __init_subclass__(cls, **kwargs: t.Any) -> None:
        super().__init_subclass__(**kwargs)
        # Compared with flask.Response, the class right below this one.
        base = next(k for k in cls.__mro__ if ResponseShortcuts in k.__bases__)
        cls._plain_wsgi = all(getattr(cls, n) is getattr(base, n) for n in _WSGI_STEPS)
        cls._plain_init = all(getattr(cls, n) is getattr(base, n) for n in _INIT_STEPS)

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

    def has_close_callbacks(self) -> bool:
        """Whether ``call_on_close`` registered anything."""
        return bool(self._on_close)


# -- self-checks (run once by the gate) ---------------------------------------


def check_request_fields() -> str | None:
    """Werkzeug's constructor sets exactly the fields read lazily, and its
    server address helper is there."""
    code = _SansioRequest.__init__.__code__
    fields = set(code.co_varnames[1 : code.co_argcount])
    if fields != LAZY_FIELDS:
        return f"Werkzeug's Request takes {sorted(fields)}"
    if not callable(_werkzeug_get_server):
        return "werkzeug.wsgi._get_server is gone"
    environ = {"SERVER_NAME": "h", "SERVER_PORT": "81"}
    if get_server(environ) != _WerkzeugRequest(environ).server:
        return "werkzeug.wsgi._get_server differs from Request.server"
    return None


def check_buffered_response() -> str | None:
    """``_init_buffered`` builds exactly what Werkzeug's constructor does."""
    if not isinstance(Headers().__dict__.get("_list"), list):
        return "Headers keeps no _list"
    for body in ("h\u00e9llo", b"raw"):
        for status in (None, 201, 999):
            for mimetype, content_type in (
                (None, None), ("", None), ("application/json", None), (None, "text/plain"),
            ):
                fast = ResponseShortcuts.__new__(ResponseShortcuts)
                fast._init_buffered(body, status, mimetype, content_type)
                slow = ResponseShortcuts.__new__(ResponseShortcuts)
                _WerkzeugResponse.__init__(slow, body, status, None, mimetype, content_type)
                same = (
                    vars(fast).keys() == vars(slow).keys()
                    and all(getattr(fast, k) == getattr(slow, k) for k in vars(slow) if k != "headers")
                    and fast.headers.to_wsgi_list() == slow.headers.to_wsgi_list()
                )
                if not same:
                    return f"Response({body!r}, {status!r}, {mimetype!r}, {content_type!r}) differs"
    return None


def check_small_body() -> str | None:
    """Werkzeug's properties still call the hooks these override, and the
    direct parsers agree with Werkzeug's on probe inputs."""
    for hook in ("_parse_content_type", "_load_form_data"):
        if not callable(getattr(_WerkzeugRequest, hook, None)):
            return f"Werkzeug's Request has no {hook} hook"
    from werkzeug.http import parse_cookie
    from werkzeug.http import parse_options_header

    raw = 'a=1; b="x y"; c=%C3%A9'
    fast = _body.parse_plain_cookies(raw)
    if fast is not None and fast != list(parse_cookie(raw).items(multi=True)):
        return "cookies parse differently"
    header = "text/html; charset=UTF-8"
    if _body.parse_content_type(header) != parse_options_header(header):
        return "Content-Type parses differently"
    return None
