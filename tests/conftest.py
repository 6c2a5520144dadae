"""Shared fixtures: a fresh testing app and a client for it.

Tests that wait on a server, a thread or a file use ``waits.wait_until``
(tests/waits.py): the wait is for an event, and its bound only stops a
hang, never decides a pass.
"""

from __future__ import annotations

import os

import pytest

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


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "needs_shortcut(*names): the test checks that these flask._accel shortcuts"
        " are taken; it skips where one is off (FLASK_NO_SHORTCUTS, or a dependency"
        " outside its verified range, as in make test-matrix)",
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    from flask import _accel

    for item in items:
        for marker in item.iter_markers("needs_shortcut"):
            off = {name: _accel.status()[name] for name in marker.args if not _accel.enabled(name)}
            if off:
                reason = "; ".join(f"the {n!r} shortcut is off: {why}" for n, why in off.items())
                # Not a missing tool: under CI=true (scripts/ci_strict.py) it may skip.
                item.add_marker(pytest.mark.ci_may_skip(reason=reason))
                item.add_marker(pytest.mark.skip(reason=reason))
