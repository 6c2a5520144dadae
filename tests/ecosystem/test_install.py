"""The extensions install next to this package without replacing it."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
from pathlib import Path

import flask

EXTENSIONS = [
    "flask-sqlalchemy", "flask-wtf", "flask-login", "flask-mail",
    "flask-migrate", "flask-caching", "flask-cors",
    "flask-socketio", "flask-sqlalchemy-lite", "flask-restx", "quart",
]
SRC = Path(__file__).resolve().parents[2] / "src"


def test_flask_is_this_package_with_the_extensions_installed() -> None:
    for name in EXTENSIONS:
        requires = importlib.metadata.requires(name) or []
        assert any(r.lower().startswith("flask") for r in requires), name
    assert SRC in Path(flask.__file__).resolve().parents
    version = importlib.metadata.version("flask")
    # Code in the wild does tuple(map(int, version.split("."))).
    assert tuple(map(int, version.split("."))) >= (3, 1, 3), version
    assert tuple(map(int, version.split("."))) < (3, 2), version
    assert flask.__implementation__ == "nimble"


def test_pip_check_finds_no_broken_requirement() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pip", "check"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
