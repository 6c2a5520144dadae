"""What `import flask` loads, and that deferring it changes no behaviour."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import typing as t

import pytest

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


def test_cookieless_request_leaves_session_machinery_unloaded() -> None:
    """Shortcut: a request that sends no cookie and never touches the
    session does not create the default interface (no flask.sessions, no
    ItsDangerous); the answer is Werkzeug's plain response all the same."""
    out = run(
        """
        import sys, flask
        app = flask.Flask("x")
        app.get("/", endpoint="a")(lambda: flask.jsonify(a=1))
        app.get("/text", endpoint="b")(lambda: "hi")
        # A direct WSGI call: the test client itself imports flask.sessions.
        def call(path):
            seen = []
            environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "SERVER_NAME": "x",
                       "SERVER_PORT": "80", "wsgi.url_scheme": "http"}
            body = b"".join(app(environ, lambda s, h, e=None: seen.append((s, h))))
            return seen[0][0], seen[0][1], body.decode().strip()
        s1, h1, b1 = call("/")
        s2, h2, b2 = call("/text")
        print(s1, b1, b2, any(k.lower() == "set-cookie" for k, _ in h1 + h2),
              "flask.sessions" in sys.modules, "itsdangerous" in sys.modules)
        """
    )
    assert out == '200 OK {"a":1} hi False False False'


def test_custom_session_interfaces_still_see_cookieless_requests() -> None:
    saved: list[str] = []

    class Recording(SessionInterface):
        def open_session(self, app: flask.Flask, request: flask.Request) -> t.Any:
            return {}

        def save_session(self, app: flask.Flask, session: t.Any, response: flask.Response) -> None:
            saved.append(request_path())

    def request_path() -> str:
        return flask.request.path

    class App(flask.Flask):
        session_interface = Recording()

    on_class = App(__name__)
    on_instance = flask.Flask(__name__)
    on_instance.session_interface = Recording()
    for app in (on_class, on_instance):
        app.get("/a", endpoint="a")(lambda: flask.jsonify(x=1))
        app.get("/b", endpoint="b")(lambda: "text")
        client = app.test_client()
        assert client.get("/a").status_code == 200
        assert client.get("/b").status_code == 200
    assert saved == ["/a", "/b", "/a", "/b"]


def test_default_session_still_saved_once_touched() -> None:
    app = flask.Flask(__name__)
    app.secret_key = "k"

    @app.get("/set")
    def set_() -> str:
        flask.session["n"] = 1
        return "ok"

    client = app.test_client()
    response = client.get("/set")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("session=")
    # Same token format as ItsDangerous gives for Flask's cookie session.
    from itsdangerous import URLSafeTimedSerializer

    token = cookie.split(";", 1)[0].split("=", 1)[1]
    loaded = URLSafeTimedSerializer(
        "k", salt="cookie-session", signer_kwargs={"key_derivation": "hmac", "digest_method": __import__("hashlib").sha1}
    ).loads(token)
    assert loaded == {"n": 1}


@pytest.mark.parametrize(
    ("path", "folder"),
    [
        ("/usr/lib/python3/site-packages", "/usr"),
        ("/usr", "/usr"),
        ("/usr2/lib", "/usr"),
        ("/usr/lib", "/usr/lib/python3"),
        ("/", "/"),
        ("/srv/app", "/"),
        ("/srv/app", "/srv/app/"),
        ("/srv/application", "/srv/app"),
    ],
)
def test_is_within_agrees_with_pathlib(path: str, folder: str) -> None:
    """scaffold._is_within replaces PurePath.relative_to (not imported at
    start-up) for absolute, normalised paths; pathlib is the referee."""
    import pathlib

    from flask.scaffold import _is_within

    try:
        pathlib.PurePath(path).relative_to(folder)
        expected = True
    except ValueError:
        expected = False
    assert _is_within(path, folder) is expected


def test_import_flask_leaves_pathlib_out() -> None:
    assert run("import sys, flask; print('pathlib' in sys.modules)") == "False"
