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
        names = ["werkzeug.serving", "werkzeug.test", "http.server",
                 "itsdangerous", "jinja2", "click", "flask.cli", "flask.testing"]
        print(",".join(n for n in names if n in sys.modules))
        """
    )
    assert loaded == ""


def test_lazy_werkzeug_package_resolves_everything_it_exports() -> None:
    out = run(
        """
        import flask, werkzeug
        from werkzeug import Client, Request, Response, run_simple
        import werkzeug.serving, werkzeug.test, werkzeug.wrappers
        print(Client is werkzeug.test.Client, Request is werkzeug.wrappers.Request,
              Response is werkzeug.wrappers.Response,
              run_simple is werkzeug.serving.run_simple,
              werkzeug.exceptions.NotFound.code)
        try:
            werkzeug.no_such_thing
        except AttributeError:
            print("AttributeError")
        """
    )
    assert out == "True True True True 404\nAttributeError"


def test_werkzeug_imported_first_is_left_alone() -> None:
    out = run(
        """
        import werkzeug, sys
        import flask
        print(sys.modules["werkzeug"] is werkzeug, "werkzeug.serving" in sys.modules)
        """
    )
    assert out == "True True"


def test_unexpected_werkzeug_init_is_imported_normally() -> None:
    out = run(
        """
        import flask._lazy_werkzeug as lazy, sys
        for name in [m for m in sys.modules if m == "werkzeug" or m.startswith("werkzeug.")]:
            del sys.modules[name]
        lazy._EXPECTED = {"something else"}
        lazy.install()
        import werkzeug
        print(hasattr(werkzeug, "__getattr__"), "werkzeug.serving" in sys.modules)
        """
    )
    assert out == "False True"


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
