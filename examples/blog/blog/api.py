"""JSON API over the same posts the HTML pages show.

Writes authenticate with a bearer token from ``POST /api/tokens``, never
with the session cookie: a browser attaches cookies to forged cross-site
requests but not an ``Authorization`` header, which is why this blueprint
can be exempt from CSRF. Errors come back as JSON too (see ``errors.py``).
"""

from __future__ import annotations

import typing as t

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, request, url_for
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.security import check_password_hash

from .extensions import db
from .models import Post, User
from .posts import announce_post, fetch_post, latest_posts, post_summary, posts_changed

bp = Blueprint("api", __name__, url_prefix="/api")

TOKEN_SALT = "blog-api-token"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=TOKEN_SALT)  # type: ignore[arg-type]


def issue_token(user: User) -> str:
    """A signed, expiring token naming ``user``.

    It carries a piece of the password hash, so changing the password
    revokes every token issued before.
    """
    return _serializer().dumps({"uid": user.id, "pw": user.password_hash[-8:]})


def token_user() -> User:
    """The user the request's bearer token names, or abort with 401."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        abort(401, "Send 'Authorization: Bearer <token>'; get a token from POST /api/tokens.")
    user: User | None = None
    try:
        data = _serializer().loads(token, max_age=current_app.config["API_TOKEN_MAX_AGE"])
        candidate = db.session.get(User, int(data["uid"]))
        if candidate is not None and candidate.password_hash[-8:] == data.get("pw"):
            user = candidate
    except (BadSignature, KeyError, TypeError, ValueError, AttributeError):
        pass
    if user is None:
        abort(401, "The token is invalid or has expired.")
    return user


def post_to_json(post: dict[str, t.Any]) -> dict[str, t.Any]:
    """The public JSON shape of a post."""
    return {
        "id": post["id"],
        "title": post["title"],
        "body": post["body"],
        "author": post["author"],
        "created": post["created"],
        "url": url_for("api.get_post", post_id=post["id"], _external=True),
    }


def json_object() -> dict[str, t.Any]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        abort(400, "Expected a JSON object.")
    return data


@bp.post("/tokens")
def create_token() -> tuple[dict[str, t.Any], int]:
    """Exchange ``{"username": ..., "password": ...}`` for a bearer token."""
    data = json_object()
    username, password = data.get("username"), data.get("password")
    user = None
    if isinstance(username, str) and isinstance(password, str) and "\x00" not in username:
        user = db.session.scalar(sa.select(User).where(User.username == username.strip()))
    if user is None or not check_password_hash(user.password_hash, t.cast(str, password)):
        abort(401, "Wrong username or password.")
    max_age = current_app.config["API_TOKEN_MAX_AGE"]
    return {"token": issue_token(user), "token_type": "Bearer", "expires_in": max_age}, 201


@bp.get("/posts")
def list_posts() -> dict[str, t.Any]:
    """The newest posts, newest first."""
    return {"posts": [post_to_json(p) for p in latest_posts()]}


@bp.get("/posts/<int:post_id>")
def get_post(post_id: int) -> dict[str, t.Any]:
    """One post by id."""
    return post_to_json(post_summary(fetch_post(post_id)))


@bp.post("/posts")
def create_post() -> tuple[dict[str, t.Any], int, dict[str, str]] | tuple[dict[str, t.Any], int]:
    """Create a post as the token's user from ``{"title": ..., "body": ...}``."""
    user = token_user()
    data = json_object()
    title = data.get("title", "")
    body = data.get("body", "")
    errors: dict[str, str] = {}
    if not isinstance(title, str):
        errors["title"] = "Title must be a string."
    if not isinstance(body, str):
        errors["body"] = "Body must be a string."
    if not errors:
        title = title.strip()
        if not title:
            errors["title"] = "Title is required."
        elif len(title) > 200:
            errors["title"] = "Title must be at most 200 characters."
        if len(body) > 20_000:
            errors["body"] = "Body must be at most 20000 characters."
        for name, value in (("title", title), ("body", body)):
            if "\x00" in value:
                # PostgreSQL text can't hold NUL; refuse it as bad input.
                errors[name] = f"{name.capitalize()} must not contain NUL characters."
    if errors:
        return {"error": "Bad Request", "message": "Invalid post.", "fields": errors}, 400

    post = Post(title=title, body=body, author_id=user.id)
    db.session.add(post)
    db.session.commit()
    posts_changed()
    announce_post(post)
    location = url_for("api.get_post", post_id=post.id)
    return post_to_json(post_summary(post)), 201, {"Location": location}
