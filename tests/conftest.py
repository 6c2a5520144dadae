"""Shared fixtures: a fresh testing app and a client for it.

Tests that wait on a server, a thread or a file use ``waits.wait_until``
(tests/waits.py): the wait is for an event, and its bound only stops a
hang, never decides a pass.
"""

from __future__ import annotations

import os

import pytest
from servers import server_name  # noqa: F401 (the server matrix, tests/servers.py)

import flask


@pytest.fixture
def app() -> flask.Flask:
    """A bare application in testing mode, named after this test package."""
    application = flask.Flask("flask_tests", root_path=os.path.dirname(__file__))
    application.config.update(TESTING=True, SECRET_KEY="test key")
    return application


@pytest.fixture
def client(app: flask.Flask):
    """A test client bound to the ``app`` fixture."""
    return app.test_client()
