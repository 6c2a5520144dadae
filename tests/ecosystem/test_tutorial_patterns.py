"""The patterns Flask tutorials show, written the way they show them.

An application factory with a Flask-SQLAlchemy blog (``Post`` model, list,
detail and create views), a books JSON API guarded by a ``token_required``
decorator, session login with ``werkzeug.security`` and a ``login_required``
decorator, error handlers for 400/403/404/500 and a custom exception class, all
tested through the common fixture::

    with app.test_client() as client:
        with app.app_context():
            yield client
"""

from __future__ import annotations

import functools
import typing as t
from datetime import datetime
from datetime import timezone
from pathlib import Path

import pytest
from flask_sqlalchemy import SQLAlchemy
from itsdangerous import BadSignature
from itsdangerous import URLSafeTimedSerializer
from werkzeug.security import check_password_hash
from werkzeug.security import generate_password_hash

from flask import abort
from flask import Blueprint
from flask import current_app
from flask import flash
from flask import Flask
from flask import g
from flask import jsonify
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for

db = SQLAlchemy()


class Post(db.Model):  # type: ignore[name-defined]
    id = db.Column(db.Integer, primary_key=True)
    title = db.Column(db.String(100), nullable=False)
    content = db.Column(db.Text, nullable=False)
    date_posted = db.Column(
        db.DateTime, nullable=False, default=lambda: datetime.now(timezone.utc)
    )

    def __repr__(self) -> str:
        return f"Post('{self.title}')"


class Account(db.Model):  # type: ignore[name-defined]
    id = db.Column(db.Integer, primary_key=True)
    username = db.Column(db.String(80), unique=True, nullable=False)
    password_hash = db.Column(db.String(256), nullable=False)


TEMPLATES = {
    "base.html": (
        "<!doctype html><title>{% block title %}{% endblock %} - Tutorial</title>"
        "<nav>{% if g.user %}<span>{{ g.user.username }}</span>"
        "<a href=\"{{ url_for('auth.logout') }}\">Log Out</a>"
        "{% else %}<a href=\"{{ url_for('auth.login') }}\">Log In</a>{% endif %}</nav>"
        "{% for message in get_flashed_messages() %}"
        "<div class=\"flash\">{{ message }}</div>{% endfor %}"
        "{% block content %}{% endblock %}"
    ),
    "index.html": (
        '{% extends "base.html" %}{% block title %}Posts{% endblock %}'
        "{% block content %}{% for post in posts %}"
        "<article><h2><a href=\"{{ url_for('post', post_id=post.id) }}\">"
        "{{ post.title }}</a></h2><p>{{ post.content }}</p></article>"
        "{% else %}<p>No posts yet.</p>{% endfor %}{% endblock %}"
    ),
    "post.html": (
        '{% extends "base.html" %}{% block title %}{{ post.title }}{% endblock %}'
        "{% block content %}<h1>{{ post.title }}</h1>{{ post.content }}{% endblock %}"
    ),
    "create.html": (
        '{% extends "base.html" %}{% block title %}New Post{% endblock %}'
        '{% block content %}<form method="post">'
        '<input name="title" value="{{ request.form[\'title\'] }}">'
        '<textarea name="content">{{ request.form[\'content\'] }}</textarea>'
        "</form>{% endblock %}"
    ),
    "auth/login.html": (
        '{% extends "base.html" %}{% block title %}Log In{% endblock %}'
        '{% block content %}<form method="post"></form>{% endblock %}'
    ),
    "errors/404.html": (
        '{% extends "base.html" %}{% block title %}Not Found{% endblock %}'
        "{% block content %}<h1>Page not found</h1>{% endblock %}"
    ),
    "errors/500.html": "<h1>Something went wrong: {{ name }}</h1>",
}


class InvalidAPIUsage(Exception):
    status_code = 400

    def __init__(
        self, message: str, status_code: int | None = None, payload: dict[str, t.Any] | None = None
    ) -> None:
        super().__init__()
        self.message = message
        if status_code is not None:
            self.status_code = status_code
        self.payload = payload

    def to_dict(self) -> dict[str, t.Any]:
        rv = dict(self.payload or ())
        rv["message"] = self.message
        return rv


# --- auth blueprint (the official tutorial's shape) -----------------------

auth = Blueprint("auth", __name__, url_prefix="/auth")


@auth.route("/register", methods=("GET", "POST"))
def register() -> t.Any:
    if request.method == "POST":
        username = request.form["username"]
        password = request.form["password"]
        error = None
        if not username:
            error = "Username is required."
        elif not password:
            error = "Password is required."
        elif db.session.execute(db.select(Account).filter_by(username=username)).first():
            error = f"User {username} is already registered."

        if error is None:
            db.session.add(
                Account(username=username, password_hash=generate_password_hash(password))
            )
            db.session.commit()
            return redirect(url_for("auth.login"))
        flash(error)
    return render_template("auth/login.html")


@auth.route("/login", methods=("GET", "POST"))
def login() -> t.Any:
    if request.method == "POST":
        user = db.session.execute(
            db.select(Account).filter_by(username=request.form["username"])
        ).scalar_one_or_none()
        error = None
        if user is None:
            error = "Incorrect username."
        elif not check_password_hash(user.password_hash, request.form["password"]):
            error = "Incorrect password."

        if error is None:
            session.clear()
            session["user_id"] = user.id
            return redirect(request.args.get("next") or url_for("index"))
        flash(error)
    return render_template("auth/login.html")


@auth.before_app_request
def load_logged_in_user() -> None:
    user_id = session.get("user_id")
    g.user = None if user_id is None else db.session.get(Account, user_id)


@auth.route("/logout")
def logout() -> t.Any:
    session.clear()
    return redirect(url_for("index"))


def login_required(view: t.Callable[..., t.Any]) -> t.Callable[..., t.Any]:
    @functools.wraps(view)
    def wrapped_view(**kwargs: t.Any) -> t.Any:
        if g.user is None:
            return redirect(url_for("auth.login", next=request.path))
        return view(**kwargs)

    return wrapped_view


# --- books API -------------------------------------------------------------

api = Blueprint("api", __name__, url_prefix="/api")

BOOKS_SEED = [
    {"id": 1, "title": "A Fire Upon the Deep", "author": "Vernor Vinge"},
    {"id": 2, "title": "The Ones Who Walk Away From Omelas", "author": "Ursula K. Le Guin"},
]


def token_required(f: t.Callable[..., t.Any]) -> t.Callable[..., t.Any]:
    @functools.wraps(f)
    def decorated(*args: t.Any, **kwargs: t.Any) -> t.Any:
        token = None
        if "x-access-token" in request.headers:
            token = request.headers["x-access-token"]
        if not token:
            return jsonify({"message": "Token is missing!"}), 401
        serializer = URLSafeTimedSerializer(current_app.config["SECRET_KEY"])
        try:
            data = serializer.loads(token, max_age=3600)
        except BadSignature:
            return jsonify({"message": "Token is invalid!"}), 401
        return f(data["user"], *args, **kwargs)

    return decorated


@api.route("/login")
def api_login() -> t.Any:
    auth_ = request.authorization
    if not auth_ or auth_.username != "admin" or auth_.password != "secret":
        return (
            jsonify({"message": "Could not verify"}),
            401,
            {"WWW-Authenticate": 'Basic realm="Login required!"'},
        )
    serializer = URLSafeTimedSerializer(current_app.config["SECRET_KEY"])
    return jsonify({"token": serializer.dumps({"user": auth_.username})})


@api.route("/books", methods=["GET"])
def get_books() -> t.Any:
    return jsonify(current_app.config["BOOKS"])


@api.route("/books/<int:book_id>", methods=["GET"])
def get_book(book_id: int) -> t.Any:
    book = next((b for b in current_app.config["BOOKS"] if b["id"] == book_id), None)
    if book is None:
        abort(404)
    return jsonify(book)


@api.route("/books", methods=["POST"])
@token_required
def create_book(current_user: str) -> t.Any:
    if not request.is_json:
        abort(400, description="Request must be JSON")
    data = request.get_json()
    if "title" not in data:
        raise InvalidAPIUsage("title is required", payload={"field": "title"})
    books = current_app.config["BOOKS"]
    book = {
        "id": max((b["id"] for b in books), default=0) + 1,
        "title": data["title"],
        "author": data.get("author", ""),
        "added_by": current_user,
    }
    books.append(book)
    return jsonify(book), 201, {"Location": url_for("api.get_book", book_id=book["id"])}


@api.route("/books/<int:book_id>", methods=["PUT"])
@token_required
def update_book(current_user: str, book_id: int) -> t.Any:
    book = next((b for b in current_app.config["BOOKS"] if b["id"] == book_id), None)
    if book is None:
        raise InvalidAPIUsage("No such book", status_code=404)
    book.update(request.get_json())
    return jsonify(book)


@api.route("/books/<int:book_id>", methods=["DELETE"])
@token_required
def delete_book(current_user: str, book_id: int) -> t.Any:
    if current_user != "admin":
        abort(403)
    books = current_app.config["BOOKS"]
    books[:] = [b for b in books if b["id"] != book_id]
    return "", 204


# --- application factory ---------------------------------------------------


def create_app(test_config: dict[str, t.Any] | None = None, template_folder: str = "templates") -> Flask:
    app = Flask(__name__, template_folder=template_folder)
    app.config.from_mapping(
        SECRET_KEY="dev",
        SQLALCHEMY_DATABASE_URI="sqlite://",
        BOOKS=[dict(b) for b in BOOKS_SEED],
    )
    if test_config is not None:
        app.config.from_mapping(test_config)

    db.init_app(app)
    app.register_blueprint(auth)
    app.register_blueprint(api)

    @app.route("/")
    def index() -> str:
        posts = Post.query.order_by(Post.date_posted.desc(), Post.id.desc()).all()
        return render_template("index.html", posts=posts)

    @app.route("/post/<int:post_id>")
    def post(post_id: int) -> str:
        post = db.get_or_404(Post, post_id)
        return render_template("post.html", post=post)

    @app.route("/create", methods=("GET", "POST"))
    @login_required
    def create() -> t.Any:
        if request.method == "POST":
            title = request.form["title"]
            content = request.form["content"]
            if not title:
                flash("Title is required!")
            else:
                db.session.add(Post(title=title, content=content))
                db.session.commit()
                flash("Post created.")
                return redirect(url_for("index"))
        return render_template("create.html")

    @app.route("/admin")
    def admin() -> t.Any:
        if g.user is None or g.user.username != "root":
            abort(403)
        return "admin area"

    @app.route("/crash")
    def crash() -> t.Any:
        raise ZeroDivisionError("division by zero")

    @app.route("/counter")
    def counter() -> t.Any:
        g.hits = g.get("hits", 0) + 1
        return {"hits": g.hits}

    @app.errorhandler(InvalidAPIUsage)
    def invalid_api_usage(e: InvalidAPIUsage) -> t.Any:
        return jsonify(e.to_dict()), e.status_code

    @app.errorhandler(400)
    def bad_request(e: t.Any) -> t.Any:
        return jsonify(error=str(e.description)), 400

    @app.errorhandler(403)
    def forbidden(e: t.Any) -> t.Any:
        if request.path.startswith("/api/"):
            return jsonify(error="forbidden"), 403
        return "<h1>Forbidden</h1>", 403

    @app.errorhandler(404)
    def page_not_found(e: t.Any) -> t.Any:
        if request.path.startswith("/api/"):
            return jsonify(error="Not found"), 404
        return render_template("errors/404.html"), 404

    @app.errorhandler(500)
    def internal_server_error(e: t.Any) -> t.Any:
        original = getattr(e, "original_exception", None)
        name = type(original).__name__ if original else "unknown"
        return render_template("errors/500.html", name=name), 500

    with app.app_context():
        db.create_all()
    return app


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("tutorial") / "templates"
    for name, source in TEMPLATES.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)
    return str(folder)


@pytest.fixture
def app(templates: str, tmp_path: Path) -> t.Iterator[Flask]:
    app = create_app(
        {"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'blog.db'}"},
        template_folder=templates,
    )
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> t.Iterator[t.Any]:
    with app.test_client() as client:
        with app.app_context():
            yield client


def register_and_login(client: t.Any, username: str = "test", password: str = "test") -> None:
    client.post("/auth/register", data={"username": username, "password": password})
    client.post("/auth/login", data={"username": username, "password": password})


# --- blog ------------------------------------------------------------------


def test_empty_blog(client: t.Any) -> None:
    rv = client.get("/")
    assert rv.status_code == 200
    assert b"No posts yet." in rv.data
    assert b"<title>Posts - Tutorial</title>" in rv.data
    assert b'href="/auth/login">Log In' in rv.data


def test_posts_listed_newest_first(client: t.Any) -> None:
    # The fixture's app context lets the test use the db directly.
    db.session.add_all(
        [Post(title="First", content="hello"), Post(title="Second", content="again")]
    )
    db.session.commit()
    rv = client.get("/")
    html = rv.get_data(as_text=True)
    assert html.index("Second") < html.index("First")
    assert '<a href="/post/1">First</a>' in html

    rv = client.get("/post/2")
    assert b"<h1>Second</h1>again" in rv.data


def test_post_404(client: t.Any) -> None:
    rv = client.get("/post/42")
    assert rv.status_code == 404
    assert b"<h1>Page not found</h1>" in rv.data
    assert b"<title>Not Found - Tutorial</title>" in rv.data


def test_create_requires_login(client: t.Any) -> None:
    rv = client.get("/create")
    assert rv.status_code == 302
    assert rv.headers["Location"] == "/auth/login?next=/create"


def test_create_post(client: t.Any) -> None:
    register_and_login(client)
    assert client.get("/create").status_code == 200

    rv = client.post("/create", data={"title": "", "content": "x"})
    assert b'<div class="flash">Title is required!</div>' in rv.data
    assert Post.query.count() == 0

    rv = client.post(
        "/create", data={"title": "Hello Flask", "content": "body"}, follow_redirects=True
    )
    assert rv.request.path == "/"
    assert b'<div class="flash">Post created.</div>' in rv.data
    assert b"Hello Flask" in rv.data
    assert Post.query.one().title == "Hello Flask"
    assert repr(Post.query.first()) == "Post('Hello Flask')"


# --- session login -----------------------------------------------------------


def test_register_hashes_password(client: t.Any) -> None:
    rv = client.post("/auth/register", data={"username": "a", "password": "pw"})
    assert rv.headers["Location"] == "/auth/login"
    account = db.session.execute(db.select(Account).filter_by(username="a")).scalar_one()
    assert account.password_hash != "pw"
    assert check_password_hash(account.password_hash, "pw")


@pytest.mark.parametrize(
    ("username", "password", "message"),
    [
        ("", "", b"Username is required."),
        ("a", "", b"Password is required."),
        ("test", "test", b"already registered"),
    ],
)
def test_register_validation(client: t.Any, username: str, password: str, message: bytes) -> None:
    client.post("/auth/register", data={"username": "test", "password": "test"})
    rv = client.post("/auth/register", data={"username": username, "password": password})
    assert message in rv.data


def test_login_and_logout(client: t.Any) -> None:
    client.post("/auth/register", data={"username": "test", "password": "test"})
    rv = client.post("/auth/login", data={"username": "test", "password": "test"})
    assert rv.headers["Location"] == "/"

    # `with client:` keeps the last request's context: session and g are
    # readable after the request.
    client.get("/")
    assert session["user_id"] == 1
    assert g.user.username == "test"
    assert request.path == "/"
    assert b"<span>test</span>" in client.get("/").data

    client.get("/auth/logout")
    assert "user_id" not in session


@pytest.mark.parametrize(
    ("username", "password", "message"),
    [("nobody", "test", b"Incorrect username."), ("test", "wrong", b"Incorrect password.")],
)
def test_login_validation(client: t.Any, username: str, password: str, message: bytes) -> None:
    client.post("/auth/register", data={"username": "test", "password": "test"})
    rv = client.post("/auth/login", data={"username": username, "password": password})
    assert message in rv.data


def test_login_redirects_to_next(client: t.Any) -> None:
    client.post("/auth/register", data={"username": "test", "password": "test"})
    rv = client.post("/auth/login?next=/create", data={"username": "test", "password": "test"})
    assert rv.headers["Location"] == "/create"


def test_session_transaction_login(client: t.Any) -> None:
    client.post("/auth/register", data={"username": "test", "password": "test"})
    with client.session_transaction() as sess:
        sess["user_id"] = 1
    assert client.get("/create").status_code == 200


def test_request_reuses_fixture_app_context(client: t.Any) -> None:
    # The request found the test's app context active and used it, so g
    # lives on across requests made inside the fixture.
    assert client.get("/counter").get_json() == {"hits": 1}
    assert client.get("/counter").get_json() == {"hits": 2}
    assert g.hits == 2


# --- books API ---------------------------------------------------------------


def get_token(client: t.Any) -> str:
    rv = client.get("/api/login", auth=("admin", "secret"))
    assert rv.status_code == 200
    return str(rv.get_json()["token"])


def test_books_read(client: t.Any) -> None:
    rv = client.get("/api/books")
    assert rv.is_json
    assert [b["id"] for b in rv.get_json()] == [1, 2]
    assert client.get("/api/books/2").get_json()["author"] == "Ursula K. Le Guin"
    rv = client.get("/api/books/99")
    assert rv.status_code == 404
    assert rv.get_json() == {"error": "Not found"}


def test_api_login(client: t.Any) -> None:
    rv = client.get("/api/login", auth=("admin", "nope"))
    assert rv.status_code == 401
    assert rv.headers["WWW-Authenticate"] == 'Basic realm="Login required!"'
    assert rv.get_json() == {"message": "Could not verify"}
    assert get_token(client)


def test_token_required(client: t.Any) -> None:
    rv = client.post("/api/books", json={"title": "X"})
    assert rv.status_code == 401
    assert rv.get_json() == {"message": "Token is missing!"}
    rv = client.post("/api/books", json={"title": "X"}, headers={"x-access-token": "forged"})
    assert rv.get_json() == {"message": "Token is invalid!"}


def test_books_write(client: t.Any) -> None:
    headers = {"x-access-token": get_token(client)}
    rv = client.post("/api/books", json={"title": "Dune", "author": "Herbert"}, headers=headers)
    assert rv.status_code == 201
    assert rv.headers["Location"] == "/api/books/3"
    assert rv.get_json() == {"id": 3, "title": "Dune", "author": "Herbert", "added_by": "admin"}

    rv = client.put("/api/books/3", json={"author": "Frank Herbert"}, headers=headers)
    assert rv.get_json()["author"] == "Frank Herbert"

    rv = client.delete("/api/books/3", headers=headers)
    assert rv.status_code == 204
    assert rv.data == b""
    assert len(client.get("/api/books").get_json()) == 2


def test_custom_exception_class(client: t.Any) -> None:
    headers = {"x-access-token": get_token(client)}
    rv = client.post("/api/books", json={"author": "anon"}, headers=headers)
    assert rv.status_code == 400
    assert rv.get_json() == {"message": "title is required", "field": "title"}
    rv = client.put("/api/books/77", json={}, headers=headers)
    assert rv.status_code == 404
    assert rv.get_json() == {"message": "No such book"}


# --- error handlers ----------------------------------------------------------


def test_400_handler(client: t.Any) -> None:
    headers = {"x-access-token": get_token(client)}
    rv = client.post("/api/books", data="title=x", headers=headers)
    assert rv.status_code == 400
    assert rv.get_json() == {"error": "Request must be JSON"}
    # Malformed JSON raises a 400 from request.get_json() itself.
    rv = client.post(
        "/api/books", data="{oops", content_type="application/json", headers=headers
    )
    assert rv.status_code == 400
    assert "error" in rv.get_json()


def test_403_handler(client: t.Any) -> None:
    rv = client.get("/admin")
    assert rv.status_code == 403
    assert rv.data == b"<h1>Forbidden</h1>"
    register_and_login(client, "root", "pw")
    assert client.get("/admin").data == b"admin area"


def test_404_for_unknown_url(client: t.Any) -> None:
    assert b"Page not found" in client.get("/no/such/page").data
    assert client.get("/api/nope").get_json() == {"error": "Not found"}


def test_500_handler(app: Flask) -> None:
    # TESTING propagates exceptions; a tutorial's error-page test turns that off.
    with pytest.raises(ZeroDivisionError):
        app.test_client().get("/crash")
    app.config["PROPAGATE_EXCEPTIONS"] = False
    rv = app.test_client().get("/crash")
    assert rv.status_code == 500
    assert rv.data == b"<h1>Something went wrong: ZeroDivisionError</h1>"


def test_factory_config(templates: str) -> None:
    assert not create_app(template_folder=templates).testing
    assert create_app({"TESTING": True}, template_folder=templates).testing
