"""Flask-WTF 1.x running unmodified on our Flask.

A contact form and a registration form as the Flask-WTF and Flask docs show
them (``FlaskForm``, ``validate_on_submit``, ``hidden_tag()``, ``flash`` and
redirect), a file upload, and ``CSRFProtect`` guarding plain views.
"""

from __future__ import annotations

import io
import re
import typing as t
from pathlib import Path

import pytest
from flask_wtf import CSRFProtect
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError
from flask_wtf.csrf import generate_csrf
from flask_wtf.file import FileAllowed
from flask_wtf.file import FileField
from flask_wtf.file import FileRequired
from wtforms import BooleanField
from wtforms import PasswordField
from wtforms import StringField
from wtforms import TextAreaField
from wtforms.validators import DataRequired
from wtforms.validators import EqualTo
from wtforms.validators import Length

from flask import Blueprint
from flask import Flask
from flask import flash
from flask import get_flashed_messages
from flask import redirect
from flask import render_template
from flask import render_template_string
from flask import request
from flask import url_for


class ContactForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired()])
    email = StringField("Email", validators=[DataRequired(), Length(max=120)])
    message = TextAreaField("Message", validators=[DataRequired(), Length(min=5)])


class RegistrationForm(FlaskForm):
    username = StringField("Username", validators=[Length(min=4, max=25)])
    password = PasswordField(
        "New Password",
        validators=[DataRequired(), EqualTo("confirm", message="Passwords must match")],
    )
    confirm = PasswordField("Repeat Password")
    accept_tos = BooleanField("I accept the TOS", validators=[DataRequired()])


class UploadForm(FlaskForm):
    upload = FileField(
        "Notes", validators=[FileRequired(), FileAllowed(["txt", "md"], "Text only!")]
    )


TEMPLATES = {
    "layout.html": (
        "<!doctype html><title>{% block title %}{% endblock %}</title>"
        "{% for m in get_flashed_messages() %}<p class=flash>{{ m }}</p>{% endfor %}"
        "{% block body %}{% endblock %}"
    ),
    "contact.html": (
        '{% extends "layout.html" %}{% block body %}'
        '<form method="POST" action="{{ url_for(\'contact\') }}">'
        "{{ form.csrf_token }}"
        "{{ form.name.label }} {{ form.name(size=20) }}"
        "{{ form.email.label }} {{ form.email() }}"
        "{{ form.message() }}"
        "{% for field, errors in form.errors.items() %}"
        "{% for e in errors %}<li class=error>{{ field }}: {{ e }}</li>{% endfor %}"
        "{% endfor %}"
        '<input type="submit" value="Go"></form>{% endblock %}'
    ),
    "register.html": (
        '{% extends "layout.html" %}{% block body %}'
        '<form method="post">{{ form.hidden_tag() }}'
        "{{ form.username() }}{{ form.password() }}{{ form.confirm() }}"
        "{{ form.accept_tos() }}"
        "{% for e in form.password.errors %}<li class=error>{{ e }}</li>{% endfor %}"
        "{% for e in form.username.errors %}<li class=error>{{ e }}</li>{% endfor %}"
        "</form>{% endblock %}"
    ),
}


def create_app(tmp_path: Path, **config: t.Any) -> Flask:
    tpl = tmp_path / "templates"
    tpl.mkdir(exist_ok=True)
    for name, source in TEMPLATES.items():
        (tpl / name).write_text(source)

    app = Flask(__name__, template_folder=str(tpl))
    app.config.update(SECRET_KEY="dev", TESTING=True)
    app.config.update(config)
    app.sent: list[dict[str, str]] = []  # type: ignore[attr-defined]
    app.users: dict[str, str] = {}  # type: ignore[attr-defined]

    @app.route("/")
    def index() -> str:
        return render_template_string(
            '{% extends "layout.html" %}{% block body %}home{% endblock %}'
        )

    @app.route("/contact", methods=["GET", "POST"])
    def contact() -> t.Any:
        form = ContactForm()
        if form.validate_on_submit():
            app.sent.append(form.data)  # type: ignore[attr-defined]
            flash(f"Thanks {form.name.data}, we got your message.")
            return redirect(url_for("index"))
        return render_template("contact.html", form=form)

    @app.route("/register", methods=["GET", "POST"])
    def register() -> t.Any:
        form = RegistrationForm(request.form)
        if request.method == "POST" and form.validate():
            app.users[form.username.data] = form.password.data  # type: ignore[attr-defined]
            flash("Thanks for registering")
            return redirect(url_for("index"))
        return render_template("register.html", form=form)

    @app.route("/upload", methods=["GET", "POST"])
    def upload() -> t.Any:
        form = UploadForm()
        if form.validate_on_submit():
            f = form.upload.data
            return {"filename": f.filename, "content": f.read().decode()}
        return {"errors": form.errors}, 400

    return app


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert match is not None, html
    return match.group(1)


def test_contact_form_renders_fields_and_csrf_token(tmp_path: Path) -> None:
    app = create_app(tmp_path)
    client = app.test_client()
    html = client.get("/contact").get_data(as_text=True)
    assert 'action="/contact"' in html
    assert '<input id="name" name="name" required size="20" type="text" value="">' in html
    assert '<textarea id="message" minlength="5" name="message" required>' in html
    token = csrf_from(html)
    assert len(token) > 20
    # The token's raw value was stored in the session cookie.
    assert client.get_cookie("session") is not None


def test_contact_form_round_trip_with_csrf(tmp_path: Path) -> None:
    app = create_app(tmp_path)
    client = app.test_client()
    token = csrf_from(client.get("/contact").get_data(as_text=True))
    data = {"name": "Ada", "email": "ada@example.org", "message": "Hello there"}

    rv = client.post("/contact", data={**data, "csrf_token": token})
    assert rv.status_code == 302
    assert rv.headers["Location"] == "/"
    assert app.sent == [{**data, "csrf_token": token}]  # type: ignore[attr-defined]

    page = client.get("/").get_data(as_text=True)
    assert "<p class=flash>Thanks Ada, we got your message.</p>" in page
    # Flashes are consumed.
    assert "class=flash" not in client.get("/").get_data(as_text=True)


def test_contact_form_without_token_is_invalid(tmp_path: Path) -> None:
    app = create_app(tmp_path)
    client = app.test_client()
    client.get("/contact")
    rv = client.post(
        "/contact", data={"name": "Ada", "email": "a@b.c", "message": "Hello there"}
    )
    assert rv.status_code == 200
    assert "csrf_token: The CSRF token is missing." in rv.get_data(as_text=True)

    # A token from another session does not validate either.
    other = app.test_client()
    token = csrf_from(other.get("/contact").get_data(as_text=True))
    fresh = app.test_client()
    rv = fresh.post(
        "/contact",
        data={"name": "A", "email": "e", "message": "Hello", "csrf_token": token},
    )
    # Building the form gave the fresh session its own token, which differs.
    assert "csrf_token: The CSRF tokens do not match." in rv.get_data(as_text=True)
    assert app.sent == []  # type: ignore[attr-defined]


def test_contact_form_validation_errors(tmp_path: Path) -> None:
    app = create_app(tmp_path, WTF_CSRF_ENABLED=False)
    client = app.test_client()
    html = client.get("/contact").get_data(as_text=True)
    assert "csrf_token" not in html

    rv = client.post("/contact", data={"name": "", "email": "x@y.z", "message": "hi"})
    html = rv.get_data(as_text=True)
    assert rv.status_code == 200
    assert "name: This field is required." in html
    assert "message: Field must be at least 5 characters long." in html

    rv = client.post(
        "/contact",
        data={"name": "Bob", "email": "b@c.d", "message": "Long enough"},
        follow_redirects=True,
    )
    assert rv.request.path == "/"
    assert "Thanks Bob" in rv.get_data(as_text=True)


def test_validate_on_submit_false_on_get(tmp_path: Path) -> None:
    app = create_app(tmp_path, WTF_CSRF_ENABLED=False)
    with app.test_request_context("/contact?name=x&email=y&message=hello"):
        form = ContactForm()
        assert not form.is_submitted()
        assert not form.validate_on_submit()
    with app.test_request_context(
        "/contact", method="PUT", data={"name": "x", "email": "y", "message": "hello"}
    ):
        form = ContactForm()
        assert form.is_submitted()
        assert form.validate_on_submit()
        assert form.name.data == "x"


def test_registration_form_with_flash(tmp_path: Path) -> None:
    app = create_app(tmp_path)
    client = app.test_client()
    html = client.get("/register").get_data(as_text=True)
    # hidden_tag() renders the CSRF field.
    token = csrf_from(html)

    form = {
        "username": "grace",
        "password": "s3cret",
        "confirm": "nope",
        "accept_tos": "y",
        "csrf_token": token,
    }
    rv = client.post("/register", data=form)
    assert "<li class=error>Passwords must match</li>" in rv.get_data(as_text=True)

    rv = client.post("/register", data={**form, "username": "gr"})
    assert "Field must be between 4 and 25 characters long." in rv.get_data(as_text=True)

    rv = client.post("/register", data={**form, "confirm": "s3cret"}, follow_redirects=True)
    assert [r.status_code for r in rv.history] == [302]
    assert "<p class=flash>Thanks for registering</p>" in rv.get_data(as_text=True)
    assert app.users == {"grace": "s3cret"}  # type: ignore[attr-defined]

    with client.session_transaction() as sess:
        assert "csrf_token" in sess
        assert "_flashes" not in sess


def test_registration_flash_in_request_context(tmp_path: Path) -> None:
    app = create_app(tmp_path, WTF_CSRF_ENABLED=False)
    with app.test_request_context("/register", method="POST"):
        flash("one")
        flash("two", "error")
        assert get_flashed_messages(with_categories=True) == [
            ("message", "one"),
            ("error", "two"),
        ]


def test_file_upload(tmp_path: Path) -> None:
    app = create_app(tmp_path, WTF_CSRF_ENABLED=False)
    client = app.test_client()
    rv = client.post(
        "/upload",
        data={"upload": (io.BytesIO(b"remember the milk"), "notes.txt")},
        content_type="multipart/form-data",
    )
    assert rv.status_code == 200
    assert rv.get_json() == {"filename": "notes.txt", "content": "remember the milk"}

    rv = client.post(
        "/upload",
        data={"upload": (io.BytesIO(b"MZ"), "evil.exe")},
        content_type="multipart/form-data",
    )
    assert rv.status_code == 400
    assert rv.get_json() == {"errors": {"upload": ["Text only!"]}}

    rv = client.post("/upload", data={}, content_type="multipart/form-data")
    assert rv.get_json() == {"errors": {"upload": ["This field is required."]}}


def test_file_upload_with_csrf_token(tmp_path: Path) -> None:
    app = create_app(tmp_path)
    client = app.test_client()
    token = csrf_from(client.get("/contact").get_data(as_text=True))
    rv = client.post(
        "/upload",
        data={"csrf_token": token, "upload": (io.BytesIO(b"# title"), "readme.md")},
    )
    assert rv.get_json() == {"filename": "readme.md", "content": "# title"}


@pytest.fixture
def protected(tmp_path: Path) -> tuple[Flask, CSRFProtect]:
    app = create_app(tmp_path)
    csrf = CSRFProtect(app)

    @app.post("/api/items")
    def create_item() -> t.Any:
        return {"created": request.get_json()["name"]}, 201

    @app.route("/delete/<int:id>", methods=["POST"])
    def delete(id: int) -> str:
        return f"deleted {id}"

    @app.get("/delete-form")
    def delete_form() -> str:
        return render_template_string(
            '<form method=post action="/delete/7">'
            '<input type="hidden" name="csrf_token" value="{{ csrf_token() }}"/>'
            "</form>{{ csrf_meta_tag() }}"
        )

    @app.post("/webhook")
    @csrf.exempt
    def webhook() -> str:
        return "hooked"

    hooks = Blueprint("hooks", __name__, url_prefix="/hooks")

    @hooks.post("/ping")
    def ping() -> str:
        return "pong"

    csrf.exempt(hooks)
    app.register_blueprint(hooks)

    @app.errorhandler(CSRFError)
    def handle_csrf(e: CSRFError) -> t.Any:
        return {"csrf_error": e.description}, 400

    return app, csrf


def test_csrfprotect_rejects_missing_token(protected: t.Any) -> None:
    app, csrf = protected
    assert app.extensions["csrf"] is csrf
    client = app.test_client()
    rv = client.post("/delete/7")
    assert rv.status_code == 400
    assert rv.get_json() == {"csrf_error": "The CSRF token is missing."}
    rv = client.post("/api/items", json={"name": "x"})
    assert rv.status_code == 400


def test_csrfprotect_accepts_template_token(protected: t.Any) -> None:
    app, _ = protected
    client = app.test_client()
    html = client.get("/delete-form").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    assert f'<meta name="csrf-token" content="{token}">' in html
    rv = client.post("/delete/7", data={"csrf_token": token})
    assert rv.status_code == 200
    assert rv.data == b"deleted 7"

    # Header form for AJAX/JSON clients.
    rv = client.post("/api/items", json={"name": "pen"}, headers={"X-CSRFToken": token})
    assert rv.status_code == 201
    assert rv.get_json() == {"created": "pen"}

    rv = client.post("/delete/7", data={"csrf_token": "garbage"})
    assert rv.get_json() == {"csrf_error": "The CSRF token is invalid."}


def test_csrfprotect_exemptions_and_safe_methods(protected: t.Any) -> None:
    app, _ = protected
    client = app.test_client()
    assert client.post("/webhook").data == b"hooked"
    assert client.post("/hooks/ping").data == b"pong"
    assert client.get("/contact").status_code == 200
    # Unknown URL: CSRF does not hide the 404/405.
    assert client.post("/nowhere").status_code == 404


def test_csrfprotect_uses_400_without_handler(tmp_path: Path) -> None:
    app = create_app(tmp_path)
    CSRFProtect(app)

    @app.post("/plain")
    def plain() -> str:
        return "ok"

    client = app.test_client()
    rv = client.post("/plain")
    assert rv.status_code == 400
    assert b"The CSRF token is missing." in rv.data
    assert rv.mimetype == "text/html"


def test_csrf_disabled_in_tests(tmp_path: Path) -> None:
    app = create_app(tmp_path, WTF_CSRF_ENABLED=False)
    CSRFProtect(app)

    @app.post("/plain")
    def plain() -> str:
        return "ok"

    assert app.test_client().post("/plain").data == b"ok"


def test_generate_csrf_is_stable_per_request(tmp_path: Path) -> None:
    app = create_app(tmp_path)
    with app.test_request_context():
        first = generate_csrf()
        assert generate_csrf() == first
        from flask import session

        assert "csrf_token" in session
