"""Flask-Login running unmodified on our Flask.

The app follows Flask-Login's own documentation: a ``LoginManager`` set up with
``init_app``, a ``user_loader``, ``login_user``/``logout_user`` views,
``@login_required`` pages, ``current_user`` in views and templates, and the
remember-me cookie.
"""

from __future__ import annotations

import typing as t
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import pytest
from flask_login import current_user
from flask_login import fresh_login_required
from flask_login import login_required
from flask_login import login_user
from flask_login import LoginManager
from flask_login import logout_user
from flask_login import user_logged_in
from flask_login import user_logged_out
from flask_login import user_loaded_from_cookie
from flask_login import UserMixin
from flask_login.test_client import FlaskLoginClient

from flask import abort
from flask import Blueprint
from flask import Flask
from flask import get_flashed_messages
from flask import redirect
from flask import render_template_string
from flask import request
from flask import url_for


class User(UserMixin):
    def __init__(self, id: str, name: str, password: str, api_key: str) -> None:
        self.id = id
        self.name = name
        self.password = password
        self.api_key = api_key


USERS = {
    "1": User("1", "alice", "wonderland", "key-alice"),
    "2": User("2", "bob", "builder", "key-bob"),
}


@pytest.fixture
def app() -> Flask:
    app = Flask(__name__)
    app.config.update(SECRET_KEY="not so secret", TESTING=True)
    login_manager = LoginManager()
    login_manager.login_view = "login"
    login_manager.refresh_view = "login"
    login_manager.init_app(app)
    app.loads: list[str] = []  # type: ignore[attr-defined]

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        app.loads.append(user_id)  # type: ignore[attr-defined]
        return USERS.get(user_id)

    @login_manager.request_loader
    def load_user_from_request(req: t.Any) -> User | None:
        key = req.headers.get("Authorization", "").removeprefix("Bearer ")
        for user in USERS.values():
            if key and user.api_key == key:
                return user
        return None

    @app.route("/")
    def index() -> str:
        return render_template_string(
            "{% if current_user.is_authenticated %}Hello {{ current_user.name }}"
            "{% else %}Hello stranger{% endif %}"
            "{% for m in get_flashed_messages() %}|{{ m }}{% endfor %}"
        )

    @app.route("/login", methods=["GET", "POST"])
    def login() -> t.Any:
        if request.method == "GET":
            return "login form"
        user = next(
            (u for u in USERS.values() if u.name == request.form["username"]), None
        )
        if user is None or user.password != request.form["password"]:
            abort(401)
        login_user(user, remember=bool(request.form.get("remember")))
        target = request.args.get("next")
        # Only follow local paths, as the Flask-Login docs insist.
        if not target or urlsplit(target).netloc:
            target = url_for("index")
        return redirect(target)

    @app.route("/logout")
    @login_required
    def logout() -> t.Any:
        logout_user()
        return redirect(url_for("index"))

    @app.route("/profile")
    @login_required
    def profile() -> str:
        return f"profile of {current_user.name} (id {current_user.get_id()})"

    @app.route("/settings")
    @fresh_login_required
    def settings() -> str:
        return "settings"

    admin = Blueprint("admin", __name__, url_prefix="/admin")

    @admin.route("/login")
    def admin_login() -> str:
        return "admin login"

    @admin.route("/")
    @login_required
    def dashboard() -> str:
        return "dashboard"

    app.register_blueprint(admin)
    login_manager.blueprint_login_views["admin"] = "admin.admin_login"
    return app


def do_login(client: t.Any, name: str = "alice", password: str = "wonderland", **kw: t.Any) -> t.Any:
    return client.post(
        "/login" + kw.pop("query", ""),
        data={"username": name, "password": password, **kw},
    )


def test_login_manager_attached(app: Flask) -> None:
    assert isinstance(app.login_manager, LoginManager)  # type: ignore[attr-defined]


def test_anonymous_current_user(app: Flask) -> None:
    client = app.test_client()
    assert client.get("/").data == b"Hello stranger"
    with app.test_request_context():
        assert current_user.is_anonymous
        assert not current_user.is_authenticated


def test_login_required_redirects_with_next(app: Flask) -> None:
    client = app.test_client()
    rv = client.get("/profile?tab=2")
    assert rv.status_code == 302
    loc = urlsplit(rv.headers["Location"])
    assert loc.path == "/login"
    assert parse_qs(loc.query) == {"next": ["/profile?tab=2"]}
    # The default login message was flashed.
    assert client.get("/").data == b"Hello stranger|Please log in to access this page."


def test_blueprint_login_view(app: Flask) -> None:
    rv = app.test_client().get("/admin/")
    assert urlsplit(rv.headers["Location"]).path == "/admin/login"


def test_unauthorized_without_login_view_is_401(app: Flask) -> None:
    app.login_manager.login_view = None  # type: ignore[attr-defined]
    app.login_manager.blueprint_login_views.clear()  # type: ignore[attr-defined]
    assert app.test_client().get("/profile").status_code == 401


def test_login_then_follow_next(app: Flask) -> None:
    client = app.test_client()
    target = client.get("/profile").headers["Location"]
    query = "?" + urlsplit(target).query
    rv = do_login(client, query=query)
    assert rv.status_code == 302
    assert rv.headers["Location"] == "/profile"

    rv = client.get("/profile")
    assert rv.data == b"profile of alice (id 1)"
    assert client.get("/").data == b"Hello alice|Please log in to access this page."
    assert client.get("/").data == b"Hello alice"
    with client.session_transaction() as sess:
        assert sess["_user_id"] == "1"
        assert sess["_fresh"] is True

    # An external next is not followed.
    rv = do_login(app.test_client(), query="?next=https://evil.example/")
    assert rv.headers["Location"] == "/"


def test_wrong_password(app: Flask) -> None:
    client = app.test_client()
    assert do_login(client, password="nope").status_code == 401
    assert client.get("/profile").status_code == 302


def test_logout(app: Flask) -> None:
    client = app.test_client()
    do_login(client)
    assert client.get("/profile").status_code == 200
    rv = client.get("/logout", follow_redirects=True)
    assert rv.data == b"Hello stranger"
    assert client.get("/profile").status_code == 302
    with client.session_transaction() as sess:
        assert "_user_id" not in sess


def test_user_loaded_once_per_request(app: Flask) -> None:
    client = app.test_client()
    do_login(client)
    app.loads.clear()  # type: ignore[attr-defined]
    client.get("/profile")
    # current_user is cached on g for the rest of the request.
    assert app.loads == ["1"]  # type: ignore[attr-defined]
    client.get("/profile")
    assert app.loads == ["1", "1"]  # type: ignore[attr-defined]


def test_remember_me_cookie_restores_login(app: Flask) -> None:
    client = app.test_client()
    rv = do_login(client, remember="y")
    cookie_header = [h for h in rv.headers.getlist("Set-Cookie") if h.startswith("remember_token=")]
    assert len(cookie_header) == 1
    assert "HttpOnly" in cookie_header[0]
    assert client.get_cookie("remember_token") is not None

    restored: list[str] = []

    def on_cookie(sender: Flask, user: User) -> None:
        restored.append(user.name)

    # The session is lost (browser restart): the cookie logs the user back in.
    client.delete_cookie("session")
    with user_loaded_from_cookie.connected_to(on_cookie, app):
        rv = client.get("/profile")
    assert rv.data == b"profile of alice (id 1)"
    assert restored == ["alice"]

    # A login restored from the cookie is not fresh.
    rv = client.get("/settings")
    assert rv.status_code == 302
    assert urlsplit(rv.headers["Location"]).path == "/login"

    # Logging out clears the remember cookie too.
    client.get("/logout")
    assert client.get_cookie("remember_token") is None
    client.delete_cookie("session")
    assert client.get("/profile").status_code == 302


def test_without_remember_no_cookie(app: Flask) -> None:
    client = app.test_client()
    do_login(client)
    assert client.get_cookie("remember_token") is None
    client.delete_cookie("session")
    assert client.get("/profile").status_code == 302


def test_fresh_login(app: Flask) -> None:
    client = app.test_client()
    do_login(client)
    assert client.get("/settings").data == b"settings"


def test_user_logged_in_and_out_signals(app: Flask) -> None:
    events: list[tuple[str, t.Any, str]] = []

    @user_logged_in.connect_via(app)
    def on_login(sender: Flask, user: User) -> None:
        events.append(("in", sender, user.name))

    def on_logout(sender: Flask, user: User) -> None:
        events.append(("out", sender, user.name))

    try:
        with user_logged_out.connected_to(on_logout):
            client = app.test_client()
            do_login(client, "bob", "builder")
            client.get("/logout")
    finally:
        user_logged_in.disconnect(on_login, app)

    # The sender is the real app object, not the proxy.
    assert events == [("in", app, "bob"), ("out", app, "bob")]
    assert events[0][1] is app


def test_request_loader(app: Flask) -> None:
    client = app.test_client()
    rv = client.get("/profile", headers={"Authorization": "Bearer key-bob"})
    assert rv.data == b"profile of bob (id 2)"
    assert client.get("/profile", headers={"Authorization": "Bearer x"}).status_code == 302


def test_login_user_in_test_request_context(app: Flask) -> None:
    with app.test_request_context():
        assert login_user(USERS["2"])
        assert current_user.name == "bob"
        rendered = render_template_string("{{ current_user.name }}")
        assert rendered == "bob"
        logout_user()
        assert current_user.is_anonymous
        assert get_flashed_messages() == []


def test_flask_login_client(app: Flask) -> None:
    app.test_client_class = FlaskLoginClient
    client = app.test_client(user=USERS["1"])
    assert client.get("/profile").data == b"profile of alice (id 1)"
    assert app.test_client().get("/profile").status_code == 302
