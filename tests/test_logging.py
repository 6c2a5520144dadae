"""Tests for flask.logging with a fake app and request context."""

from __future__ import annotations

import io
import logging
import sys
import types

import pytest

from flask.globals import _cv_request
from flask.logging import create_logger
from flask.logging import default_handler
from flask.logging import has_level_handler
from flask.logging import wsgi_errors_stream


@pytest.fixture
def clean_logging(pytestconfig):
    # pytest's capture handler on the root logger would hide our default.
    plugin = pytestconfig.pluginmanager.unregister(name="logging-plugin")
    saved = logging.root.handlers[:]
    logging.root.handlers = []
    name = "nimble_log_test"
    logger = logging.getLogger(name)
    yield name
    logger.handlers = []
    logger.setLevel(logging.NOTSET)
    logger.propagate = True
    logging.root.handlers[:] = saved
    if plugin:
        pytestconfig.pluginmanager.register(plugin, "logging-plugin")


def fake_app(name: str, debug: bool = False):
    return types.SimpleNamespace(name=name, debug=debug)


def test_stream_outside_request_is_stderr():
    assert wsgi_errors_stream._get_current_object() is sys.stderr  # type: ignore[attr-defined]


def test_stream_inside_request():
    stream = io.StringIO()
    ctx = types.SimpleNamespace(
        request=types.SimpleNamespace(environ={"wsgi.errors": stream})
    )
    token = _cv_request.set(ctx)  # type: ignore[arg-type]
    try:
        assert wsgi_errors_stream._get_current_object() is stream  # type: ignore[attr-defined]
        default_handler.handle(
            logging.LogRecord("x", logging.ERROR, __file__, 1, "boom", None, None)
        )
    finally:
        _cv_request.reset(token)
    assert "ERROR in test_logging: boom" in stream.getvalue()


def test_create_logger_adds_default_handler(clean_logging):
    logger = create_logger(fake_app(clean_logging))
    assert logger.name == clean_logging
    assert logger.level == logging.NOTSET
    assert logger.handlers == [default_handler]
    # Calling again does not add a second copy.
    create_logger(fake_app(clean_logging))
    assert logger.handlers == [default_handler]


def test_create_logger_debug_sets_level(clean_logging):
    logger = create_logger(fake_app(clean_logging, debug=True))
    assert logger.level == logging.DEBUG


def test_create_logger_keeps_explicit_level(clean_logging):
    logging.getLogger(clean_logging).setLevel(logging.WARNING)
    logger = create_logger(fake_app(clean_logging, debug=True))
    assert logger.level == logging.WARNING


def test_create_logger_respects_user_handler(clean_logging):
    logging.root.addHandler(logging.NullHandler())
    logger = create_logger(fake_app(clean_logging))
    assert logger.handlers == []


def test_has_level_handler(clean_logging):
    logger = logging.getLogger(clean_logging)
    assert not has_level_handler(logger)

    handler = logging.NullHandler()
    logging.root.addHandler(handler)
    assert has_level_handler(logger)

    logger.propagate = False
    assert not has_level_handler(logger)
    logger.propagate = True

    # Effective level is root's WARNING; an ERROR-only handler won't do.
    handler.setLevel(logging.ERROR)
    assert not has_level_handler(logger)
    logger.setLevel(logging.ERROR)
    assert has_level_handler(logger)


def test_default_handler_format():
    assert isinstance(default_handler, logging.StreamHandler)
    fmt = default_handler.formatter._fmt  # type: ignore[union-attr]
    assert fmt == "[%(asctime)s] %(levelname)s in %(module)s: %(message)s"
