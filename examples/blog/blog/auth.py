"""Accounts: registration, login, logout and the ``login_required`` guard."""

from __future__ import annotations

import functools
import sqlite3
import typing as t
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.security import check_password_hash, generate_password_hash
from werkzeug.wrappers import Response

from .db import get_db

bp = Blueprint("auth", __name__, url_prefix="/auth")

F = t.TypeVar("F", bound=t.Callable[..., t.Any])

MIN_PASSWORD_LENGTH = 4


@bp.before_app_request
def load_current_user() -> None:
    """Put the signed-in user's row (or None) on ``g.user`` for every request."""
    user_id = session.get("user_id")
    g.user = None
    if user_id is not None:
        g.user = (
            get_db()
            .execute("SELECT id, username FROM users WHERE id = ?", (user_id,))
            .fetchone()
        )


def login_required(view: F) -> F:
    """Send anonymous visitors to the login page, remembering where they were."""

    @functools.wraps(view)
    def wrapped(*args: t.Any, **kwargs: t.Any) -> t.Any:
        if g.user is None:
            flash("Please log in to continue.", "info")
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return t.cast(F, wrapped)


def _safe_next(target: str | None) -> str | None:
    """Accept only same-site paths so ``next`` can't bounce users elsewhere."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/register", methods=["GET", "POST"])
def register() -> str | Response:
    """Create an account, then send the new user to the login page."""
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        password = request.form.get("password", "")
        error = None
        if not username:
            error = "Username is required."
        elif len(password) < MIN_PASSWORD_LENGTH:
            error = f"Password must be at least {MIN_PASSWORD_LENGTH} characters."

        if error is None:
            db = get_db()
            try:
                db.execute(
                    "INSERT INTO users (username, password_hash) VALUES (?, ?)",
                    (username, generate_password_hash(password)),
                )
                db.commit()
            except sqlite3.IntegrityError:
                # The UNIQUE constraint is the source of truth, which also
                # covers two people racing for the same name.
                error = f"The username {username!r} is already taken."
            else:
                flash("Account created. You can log in now.", "success")
                return redirect(url_for("auth.login"))

        flash(error, "error")

    return render_template("auth/register.html")


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response:
    """Check the credentials and remember the user in the session."""
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        password = request.form.get("password", "")
        user = (
            get_db()
            .execute("SELECT * FROM users WHERE username = ?", (username,))
            .fetchone()
        )
        # One message for both cases so the form doesn't reveal which
        # usernames exist.
        if user is None or not check_password_hash(user["password_hash"], password):
            flash("Wrong username or password.", "error")
        else:
            session.clear()
            session["user_id"] = user["id"]
            flash(f"Welcome back, {user['username']}!", "success")
            target = _safe_next(request.args.get("next"))
            return redirect(target or url_for("blog.index"))

    return render_template("auth/login.html")


@bp.post("/logout")
def logout() -> Response:
    """Forget the signed-in user."""
    session.clear()
    flash("You have been logged out.", "info")
    return redirect(url_for("blog.index"))
