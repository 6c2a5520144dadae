"""The application logger and its default handler."""

from __future__ import annotations

import logging
import sys
import typing as t

from werkzeug.local import LocalProxy

from .globals import _cv_request

if t.TYPE_CHECKING:  # pragma: no cover
    from .app import Flask


def _errors_stream() -> t.TextIO:
    ctx = _cv_request.get(None)
    if ctx is not None:
        return ctx.request.environ["wsgi.errors"]  # type: ignore[no-any-return]  # WSGI's wsgi.errors is a text stream
    return sys.stderr


#: The WSGI server's error stream (``environ["wsgi.errors"]``) during a
#: request, :data:`sys.stderr` otherwise. Logging here lets the server
#: decide where app errors go.
wsgi_errors_stream: t.TextIO = LocalProxy(_errors_stream)  # type: ignore[assignment]  # the proxy stands for the stream


def has_level_handler(logger: logging.Logger) -> bool:
    """Whether some handler reached by ``logger`` (following propagation)
    would emit records at the logger's effective level.
    """
    level = logger.getEffectiveLevel()
    current: logging.Logger | None = logger
    while current is not None:
        if any(handler.level <= level for handler in current.handlers):
            return True
        if not current.propagate:
            return False
        current = current.parent
    return False


#: Added to the app logger when nothing else would show its messages.
default_handler = logging.StreamHandler(wsgi_errors_stream)
default_handler.setFormatter(
    logging.Formatter("[%(asctime)s] %(levelname)s in %(module)s: %(message)s")
)


def create_logger(app: Flask) -> logging.Logger:
    """Return the logger named ``app.name``, configured for the app.

    In debug mode a logger without its own level is set to ``DEBUG``.
    :data:`default_handler` is added only if no existing handler covers the
    logger's effective level, so user logging setup wins.
    """
    logger = logging.getLogger(app.name)
    if app.debug and logger.level == logging.NOTSET:
        logger.setLevel(logging.DEBUG)
    if not has_level_handler(logger):
        logger.addHandler(default_handler)
    return logger
