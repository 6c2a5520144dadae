"""Accounts through Flask-Login: register, log in (with remember-me), log out."""

from __future__ import annotations

from urllib.parse import urlsplit

import typing as t

import sqlalchemy as sa
from flask import Blueprint, Flask, flash, redirect, render_template, request, url_for
from sqlalchemy.exc import IntegrityError
from flask_login import LoginManager, current_user, login_user, logout_user
from werkzeug.security import check_password_hash, generate_password_hash
from werkzeug.wrappers import Response

from .extensions import db
from .forms import LoginForm, RegisterForm
from .models import User

bp = Blueprint("auth", __name__, url_prefix="/auth")


def init_login(app: Flask, manager: LoginManager) -> None:
    """Configure Flask-Login for this app."""
    manager.init_app(app)
    # (Flask-Login annotates login_view as None-only.)
    manager.login_view = t.cast(t.Any, "auth.login")
    manager.login_message = "Please log in to continue."
    manager.login_message_category = "info"

    @manager.user_loader
    def load_user(user_id: str) -> User | None:
        # A cookie naming a deleted (or garbled) id is an anonymous visitor.
        try:
            return db.session.get(User, int(user_id))
        except ValueError:
            return None


def safe_next(target: str | None) -> str | None:
    """Return ``target`` only if it is a path on this site, else ``None``.

    Browsers treat ``\\`` like ``/`` and drop tabs and newlines inside URLs,
    so ``/\\evil.example`` and ``/\\t/evil.example`` leave the site as surely
    as ``//evil.example`` does; anything with them is refused too.
    """
    if not target or not target.startswith("/"):
        return None
    if "\\" in target or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or target.startswith("//"):
        return None
    return target


@bp.route("/register", methods=["GET", "POST"])
def register() -> str | Response:
    """Create an account, then send the new user to the login page."""
    form = RegisterForm()
    if form.validate_on_submit():
        user = User(
            username=form.username.data,
            email=form.email.data,
            password_hash=generate_password_hash(form.password.data or ""),
        )
        db.session.add(user)
        try:
            db.session.commit()
        except IntegrityError:
            # The UNIQUE constraint is the source of truth, which also
            # covers two people racing for the same name.
            db.session.rollback()
            flash(f"The username {form.username.data!r} is already taken.", "error")
        else:
            flash("Account created. You can log in now.", "success")
            return redirect(url_for("auth.login"))
    for errors in form.errors.values():
        for message in errors:
            flash(message, "error")
    return render_template("auth/register.html", form=form)


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response:
    """Check the credentials and sign the user in, optionally for 30 days."""
    form = LoginForm()
    if form.validate_on_submit():
        user = db.session.scalar(sa.select(User).where(User.username == form.username.data))
        # One message for both cases so the form doesn't reveal which
        # usernames exist.
        if user is None or not check_password_hash(user.password_hash, form.password.data or ""):
            flash("Wrong username or password.", "error")
        else:
            login_user(user, remember=bool(form.remember.data))
            flash(f"Welcome back, {user.username}!", "success")
            return redirect(safe_next(request.args.get("next")) or url_for("blog.index"))
    elif form.errors:
        flash("The form has expired; please try again.", "error")
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
def logout() -> Response:
    """Forget the signed-in user, including the remember-me cookie."""
    if current_user.is_authenticated:
        logout_user()
    flash("You have been logged out.", "info")
    return redirect(url_for("blog.index"))
