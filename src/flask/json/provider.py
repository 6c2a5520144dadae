"""JSON providers: the object behind ``app.json``."""

from __future__ import annotations

import json
import sys
import typing as t
import weakref
from datetime import date

from werkzeug.http import http_date

if t.TYPE_CHECKING:  # pragma: no cover
    from werkzeug.sansio.response import Response

    from ..app import Flask


class JSONProvider:
    """Base class for an app's JSON handling.

    Subclass it and set ``Flask.json_provider_class`` (or assign an
    instance to ``app.json``) to use another JSON library. Subclasses must
    implement :meth:`dumps` and :meth:`loads`; the rest builds on them.

    :param app: The application; held weakly to avoid a reference cycle.
    """

    def __init__(self, app: Flask) -> None:
        # The proxy stands for the app in every use; typeshed types it apart.
        self._app = t.cast("Flask", weakref.proxy(app))

    def dumps(self, obj: t.Any, **kwargs: t.Any) -> str:
        """Serialize ``obj`` to a JSON string."""
        raise NotImplementedError

    def dump(self, obj: t.Any, fp: t.IO[str], **kwargs: t.Any) -> None:
        """Serialize ``obj`` and write it to the text file ``fp``."""
        fp.write(self.dumps(obj, **kwargs))

    def loads(self, s: str | bytes, **kwargs: t.Any) -> t.Any:
        """Deserialize a JSON string or bytes."""
        raise NotImplementedError

    def load(self, fp: t.IO[t.AnyStr], **kwargs: t.Any) -> t.Any:
        """Read and deserialize the whole file ``fp``."""
        return self.loads(fp.read(), **kwargs)

    def _prepare_response_obj(
        self, args: tuple[t.Any, ...], kwargs: dict[str, t.Any]
    ) -> t.Any:
        # One positional value is sent as-is, several become a list, and
        # keyword arguments become an object.
        if kwargs:
            if args:
                raise TypeError(
                    "app.json.response() takes either args or kwargs, not both"
                )
            return kwargs
        if len(args) == 1:
            return args[0]
        return args or None

    def response(self, *args: t.Any, **kwargs: t.Any) -> Response:
        """Build an ``application/json`` response from the arguments.

        Either one value, several values (sent as a list) or keyword
        arguments (sent as an object), never both kinds at once.
        """
        body = self.dumps(self._prepare_response_obj(args, kwargs))
        return self._app.response_class(body, mimetype="application/json")


def _default(o: t.Any) -> t.Any:
    # Types the stdlib encoder rejects but that web apps commonly return.
    if isinstance(o, date):
        # ``datetime`` is a ``date`` subclass; both become an RFC 822 date.
        return http_date(o)
    # An object of these types implies its module was imported, so they are
    # looked up in sys.modules instead of being imported with flask (their
    # imports were 3 ms of `import flask`).
    decimal = sys.modules.get("decimal")
    if decimal is not None and isinstance(o, decimal.Decimal):
        return str(o)
    uuid = sys.modules.get("uuid")
    if uuid is not None and isinstance(o, uuid.UUID):
        return str(o)
    dataclasses = sys.modules.get("dataclasses")
    if (
        dataclasses is not None
        and dataclasses.is_dataclass(o)
        and not isinstance(o, type)
    ):
        return dataclasses.asdict(o)
    html = getattr(o, "__html__", None)
    if html is not None:
        return str(html())
    raise TypeError(f"Object of type {type(o).__name__} is not JSON serializable")


class DefaultJSONProvider(JSONProvider):
    """JSON via the standard library's :mod:`json`, with support for
    dates, decimals, UUIDs, dataclasses and ``__html__`` objects.

    The attributes below may be changed per app, e.g.
    ``app.json.sort_keys = False``.
    """

    #: Called for objects the encoder can't handle; replace it (on the class
    #: or the instance) to support more types.
    default: t.Callable[[t.Any], t.Any] = staticmethod(_default)

    #: Escape non-ASCII characters as ``\\uXXXX``.
    ensure_ascii = True

    #: Sort object keys, which keeps output (and cached responses) stable.
    sort_keys = True

    #: ``None`` means indented output in debug mode and compact otherwise;
    #: ``True``/``False`` force one or the other.
    compact: bool | None = None

    #: Mimetype used by :meth:`response`.
    mimetype = "application/json"

    def dumps(self, obj: t.Any, **kwargs: t.Any) -> str:
        """Serialize with :func:`json.dumps`, defaulting ``default``,
        ``ensure_ascii`` and ``sort_keys`` to this provider's attributes.
        """
        options = {
            "default": self.default,
            "ensure_ascii": self.ensure_ascii,
            "sort_keys": self.sort_keys,
            **kwargs,
        }
        return json.dumps(obj, **options)

    def loads(self, s: str | bytes, **kwargs: t.Any) -> t.Any:
        """Deserialize with :func:`json.loads`; bytes are accepted."""
        return json.loads(s, **kwargs)

    def response(self, *args: t.Any, **kwargs: t.Any) -> Response:
        """Build a JSON response, pretty-printed in debug mode unless
        :attr:`compact` says otherwise. The body ends with a newline.
        """
        obj = self._prepare_response_obj(args, kwargs)
        return self._app.response_class(
            self._response_text(obj), mimetype=self.mimetype
        )

    def _response_text(self, obj: t.Any) -> str:
        """The body :meth:`response` sends for ``obj``."""
        pretty = self.compact is False or (self.compact is None and self._app.debug)
        if type(self).dumps is not DefaultJSONProvider.dumps:
            if pretty:
                return f"{self.dumps(obj, indent=2)}\n"
            return f"{self.dumps(obj, separators=(',', ':'))}\n"
        return f"{self._encoder(pretty).encode(obj)}\n"

    def _encoder(self, pretty: bool) -> json.JSONEncoder:
        """The encoder :meth:`dumps` would build for a response, reused.

        ``json.dumps`` with any option builds a new ``JSONEncoder`` per call,
        half the cost of serialising a small response. Keyed on every setting
        that may change at run time.
        """
        key = (self.default, self.ensure_ascii, self.sort_keys, pretty)
        encoders: dict[tuple[t.Any, ...], json.JSONEncoder] = self.__dict__.setdefault(
            "_encoders", {}
        )
        encoder = encoders.get(key)
        if encoder is None:
            if len(encoders) > 8:
                encoders.clear()
            encoder = encoders[key] = json.JSONEncoder(
                default=self.default,
                ensure_ascii=self.ensure_ascii,
                sort_keys=self.sort_keys,
                indent=2 if pretty else None,
                separators=None if pretty else (",", ":"),
            )
        return encoder
