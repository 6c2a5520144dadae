"""Flask's request and response objects: Werkzeug's, plus what the app knows.

Limits (body size, form memory, form parts) and cookie size come from the
current app's config unless set on the object itself.
"""

from __future__ import annotations

import typing as t
from functools import lru_cache

from werkzeug.datastructures import EnvironHeaders
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.exceptions import BadRequest
from werkzeug.exceptions import HTTPException
from werkzeug.sansio.http import parse_cookie
from werkzeug.sansio.request import Request as _SansioRequest
from werkzeug.utils import cached_property
from werkzeug.wrappers import Request as _WerkzeugRequest
from werkzeug.wrappers import Response as _WerkzeugResponse
from werkzeug.wsgi import _get_server

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

    def __get__(self, obj: t.Any, owner: type | None = None) -> t.Any:
        if obj is None:
            return self
        value = obj.__dict__.get(self.attr)
        if value is not None:
            return value
        ctx = _cv_app.get(None)
        if ctx is None:
            return getattr(_WerkzeugRequest, self.attr[1:])
        return ctx.app.config[self.key]

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
    # hello-world request (see CHANGES.md). Values are identical.
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

    def close(self) -> None:
        """Close uploaded files, if the form was parsed."""
        if "files" in self.__dict__:
            super().close()

    @cached_property
    def cookies(self) -> ImmutableMultiDict[str, str]:  # type: ignore[override]
        """The cookies sent with the request."""
        headers = self.headers
        if type(headers) is EnvironHeaders:
            # WSGI has one HTTP_COOKIE key; Werkzeug finds it by walking
            # every environ key (5% of a session request).
            raw = self.environ.get("HTTP_COOKIE", "")
        else:
            raw = ";".join(headers.getlist("Cookie"))
        return parse_cookie(raw, cls=self.dict_storage_class)  # type: ignore[return-value]

    #: The matched :class:`~werkzeug.routing.Rule`, or ``None``.
    url_rule: Rule | None = None
    #: The arguments matched from the URL, or ``None`` on a routing error.
    view_args: dict[str, t.Any] | None = None
    #: The exception raised while matching the URL, if any.
    routing_exception: HTTPException | None = None

    max_content_length = _ConfigLimit("MAX_CONTENT_LENGTH")  # type: ignore[assignment]
    max_form_memory_size = _ConfigLimit("MAX_FORM_MEMORY_SIZE")  # type: ignore[assignment]
    max_form_parts = _ConfigLimit("MAX_FORM_PARTS")  # type: ignore[assignment]

    @property
    def endpoint(self) -> str | None:
        """The endpoint that matched the request URL."""
        rule = self.url_rule
        return None if rule is None else rule.endpoint

    @property
    def blueprint(self) -> str | None:
        """The dotted name of the blueprint the matched endpoint belongs to."""
        endpoint = self.endpoint
        if endpoint is not None and "." in endpoint:
            return endpoint.rpartition(".")[0]
        return None

    @property
    def blueprints(self) -> list[str]:
        """The current blueprint and its parents, innermost first."""
        name = self.blueprint
        return [] if name is None else _split_blueprint_path(name)

    def _load_form_data(self) -> None:
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


class Response(_WerkzeugResponse):
    """The response object used by default in Flask: HTML unless told."""

    default_mimetype: str | None = "text/html"
    json_module = json
    autocorrect_location_header = False

    # Whether Werkzeug's WSGI steps are unchanged, so __call__ may skip them.
    _plain_wsgi = True

    def __init_subclass__(cls, **kwargs: t.Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._plain_wsgi = all(
            getattr(cls, name) is getattr(Response, name) for name in _WSGI_STEPS
        )

    def __call__(
        self, environ: t.Any, start_response: t.Any
    ) -> t.Iterable[bytes]:
        # A buffered 2xx body with its Content-Length set and no Location
        # needs none of Werkzeug's generic header pass, which was a quarter
        # of a jsonify request (14.0k -> see CHANGES.md). Same bytes out.
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
    def max_cookie_size(self) -> int:  # type: ignore[override]
        """``MAX_COOKIE_SIZE`` of the current app, else Werkzeug's default."""
        ctx = _cv_app.get(None)
        if ctx is None:
            return super().max_cookie_size
        return ctx.app.config["MAX_COOKIE_SIZE"]  # type: ignore[no-any-return]
