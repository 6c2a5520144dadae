"""The HTML side of the blog: list, read, write, edit and delete posts."""

from __future__ import annotations

import sqlite3

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.wrappers import Response

from .auth import login_required
from .db import get_db

bp = Blueprint("blog", __name__)

POST_QUERY = (
    "SELECT p.id, p.title, p.body, p.created, p.author_id, u.username AS author"
    " FROM posts p JOIN users u ON u.id = p.author_id"
)


def fetch_post(post_id: int, *, must_own: bool = False) -> sqlite3.Row:
    """Load a post or abort: 404 if it doesn't exist, 403 if it isn't ours."""
    post: sqlite3.Row | None = (
        get_db().execute(f"{POST_QUERY} WHERE p.id = ?", (post_id,)).fetchone()
    )
    if post is None:
        abort(404, f"There is no post with id {post_id}.")
    if must_own and (g.user is None or post["author_id"] != g.user["id"]):
        abort(403, "Only the author can change this post.")
    return post


def validate_post(title: str, body: str) -> dict[str, str]:
    """Return field -> message for everything wrong with a post."""
    errors: dict[str, str] = {}
    if not title:
        errors["title"] = "Title is required."
    elif len(title) > 200:
        errors["title"] = "Title must be at most 200 characters."
    if len(body) > 20_000:
        errors["body"] = "Body must be at most 20000 characters."
    return errors


@bp.route("/")
def index() -> str:
    """Show the newest posts first."""
    limit = current_app.config["POSTS_PER_PAGE"]
    posts = (
        get_db()
        .execute(f"{POST_QUERY} ORDER BY p.created DESC, p.id DESC LIMIT ?", (limit,))
        .fetchall()
    )
    return render_template("blog/index.html", posts=posts)


@bp.route("/posts/<int:post_id>")
def detail(post_id: int) -> str:
    """Show a single post."""
    return render_template("blog/detail.html", post=fetch_post(post_id))


def submitted_post() -> dict[str, str]:
    """The title and body from the posted form."""
    return {
        "title": request.form.get("title", "").strip(),
        "body": request.form.get("body", ""),
    }


@bp.route("/posts/new", methods=["GET", "POST"])
@login_required
def create() -> str | Response:
    """Write a new post."""
    form = {"title": "", "body": ""}
    if request.method == "POST":
        form = submitted_post()
        errors = validate_post(**form)
        if not errors:
            db = get_db()
            cur = db.execute(
                "INSERT INTO posts (title, body, author_id) VALUES (?, ?, ?)",
                (form["title"], form["body"], g.user["id"]),
            )
            db.commit()
            flash("Post published.", "success")
            return redirect(url_for("blog.detail", post_id=cur.lastrowid))
        for message in errors.values():
            flash(message, "error")
    return render_template("blog/edit.html", form=form, post=None)


@bp.route("/posts/<int:post_id>/edit", methods=["GET", "POST"])
@login_required
def update(post_id: int) -> str | Response:
    """Edit one of your own posts."""
    post = fetch_post(post_id, must_own=True)
    form = {"title": post["title"], "body": post["body"]}
    if request.method == "POST":
        form = submitted_post()
        errors = validate_post(**form)
        if not errors:
            db = get_db()
            db.execute(
                "UPDATE posts SET title = ?, body = ? WHERE id = ?",
                (form["title"], form["body"], post_id),
            )
            db.commit()
            flash("Post updated.", "success")
            return redirect(url_for("blog.detail", post_id=post_id))
        for message in errors.values():
            flash(message, "error")
    return render_template("blog/edit.html", form=form, post=post)


@bp.post("/posts/<int:post_id>/delete")
@login_required
def delete(post_id: int) -> Response:
    """Delete one of your own posts."""
    fetch_post(post_id, must_own=True)
    db = get_db()
    db.execute("DELETE FROM posts WHERE id = ?", (post_id,))
    db.commit()
    flash("Post deleted.", "info")
    return redirect(url_for("blog.index"))
