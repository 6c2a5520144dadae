"""What `import flask` loads, and that deferring it changes no behaviour."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import flask
from flask.sessions import SecureCookieSessionInterface
from flask.sessions import SessionInterface


def run(code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def test_import_leaves_out_tools_and_sessions() -> None:
    loaded = run(
        """
        import sys, flask
        names = ["itsdangerous", "jinja2", "click", "flask.cli", "flask.testing"]
        print(",".join(n for n in names if n in sys.modules))
        """
    )
    assert loaded == ""


def test_default_session_interface_is_created_on_use() -> None:
    assert isinstance(flask.Flask.session_interface, SecureCookieSessionInterface)
    app = flask.Flask(__name__)
    assert app.session_interface is flask.Flask.session_interface

    class Custom(SessionInterface):
        pass

    class CustomApp(flask.Flask):
        session_interface = Custom()

    assert isinstance(CustomApp(__name__).session_interface, Custom)
    app.session_interface = Custom()
    assert isinstance(app.session_interface, Custom)
    assert isinstance(flask.Flask(__name__).session_interface, SecureCookieSessionInterface)


def test_typing_module_is_reachable_from_flask() -> None:
    # As with Pallets Flask, `flask.typing.X` works after a bare `import flask`.
    out = run(
        """
        import sys, flask
        before = "flask.typing" in sys.modules
        print(before, flask.typing.ResponseReturnValue is not None)
        """
    )
    assert out == "False True"
