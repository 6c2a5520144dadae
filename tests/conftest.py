"""Shared fixtures: a fresh testing app and a client for it.

Tests that wait on a server, a thread or a file use ``waits.wait_until``
(tests/waits.py): the wait is for an event, and its bound only stops a
hang, never decides a pass.

Tests drive public behaviour. The one exception is :func:`seams`: a
shortcut gives the very answer of the path it replaces, so only a look
inside shows it was taken; the private names those looks need are named
there, once.
"""

from __future__ import annotations

import importlib
import os
import typing as t

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


#: The project's private names the shortcut tests reach, each named once:
#: seam -> (module, attribute path). Nothing public tells these apart from
#: the public path they stand in for (that is the point of a shortcut), so
#: "the shortcut is taken" and "its memo is bounded" can only be seen here.
SEAMS: dict[str, tuple[str, str]] = {
    # the direct answer and the skipped teardown (flask.pipeline)
    "plain_answer": ("flask.pipeline", "_plain_answer"),
    "teardown": ("flask.pipeline", "_teardown"),
    # process-wide memos: a test of "made once" or "bounded" starts empty
    "error_pages": ("flask._plain", "_error_pages"),
    "valid_hosts": ("flask.matching", "_valid_hosts"),
    "content_types": ("flask._accel.body", "_content_types"),
    "derived_keys": ("flask._accel.signing", "_derived_keys"),
    "cookie_tails": ("flask.sessions", "_cookie_tails"),
    # the slow steps a shortcut skips, spied on to show they are skipped
    "host_grammar": ("flask.matching", "_in_grammar"),
    "matcher_walk": ("flask._accel.matcher", "_walk"),
    "read_body": ("flask._accel.body", "read_body"),
    "parse_options_header": ("flask._accel.body", "parse_options_header"),
    "session_serializer": ("flask.sessions", "SessionTokenSerializer"),
    "token_payload": ("flask._accel.signing", "SessionTokenSerializer._load_token_payload"),
    "dump_cookie": ("flask.sessions", "dump_cookie"),
    "merge_maps": ("flask._accel.jinja", "_merge_maps"),
    "keys_of_maps": ("flask._accel.jinja", "_keys_of_maps"),
    "stock_escape": ("flask._accel.jinja", "_stock_escape"),
    "joined_output": ("flask._accel.jinja", "_JOINED"),
    # markupsafe's compiled escape, or None: the markup-escape shortcut off
    "markup_escape": ("flask._accel.jinja", "_inner"),
}


class Seams:
    """Reads and (for one test) replaces the names in :data:`SEAMS`."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self._monkeypatch = monkeypatch

    @staticmethod
    def _owner(name: str) -> tuple[t.Any, str]:
        module, path = SEAMS[name]
        owner: t.Any = importlib.import_module(module)
        *parents, attribute = path.split(".")
        for parent in parents:
            owner = getattr(owner, parent)
        return owner, attribute

    def get(self, name: str) -> t.Any:
        """The object the seam names now."""
        owner, attribute = self._owner(name)
        return getattr(owner, attribute)

    def replace(self, name: str, value: t.Any) -> None:
        """Put ``value`` in the seam's place until the test ends."""
        owner, attribute = self._owner(name)
        self._monkeypatch.setattr(owner, attribute, value)

    @staticmethod
    def url_matcher(url_map: t.Any) -> t.Any:
        """The precompiled matcher behind a ``RuleMap`` (flask._accel.matcher)."""
        return url_map._matcher


@pytest.fixture
def seams(monkeypatch: pytest.MonkeyPatch) -> Seams:
    """The only way tests touch the project's private names (see
    :data:`SEAMS`): for showing a shortcut is taken and its memos stay
    bounded, which its answers alone cannot show."""
    return Seams(monkeypatch)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "needs_shortcut(*names): the test checks that these flask._accel shortcuts"
        " are taken; it skips where one is off (FLASK_NO_SHORTCUTS, or a dependency"
        " outside its verified range, as in make test-matrix)",
    )
    config.addinivalue_line(
        "markers",
        "needs_werkzeug(version, why): the test's expected answers are those of"
        " Werkzeug `version` and later; on an older supported Werkzeug (make"
        " test-matrix's min session) it skips, saying why",
    )


def _werkzeug_release() -> tuple[int, ...]:
    from importlib.metadata import version

    return tuple(int(p) for p in version("werkzeug").split(".")[:3] if p.isdigit())


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    from flask import _accel

    for item in items:
        for marker in item.iter_markers("needs_werkzeug"):
            wanted = tuple(int(p) for p in marker.args[0].split("."))
            if _werkzeug_release() < wanted:
                reason = f"expects Werkzeug {marker.args[0]}+'s answers: {marker.args[1]}"
                item.add_marker(pytest.mark.ci_may_skip(reason=reason))
                item.add_marker(pytest.mark.skip(reason=reason))
        for marker in item.iter_markers("needs_shortcut"):
            off = {name: _accel.status()[name] for name in marker.args if not _accel.enabled(name)}
            if off:
                reason = "; ".join(f"the {n!r} shortcut is off: {why}" for n, why in off.items())
                # Not a missing tool: under CI=true (scripts/ci_strict.py) it may skip.
                item.add_marker(pytest.mark.ci_may_skip(reason=reason))
                item.add_marker(pytest.mark.skip(reason=reason))
