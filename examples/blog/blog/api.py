"""JSON API over the same posts the HTML pages show.

Errors come back as JSON too (see ``errors.py``), so API clients never have
to parse an HTML error page.
"""

from __future__ import annotations

import sqlite3
import typing as t

from flask import Blueprint, abort, current_app, g, request, url_for

from .db import get_db
from .posts import POST_QUERY, fetch_post, validate_post

bp = Blueprint("api", __name__, url_prefix="/api")


def post_to_json(post: sqlite3.Row) -> dict[str, t.Any]:
    """The public JSON shape of a post."""
    return {
        "id": post["id"],
        "title": post["title"],
        "body": post["body"],
        "author": post["author"],
        "created": post["created"],
        "url": url_for("api.get_post", post_id=post["id"], _external=True),
    }


@bp.get("/posts")
def list_posts() -> dict[str, t.Any]:
    """All posts, newest first."""
    rows = (
        get_db()
        .execute(
            f"{POST_QUERY} ORDER BY p.created DESC, p.id DESC LIMIT ?",
            (current_app.config["POSTS_PER_PAGE"],),
        )
        .fetchall()
    )
    return {"posts": [post_to_json(row) for row in rows]}


@bp.get("/posts/<int:post_id>")
def get_post(post_id: int) -> dict[str, t.Any]:
    """One post by id."""
    return post_to_json(fetch_post(post_id))


@bp.post("/posts")
def create_post() -> tuple[dict[str, t.Any], int, dict[str, str]] | tuple[dict[str, t.Any], int]:
    """Create a post as the signed-in user from ``{"title": ..., "body": ...}``."""
    if g.user is None:
        abort(401, "Log in to create posts.")

    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        return {"error": "Bad Request", "message": "Expected a JSON object."}, 400

    title = data.get("title", "")
    body = data.get("body", "")
    errors: dict[str, str] = {}
    if not isinstance(title, str):
        errors["title"] = "Title must be a string."
    if not isinstance(body, str):
        errors["body"] = "Body must be a string."
    if not errors:
        title = title.strip()
        errors = validate_post(title, body)
    if errors:
        return {"error": "Bad Request", "message": "Invalid post.", "fields": errors}, 400

    db = get_db()
    cur = db.execute(
        "INSERT INTO posts (title, body, author_id) VALUES (?, ?, ?)",
        (title, body, g.user["id"]),
    )
    db.commit()
    post = fetch_post(t.cast(int, cur.lastrowid))
    return post_to_json(post), 201, {"Location": url_for("api.get_post", post_id=post["id"])}
