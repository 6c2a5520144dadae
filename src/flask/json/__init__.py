"""JSON helpers that follow the current app's JSON provider.

Inside an application context these delegate to ``current_app.json``;
outside one they use the standard library with Flask's extra types.
"""

from __future__ import annotations

import json as _json
import typing as t

from ..globals import _cv_app
from ..globals import current_app
from .provider import DefaultJSONProvider
from .provider import JSONProvider
from .provider import _default

if t.TYPE_CHECKING:  # pragma: no cover
    from ..wrappers import Response

__all__ = ["dump", "dumps", "jsonify", "load", "loads"]


def _provider() -> JSONProvider | None:
    ctx = _cv_app.get(None)
    return None if ctx is None else ctx.app.json


def dumps(obj: t.Any, **kwargs: t.Any) -> str:
    """Serialize ``obj`` to a JSON string with the app's provider, or with
    :func:`json.dumps` plus Flask's ``default`` outside an app context.
    """
    provider = _provider()
    if provider is not None:
        return provider.dumps(obj, **kwargs)
    kwargs.setdefault("default", _default)
    return _json.dumps(obj, **kwargs)


def _dumps_compact(obj: t.Any) -> str:
    """``dumps(obj, separators=(",", ":"))``, reusing the provider's encoder
    when it is the default one (what session cookies are written with)."""
    provider = _provider()
    if (
        isinstance(provider, DefaultJSONProvider)
        and type(provider).dumps is DefaultJSONProvider.dumps
    ):
        return provider._encoder(False).encode(obj)
    return dumps(obj, separators=(",", ":"))


def dump(obj: t.Any, fp: t.IO[str], **kwargs: t.Any) -> None:
    """Serialize ``obj`` as JSON and write it to the text file ``fp``."""
    provider = _provider()
    if provider is not None:
        provider.dump(obj, fp, **kwargs)
        return
    kwargs.setdefault("default", _default)
    _json.dump(obj, fp, **kwargs)


def loads(s: str | bytes, **kwargs: t.Any) -> t.Any:
    """Deserialize a JSON string or bytes with the app's provider if any."""
    provider = _provider()
    if provider is not None:
        return provider.loads(s, **kwargs)
    return _json.loads(s, **kwargs)


def load(fp: t.IO[t.AnyStr], **kwargs: t.Any) -> t.Any:
    """Deserialize JSON read from the file ``fp``."""
    provider = _provider()
    if provider is not None:
        return provider.load(fp, **kwargs)
    return _json.load(fp, **kwargs)


def jsonify(*args: t.Any, **kwargs: t.Any) -> Response:
    """Return a JSON response for the arguments via
    ``current_app.json.response``. Needs an application context.

    ``jsonify(1, 2)`` sends a list, ``jsonify(a=1)`` an object and
    ``jsonify(x)`` just ``x``.
    """
    # The provider builds the app's response_class; it is typed as Werkzeug's.
    return current_app.json.response(*args, **kwargs)  # type: ignore[return-value]
