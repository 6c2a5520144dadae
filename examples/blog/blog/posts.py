"""The HTML side of the blog: posts, comments and following authors."""

from __future__ import annotations

import logging
import typing as t

import sqlalchemy as sa
from celery.result import EagerResult
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    session,
    url_for,
)
from flask_login import current_user, login_required
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from . import live
from .extensions import cache, db
from .forms import ButtonForm, CommentForm, PostForm
from .jobs import notify_followers
from .models import Comment, Post, User

bp = Blueprint("blog", __name__)
log = logging.getLogger(__name__)

INDEX_CACHE_KEY = "index-posts"
# Ids are PostgreSQL integers; a larger number in a URL names no post
# (and would make the database raise, a 500, rather than answer).
MAX_ID = 2**31 - 1
RECENT_LIMIT = 5


def post_summary(post: Post) -> dict[str, t.Any]:
    """What the index and the API show of a post; plain data, so it caches."""
    return {
        "id": post.id,
        "title": post.title,
        "body": post.body,
        "author": post.author.username,
        "author_id": post.author_id,
        "created": post.created.isoformat(sep=" ", timespec="seconds"),
    }


def latest_posts() -> list[dict[str, t.Any]]:
    """The newest posts, from the cache when no write has happened since."""
    posts: list[dict[str, t.Any]] | None = cache.get(INDEX_CACHE_KEY)
    if posts is None:
        query = (
            sa.select(Post)
            .order_by(Post.created.desc(), Post.id.desc())
            .limit(current_app.config["POSTS_PER_PAGE"])
        )
        posts = [post_summary(p) for p in db.session.scalars(query)]
        cache.set(INDEX_CACHE_KEY, posts)
    return posts


def posts_changed() -> None:
    """Drop the cached index after any write that changes what it shows."""
    cache.delete(INDEX_CACHE_KEY)


def fetch_post(post_id: int, *, must_own: bool = False) -> Post:
    """Load a post or abort: 404 if it doesn't exist, 403 if it isn't ours."""
    post = db.session.get(Post, post_id) if 0 < post_id <= MAX_ID else None
    if post is None:
        abort(404, f"There is no post with id {post_id}.")
    if must_own and (not current_user.is_authenticated or post.author_id != current_user.id):
        abort(403, "Only the author can change this post.")
    return post


def flash_errors(form: PostForm | CommentForm) -> None:
    for errors in form.errors.values():
        for message in errors:
            flash(message, "error")


def announce_post(post: Post) -> None:
    """Queue the follower e-mails and tell live pages about a new post."""
    try:
        result = notify_followers.delay(post.id)
    except Exception:
        # The post is saved; a broker outage must not turn that into an
        # error page. Logged so the lost notification is not silent.
        log.exception("could not queue notifications for post %s", post.id)
    else:
        if isinstance(result, EagerResult) and result.failed():
            log.error(
                "notifying followers of post %s failed after its retries: %r",
                post.id,
                result.result,
            )
    # Wakes the index pages' feeds (blog.feed), which read the post back
    # from the database.
    live.publish("posts", live_post(post))


def live_post(post: Post) -> dict[str, t.Any]:
    """A new post as the index page's feed sends it (``blog.feed``)."""
    return {
        "type": "post",
        **post_summary(post),
        # Where the index page's links go, so the page's script builds
        # no URLs of its own.
        "url": url_for("blog.detail", post_id=post.id),
        "author_url": url_for("blog.profile", username=post.author.username),
        "edit_url": url_for("blog.update", post_id=post.id),
    }


@bp.route("/")
def index() -> str:
    """Show the newest posts first."""
    posts = latest_posts()
    # The feed starts after the newest post this page shows, so a post
    # written between this render and the feed's connection still comes.
    newest = max((p["id"] for p in posts), default=0)
    return render_template(
        "blog/index.html", posts=posts, feed_url=url_for("feed.new_posts", after=newest)
    )


@bp.route("/posts/<int:post_id>")
def detail(post_id: int) -> str:
    """Show a post with its comments; remember it among the recently read."""
    post = fetch_post(post_id)
    recent = session.get("recent", [])
    if not recent or recent[0] != post_id:
        # Written only when it changes, so rereading sends no new cookie.
        session["recent"] = [post_id, *[p for p in recent if p != post_id]][:RECENT_LIMIT]
    return render_template(
        "blog/detail.html",
        post=post,
        form=CommentForm(),
        live_url=live.live_url("live.post_events", post_id=post_id),
    )


@bp.route("/posts/new", methods=["GET", "POST"])
@login_required
def create() -> str | Response:
    """Write a new post."""
    form = PostForm()
    if form.validate_on_submit():
        post = Post(title=form.title.data, body=form.body.data or "", author_id=current_user.id)
        db.session.add(post)
        db.session.commit()
        posts_changed()
        announce_post(post)
        flash("Post published.", "success")
        return redirect(url_for("blog.detail", post_id=post.id))
    flash_errors(form)
    return render_template("blog/edit.html", form=form, post=None)


@bp.route("/posts/<int:post_id>/edit", methods=["GET", "POST"])
@login_required
def update(post_id: int) -> str | Response:
    """Edit one of your own posts."""
    post = fetch_post(post_id, must_own=True)
    form = PostForm(obj=post)
    if form.validate_on_submit():
        post.title = form.title.data or ""
        post.body = form.body.data or ""
        db.session.commit()
        posts_changed()
        flash("Post updated.", "success")
        return redirect(url_for("blog.detail", post_id=post_id))
    flash_errors(form)
    return render_template("blog/edit.html", form=form, post=post, delete_form=ButtonForm())


@bp.post("/posts/<int:post_id>/delete")
@login_required
def delete(post_id: int) -> Response:
    """Delete one of your own posts."""
    post = fetch_post(post_id, must_own=True)
    db.session.delete(post)
    db.session.commit()
    posts_changed()
    flash("Post deleted.", "info")
    return redirect(url_for("blog.index"))


def save_comment(post: Post, body: str) -> Comment:
    """Store the current user's comment and push it to the post's open pages."""
    item = Comment(post_id=post.id, author_id=current_user.id, body=body)
    db.session.add(item)
    db.session.commit()
    live.publish(
        f"post:{post.id}",
        {
            "type": "comment",
            "id": item.id,
            "post_id": post.id,
            "author": current_user.username,
            "body": item.body,
            "created": item.created.isoformat(sep=" ", timespec="seconds"),
        },
    )
    return item


def comment_from_socket(post_id: int, body: object) -> dict[str, t.Any]:
    """A comment sent over the post page's WebSocket: the same checks and
    storage as the form below, answered as an event for the sender.

    Sync code (the database), so the socket handler runs it in a thread.
    """
    if not current_user.is_authenticated:
        return {"type": "error", "message": "Log in to comment."}
    post = db.session.get(Post, post_id) if 0 < post_id <= MAX_ID else None
    if post is None:
        return {"type": "error", "message": f"There is no post with id {post_id}."}
    # No CSRF token here: the socket is only reachable from this site's own
    # pages (see blog.sockets), and the token is a form field.
    form = CommentForm(
        formdata=MultiDict({"body": body if isinstance(body, str) else ""}),
        meta={"csrf": False},
    )
    if not form.validate():
        messages = [m for errors in form.errors.values() for m in errors]
        return {"type": "error", "message": " ".join(messages)}
    item = save_comment(post, form.body.data or "")
    return {"type": "saved", "id": item.id}


@bp.post("/posts/<int:post_id>/comments")
@login_required
def comment(post_id: int) -> Response:
    """Add a comment to a post (the page's fallback when its socket is not open)."""
    post = fetch_post(post_id)
    form = CommentForm()
    if form.validate_on_submit():
        item = save_comment(post, form.body.data or "")
        flash("Comment added.", "success")
        return redirect(url_for("blog.detail", post_id=post.id, _anchor=f"comment-{item.id}"))
    flash_errors(form)
    return redirect(url_for("blog.detail", post_id=post.id))


def fetch_user(username: str) -> User:
    user: User | None = None
    if "\x00" not in username and len(username) <= 80:
        user = db.session.scalar(sa.select(User).where(User.username == username))
    if user is None:
        abort(404, f"There is no user called {username!r}.")
    return user


@bp.route("/users/<username>")
def profile(username: str) -> str:
    """An author's posts and a follow button."""
    user = fetch_user(username)
    posts = db.session.scalars(
        sa.select(Post).where(Post.author_id == user.id).order_by(Post.created.desc(), Post.id.desc())
    ).all()
    following = current_user.is_authenticated and any(
        f.id == current_user.id for f in user.followers
    )
    return render_template(
        "blog/profile.html", user=user, posts=posts, following=following, form=ButtonForm()
    )


@bp.post("/users/<username>/follow")
@login_required
def follow(username: str) -> Response:
    """Get an e-mail whenever this author publishes."""
    user = fetch_user(username)
    me = db.session.get(User, current_user.id)
    if user.id == current_user.id:
        flash("You can't follow yourself.", "error")
    elif me is not None and user not in me.following:
        me.following.append(user)
        db.session.commit()
        flash(f"You now follow {user.username}.", "success")
    return redirect(url_for("blog.profile", username=user.username))


@bp.post("/users/<username>/unfollow")
@login_required
def unfollow(username: str) -> Response:
    """Stop the e-mails from this author."""
    user = fetch_user(username)
    me = db.session.get(User, current_user.id)
    if me is not None and user in me.following:
        me.following.remove(user)
        db.session.commit()
        flash(f"You no longer follow {user.username}.", "info")
    return redirect(url_for("blog.profile", username=user.username))
