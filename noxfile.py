"""The dependency matrix: the same tests on each supported set of dependencies.

- ``min``: exactly the lower bounds of pyproject.toml's dependencies;
- ``latest``: the newest releases;
- ``off``: the newest releases with every shortcut off (``FLASK_NO_SHORTCUTS=1``);
- ``dev``: the dependencies' main branches, from local paths or sdists given
  after ``--`` or in ``FLASK_DEV_DEPS`` (CI has no git access; ``make
  test-dev WERKZEUG=/path`` skips when given none).

Each runs Flask 3.1.3's suite over WSGI and over ASGI (``scripts/compat.py``,
whose expected non-passes depend on the set) and the project's ``tests/``.
``make test-matrix`` runs min, latest and off; the virtualenvs are kept
between runs (``.nox/``) and reinstalled only when the requirements change.
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

import nox
from packaging.requirements import Requirement

if sys.version_info >= (3, 11):
    import tomllib
else:  # nox depends on tomli before 3.11
    import tomli as tomllib

nox.options.reuse_venv = "yes"
nox.options.sessions = ["min", "latest", "off"]

ROOT = Path(__file__).resolve().parent
PYPROJECT = (ROOT / "pyproject.toml").read_text()
DEPENDENCIES = [Requirement(r) for r in tomllib.loads(PYPROJECT)["project"]["dependencies"]]
# What the tests need: the same install as `make test` (Makefile).
PROJECT = ("-e", ".[dev,docs]", "-r", "examples/blog/requirements.txt")


def lower_bounds() -> list[str]:
    """``Name==X`` for each dependency's ``>=`` (or ``==``) bound in pyproject.toml."""
    pins = []
    for req in DEPENDENCIES:
        lows = [s.version for s in req.specifier if s.operator in (">=", "==")]
        if len(lows) != 1:
            raise ValueError(f"pyproject.toml: {req} has no single lower bound")
        pins.append(f"{req.name}=={lows[0]}")
    return pins


def install(session: nox.Session, *args: str) -> None:
    """Install the project and ``args``, unless this venv already has the same."""
    stamp = Path(session.virtualenv.location) / ".installed"
    key = hashlib.sha256("\0".join([PYPROJECT, *PROJECT, *args]).encode()).hexdigest()
    if stamp.exists() and stamp.read_text() == key:
        session.log("requirements unchanged since the last run; not reinstalling")
        return
    session.install(*PROJECT, *args)
    stamp.write_text(key)


def install_latest(session: nox.Session) -> None:
    """The project, then the newest release of each dependency (checked every run)."""
    install(session)
    session.install("--upgrade", *(req.name for req in DEPENDENCIES))


def run_tests(session: nox.Session, deps: str, **env: str) -> None:
    """The compat gate over WSGI and ASGI, then the project's own tests.

    Every run goes ahead when one fails, so that one session shows all of
    them; the session fails at the end, naming those that failed.
    """
    session.run("python", "-c", "import flask; print('flask from', flask.__file__)")
    runs: list[tuple[list[str], dict[str, str]]] = [
        (["scripts/compat.py", "--deps", deps, "--warnings", warnings, *mode], env)
        for warnings in (("error", "default") if deps == "dev" else ("error",))
        for mode in ([], ["--asgi"])
    ]
    tests = ["-m", "pytest", "-p", "ci_strict", "-q", "tests"]
    posargs = session.posargs if deps != "dev" else []  # dev's are its paths
    runs.append(([*tests, *posargs], {"PYTHONPATH": "scripts", "FLASK_DEPS": deps, **env}))
    failed = []
    for args, run_env in runs:
        try:
            session.run("python", *args, env=run_env)
        except nox.command.CommandFailed:
            failed.append(" ".join(args))
    if failed:
        session.error("failed: " + "; ".join(failed))


@nox.session(name="min")
def min_(session: nox.Session) -> None:
    """The lowest versions pyproject.toml allows."""
    install(session, *lower_bounds())
    run_tests(session, "min")


@nox.session
def latest(session: nox.Session) -> None:
    """The newest releases (upgraded on every run, the rest kept)."""
    install_latest(session)
    run_tests(session, "latest")


@nox.session
def off(session: nox.Session) -> None:
    """The newest releases with every shortcut switched off."""
    install_latest(session)
    run_tests(session, "latest", FLASK_NO_SHORTCUTS="1")


@nox.session
def dev(session: nox.Session) -> None:
    """Main branches, from the local paths or sdists after ``--`` or in FLASK_DEV_DEPS."""
    paths = session.posargs or os.environ.get("FLASK_DEV_DEPS", "").split()
    if not paths:
        session.skip("no dependency paths given (nox -s dev -- /path/to/werkzeug ...)")
    install_latest(session)
    # Reinstalled every run: a branch moves while its path stays the same.
    session.install("--force-reinstall", "--no-deps", *paths)
    run_tests(session, "dev")
