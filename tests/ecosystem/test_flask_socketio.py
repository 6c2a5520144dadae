"""Flask-SocketIO running unmodified on our Flask.

Its test client opens a Socket.IO connection the way a page would: given
``flask_test_client=``, it asks ``FlaskClient._request_from_builder_args``
for the request environ (so the client's ``environ_base`` applies) and
copies the client's cookies in with ``_add_cookies_to_wsgi``. Event
handlers then run inside ``app.request_context(environ)`` and see the Flask
session: a copy of it when the extension manages sessions (the default), or
Flask's own session, saved through ``app.session_interface``, when it does
not. Both were broken here before (``AttributeError`` on
``_request_from_builder_args``).
"""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
import typing as t

import pytest
from flask_socketio import emit
from flask_socketio import SocketIO

from flask import Flask
from flask import request
from flask import session
from flask.sessions import SecureCookieSessionInterface
from flask.sessions import SessionMixin


def make_app(manage_session: bool) -> tuple[Flask, SocketIO]:
    app = Flask(__name__)
    app.config.update(TESTING=True, SECRET_KEY="socketio secret")
    socketio = SocketIO(app, manage_session=manage_session)

    @app.post("/login/<name>")
    def login(name: str) -> str:
        session["user"] = name
        return "ok"

    @app.get("/whoami")
    def whoami() -> t.Any:
        return {"user": session.get("user"), "visits": session.get("visits", 0)}

    @socketio.on("connect")
    def on_connect(auth: t.Any = None) -> None:
        emit(
            "welcome",
            {
                "user": session.get("user"),
                "remote_addr": request.remote_addr,
                "user_agent": request.headers.get("User-Agent"),
                "x_test": request.headers.get("X-Test"),
                "path": request.path,
                "query": request.args.get("room"),
            },
        )

    @socketio.on("visit")
    def on_visit() -> int:
        session["visits"] = session.get("visits", 0) + 1
        return t.cast(int, session["visits"])

    @socketio.on("whoami")
    def on_whoami() -> t.Any:
        return session.get("user")

    return app, socketio


def test_connect_sees_the_flask_session_and_the_clients_environ() -> None:
    app, socketio = make_app(manage_session=True)
    client = app.test_client()
    assert client.post("/login/alice").status_code == 200

    sio = socketio.test_client(
        app,
        flask_test_client=client,
        headers={"X-Test": "yes"},
        query_string="room=lobby",
    )
    assert sio.is_connected()
    received = sio.get_received()
    assert [r["name"] for r in received] == ["welcome"]
    welcome = received[0]["args"][0]
    assert welcome["user"] == "alice"
    # The Flask client's environ defaults, which Werkzeug's own builder
    # would not add.
    assert welcome["remote_addr"] == "127.0.0.1"
    werkzeug_version = importlib.metadata.version("werkzeug")
    assert welcome["user_agent"] == f"Werkzeug/{werkzeug_version}"
    assert welcome["x_test"] == "yes"
    assert welcome["path"] == "/socket.io"
    assert welcome["query"] == "lobby"
    sio.disconnect()


def test_managed_session_is_a_copy_kept_per_connection() -> None:
    app, socketio = make_app(manage_session=True)
    client = app.test_client()
    client.post("/login/bob")
    sio = socketio.test_client(app, flask_test_client=client)
    sio.get_received()

    # The copy lives as long as the connection: changes persist across
    # events but never reach the HTTP session.
    assert sio.emit("visit", callback=True) == 1
    assert sio.emit("visit", callback=True) == 2
    assert sio.emit("whoami", callback=True) == "bob"
    assert client.get("/whoami").get_json() == {"user": "bob", "visits": 0}

    # Logging in as someone else over HTTP does not change the copy.
    client.post("/login/carol")
    assert sio.emit("whoami", callback=True) == "bob"
    sio.disconnect()


def test_unmanaged_session_is_flasks_own_and_saved_through_the_interface() -> None:
    saved: list[dict[str, t.Any]] = []

    class RecordingInterface(SecureCookieSessionInterface):
        def save_session(self, app: Flask, session: SessionMixin, response: t.Any) -> None:
            saved.append(dict(session))
            super().save_session(app, session, response)

    app, socketio = make_app(manage_session=False)
    app.session_interface = RecordingInterface()
    client = app.test_client()
    client.post("/login/dora")
    saved.clear()

    sio = socketio.test_client(app, flask_test_client=client)
    assert sio.get_received()[0]["args"][0]["user"] == "dora"
    # Each event opens the session from the connection's cookie and, when
    # modified, hands it to the app's session interface to save.
    assert sio.emit("visit", callback=True) == 1
    assert saved[-1] == {"user": "dora", "visits": 1}
    assert sio.emit("whoami", callback=True) == "dora"
    sio.disconnect()


def test_without_a_flask_client_the_connection_has_no_session() -> None:
    app, socketio = make_app(manage_session=True)
    sio = socketio.test_client(app)
    welcome = sio.get_received()[0]["args"][0]
    assert welcome["user"] is None
    # Werkzeug's builder alone: no Flask client defaults.
    assert welcome["remote_addr"] is None
    sio.disconnect()


@pytest.mark.parametrize("module", ["flask_socketio", "flask_socketio.test_client"])
def test_imports_without_warnings(module: str) -> None:
    subprocess.run(
        [sys.executable, "-W", "error", "-c", f"import {module}"],
        check=True,
        capture_output=True,
    )
