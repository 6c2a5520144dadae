"""The tests of Flask 3.1.3's suite that ``scripts/compat.py`` lets not pass.

Everything else in the suite (490 tests, plus the tutorial's 24 and the
javascript example's 8) must pass. An entry names one test id, the outcome
that is expected instead of a pass, and why. By default it applies to every
run; ``modes``, ``deps`` and ``warnings`` narrow it to the runs it is true of:

- ``modes``: ``wsgi`` (the test client calls ``app.wsgi_app``) or ``asgi``
  (``compat.py --asgi``: it goes through ``app.asgi_app``);
- ``deps``: the dependency set the run is on (``compat.py --deps``):
  ``min`` (pyproject.toml's lower bounds), ``latest`` (today's releases) or
  ``dev`` (the dependencies' main branches, Werkzeug's at least);
- ``warnings``: ``error`` (the suite's own ``filterwarnings = error``, the
  default) or ``default`` (``compat.py --warnings default``).

An entry that starts to pass fails the gate, so the list cannot go stale,
unless it is marked ``env_dependent``: the outcome then depends on the
machine or on a moving branch, and a pass is only reported.

Only what Pallets Flask 3.1.3 cannot pass on the same dependencies belongs
here (docs/testing.md has those figures); a test that Pallets passes and we
do not is a bug, not an entry.
"""

from __future__ import annotations

from dataclasses import dataclass

MODES = frozenset({"wsgi", "asgi"})
DEPS = frozenset({"min", "latest", "dev"})
WARNINGS = frozenset({"error", "default"})
NON_PASSES = frozenset({"failed", "error", "skipped", "xfailed"})


@dataclass(frozen=True)
class Expected:
    nodeid: str
    outcome: str
    reason: str
    modes: frozenset[str] = MODES
    deps: frozenset[str] = DEPS
    warnings: frozenset[str] = WARNINGS
    env_dependent: bool = False

    def __post_init__(self) -> None:
        assert self.outcome in NON_PASSES, self
        assert self.modes <= MODES and self.deps <= DEPS, self
        assert self.warnings <= WARNINGS and self.reason, self

    def applies(self, mode: str, deps: str, warnings: str) -> bool:
        return mode in self.modes and deps in self.deps and warnings in self.warnings


DEV = frozenset({"dev"})
ERROR = frozenset({"error"})
DEFAULT = frozenset({"default"})

# Werkzeug main (3.2.0.dev, May 2026): Pallets Flask 3.1.3 fails each of
# these there too, the same way. They are marked env_dependent because the
# branch moves: the day it changes back, the entry is reported, not fatal.
SUBDOMAIN = (
    "Werkzeug 3.2 binds a host outside SERVER_NAME to the default subdomain "
    "(with a UserWarning) instead of failing the match; the test expects the "
    "3.1 answer"
)
DUPLICATE = (
    "Werkzeug 3.2 raises DuplicateRuleError when the test adds a second rule "
    "with the same path and methods"
)

EXPECTED = [
    # Werkzeug 3.2 deprecates functions that these test modules import at
    # the top; with warnings as errors the module cannot be collected, so
    # none of its tests run.
    Expected(
        "tests/test_blueprints.py", "error",
        "imports werkzeug.http.parse_cache_control_header, deprecated in "
        "Werkzeug 3.2, and warnings are errors",
        deps=DEV, warnings=ERROR, env_dependent=True,
    ),
    Expected(
        "tests/test_views.py", "error",
        "imports werkzeug.http.parse_set_header, deprecated in Werkzeug 3.2, "
        "and warnings are errors",
        deps=DEV, warnings=ERROR, env_dependent=True,
    ),
    Expected(
        "tests/test_basic.py::test_server_name_matching[True-False-default-abc-<invalid>]",
        "failed", SUBDOMAIN, deps=DEV, env_dependent=True,
    ),
    Expected(
        "tests/test_basic.py::test_server_name_subdomain",
        "failed", SUBDOMAIN, deps=DEV, env_dependent=True,
    ),
    Expected(
        "tests/test_basic.py::test_subdomain_matching_other_name[True]",
        "failed", SUBDOMAIN, deps=DEV, env_dependent=True,
    ),
    # Collected only when warnings are not errors (see above).
    Expected(
        "tests/test_blueprints.py::test_default_static_max_age",
        "failed", DUPLICATE, deps=DEV, warnings=DEFAULT, env_dependent=True,
    ),
    Expected(
        "tests/test_views.py::test_endpoint_override",
        "failed", DUPLICATE, deps=DEV, warnings=DEFAULT, env_dependent=True,
    ),
]

# The tutorial's create_app() adds "/" as "index" after its blog blueprint
# took "/" as "blog.index": Werkzeug 3.2 refuses the second rule, so every
# test of the tutorial fails, in its app fixture (error) or in the test.
TUTORIAL = "examples/tutorial/tests/"
TUTORIAL_DUPLICATE = (
    "create_app() adds the rule '/' twice (blog.index, then index), which "
    "Werkzeug 3.2 refuses with DuplicateRuleError"
)
EXPECTED += [
    Expected(TUTORIAL + test, outcome, TUTORIAL_DUPLICATE, deps=DEV, env_dependent=True)
    for outcome, tests in (
        ("failed", ["test_factory.py::test_config"]),
        ("error", [
            "test_auth.py::test_login",
            "test_auth.py::test_login_validate_input[a-test-Incorrect username.]",
            "test_auth.py::test_login_validate_input[test-a-Incorrect password.]",
            "test_auth.py::test_logout",
            "test_auth.py::test_register",
            "test_auth.py::test_register_validate_input[--Username is required.]",
            "test_auth.py::test_register_validate_input[a--Password is required.]",
            "test_auth.py::test_register_validate_input[test-test-already registered]",
            "test_blog.py::test_author_required",
            "test_blog.py::test_create",
            "test_blog.py::test_create_update_validate[/1/update]",
            "test_blog.py::test_create_update_validate[/create]",
            "test_blog.py::test_delete",
            "test_blog.py::test_exists_required[/2/delete]",
            "test_blog.py::test_exists_required[/2/update]",
            "test_blog.py::test_index",
            "test_blog.py::test_login_required[/1/delete]",
            "test_blog.py::test_login_required[/1/update]",
            "test_blog.py::test_login_required[/create]",
            "test_blog.py::test_update",
            "test_db.py::test_get_close_db",
            "test_db.py::test_init_db_command",
            "test_factory.py::test_hello",
        ]),
    )
    for test in tests
]
