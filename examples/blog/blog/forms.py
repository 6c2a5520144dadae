"""Flask-WTF forms; each one carries and checks a CSRF token."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

MIN_PASSWORD_LENGTH = 4


def no_nul(form: FlaskForm, field: StringField) -> None:
    """Refuse NUL characters, which PostgreSQL text columns can't store
    (they would otherwise surface as a 500 from the database)."""
    if isinstance(field.data, str) and "\x00" in field.data:
        raise ValidationError(f"{field.label.text} must not contain NUL characters.")


class RegisterForm(FlaskForm):
    username = StringField(
        "Username",
        filters=[lambda v: v.strip() if isinstance(v, str) else v],
        validators=[DataRequired("Username is required."), Length(max=80), no_nul],
    )
    email = EmailField(
        "E-mail (for notifications, optional)",
        filters=[lambda v: v.strip() or None if isinstance(v, str) else v],
        # A shape check only; the address is proven by mail arriving.
        validators=[
            Optional(),
            Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message="Enter a valid e-mail address."),
            Length(max=254),
            no_nul,
        ],
    )
    password = PasswordField(
        "Password",
        validators=[
            DataRequired(f"Password must be at least {MIN_PASSWORD_LENGTH} characters."),
            Length(
                min=MIN_PASSWORD_LENGTH,
                message=f"Password must be at least {MIN_PASSWORD_LENGTH} characters.",
            ),
        ],
    )


class LoginForm(FlaskForm):
    username = StringField(
        "Username",
        filters=[lambda v: v.strip() if isinstance(v, str) else v],
        validators=[no_nul],
    )
    password = PasswordField("Password")
    remember = BooleanField("Remember me")


class PostForm(FlaskForm):
    title = StringField(
        "Title",
        filters=[lambda v: v.strip() if isinstance(v, str) else v],
        validators=[
            DataRequired("Title is required."),
            Length(max=200, message="Title must be at most 200 characters."),
            no_nul,
        ],
    )
    body = TextAreaField(
        "Body",
        default="",
        validators=[
            Length(max=20_000, message="Body must be at most 20000 characters."),
            no_nul,
        ],
    )


class CommentForm(FlaskForm):
    body = TextAreaField(
        "Comment",
        filters=[lambda v: v.strip() if isinstance(v, str) else v],
        validators=[
            DataRequired("A comment needs some text."),
            Length(max=5_000, message="A comment must be at most 5000 characters."),
            no_nul,
        ],
    )


class ButtonForm(FlaskForm):
    """A form with nothing but its CSRF token: log out, delete, follow."""
