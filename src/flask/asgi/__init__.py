"""Serving the app over ASGI: :attr:`Flask.asgi_app`.

One request path, two drivers: the steps of a request are
:mod:`flask.pipeline`'s, run on the event loop by
:func:`flask.concurrency.drive` (which decides where each function runs).
The modules of this package are the ASGI side around them:

- :mod:`flask.asgi.entry`: :class:`ASGIApp`, what ``app.asgi_app`` is;
- :mod:`flask.asgi.http`: scope to environ, one HTTP request;
- :mod:`flask.asgi.body`: receiving the request body;
- :mod:`flask.asgi.response`: sending a response, streamed or not;
- :mod:`flask.asgi.websocket`: one WebSocket connection (imported for the
  first websocket scope); :mod:`flask.asgi.connection`: the
  ``flask.websocket`` objects;
- :mod:`flask.asgi.lifespan`: ``before_serving``/``after_serving``;
- :mod:`flask.asgi.testing`, :mod:`flask.asgi.ws_testing`: the test
  client's transports.

``docs/asgi.md`` describes the model.
"""

from __future__ import annotations

import importlib
import typing as t

if t.TYPE_CHECKING:  # pragma: no cover
    from .body import SPOOL_CONFIG_KEY as SPOOL_CONFIG_KEY
    from .body import SPOOL_THRESHOLD as SPOOL_THRESHOLD
    from .entry import ASGIApp as ASGIApp
    from .http import environ_from_scope as environ_from_scope
    from .http import tear_down as tear_down
    from .http import TESTING_EXTENSION as TESTING_EXTENSION

# The public names, each imported from its module on first use, so that
# importing one module of the package does not import them all.
_NAMES = {
    "ASGIApp": "entry",
    "environ_from_scope": "http",
    "tear_down": "http",
    "TESTING_EXTENSION": "http",
    "SPOOL_CONFIG_KEY": "body",
    "SPOOL_THRESHOLD": "body",
}


def __getattr__(name: str) -> t.Any:
    module = _NAMES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{module}", __name__), name)
