from __future__ import annotations

import pytest
import sqlalchemy as sa

from blog.extensions import db
from blog.models import Comment, Post


def post_count(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count(Post.id)))


def get_post(app, post_id):
    with app.app_context():
        return db.session.get(Post, post_id)


def test_index_anonymous(client):
    r = client.get("/")
    assert r.status_code == 200
    assert b"First light" in r.data
    assert b'by <a class="author" href="/users/alice">alice</a>' in r.data
    assert b"2024-05-01 09:30" in r.data
    assert b'id="login-link"' in r.data
    # No edit links for visitors.
    assert b"/posts/1/edit" not in r.data


def test_index_shows_edit_link_only_to_author(client, auth):
    auth.login("bob")
    assert b"/posts/1/edit" not in client.get("/").data
    auth.logout()
    auth.login("alice")
    assert b"/posts/1/edit" in client.get("/").data


def test_index_newest_first(client, auth):
    auth.login()
    client.post("/posts/new", data={"title": "Second", "body": ""})
    data = client.get("/").data
    assert data.index(b"Second") < data.index(b"First light")


def test_empty_index(client, auth, app):
    auth.login()
    client.post("/posts/1/delete")
    auth.logout()
    assert b"Nothing here yet." in client.get("/").data


def test_detail(client):
    r = client.get("/posts/1")
    assert r.status_code == 200
    assert b"<title>First light" in r.data
    assert b"Hello from alice." in r.data


def test_create(client, auth, app):
    auth.login()
    assert client.get("/posts/new").status_code == 200
    r = client.post("/posts/new", data={"title": "  Fresh  ", "body": "line 1\nline 2"})
    assert r.status_code == 302
    assert r.headers["Location"] == "/posts/2"
    row = get_post(app, 2)
    assert row.title == "Fresh"
    assert row.body == "line 1\nline 2"
    assert row.author_id == 1
    assert b"Post published." in client.get("/posts/2").data


@pytest.mark.parametrize("path", ["/posts/new", "/posts/1/edit"])
def test_validation_keeps_form(client, auth, path):
    auth.login()
    r = client.post(path, data={"title": "", "body": "kept body"})
    assert r.status_code == 200
    assert b"Title is required." in r.data
    assert b"kept body" in r.data


def test_title_too_long(client, auth, app):
    auth.login()
    r = client.post("/posts/new", data={"title": "x" * 201, "body": ""})
    assert b"at most 200 characters" in r.data
    assert post_count(app) == 1


def test_update(client, auth, app):
    auth.login()
    page = client.get("/posts/1/edit")
    assert page.status_code == 200
    assert b'value="First light"' in page.data
    r = client.post("/posts/1/edit", data={"title": "Renamed", "body": "new"})
    assert r.headers["Location"] == "/posts/1"
    row = get_post(app, 1)
    assert (row.title, row.body) == ("Renamed", "new")


def test_delete(client, auth, app):
    auth.login()
    r = client.post("/posts/1/delete")
    assert r.status_code == 302
    assert r.headers["Location"] == "/"
    assert post_count(app) == 0
    assert client.get("/posts/1").status_code == 404


def test_delete_requires_post_method(client, auth):
    auth.login()
    assert client.get("/posts/1/delete").status_code == 405


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "/posts/new"), ("post", "/posts/new"), ("get", "/posts/1/edit"),
     ("post", "/posts/1/edit"), ("post", "/posts/1/delete"), ("post", "/posts/1/comments"),
     ("post", "/users/alice/follow")],
)
def test_writes_need_login(client, app, method, path):
    r = getattr(client, method)(path, data={"title": "t", "body": "b"})
    assert r.status_code == 302
    assert r.headers["Location"].startswith("/auth/login?next=")
    assert post_count(app) == 1


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "/posts/1/edit"), ("post", "/posts/1/edit"), ("post", "/posts/1/delete")],
)
def test_only_author_may_change(client, auth, app, method, path):
    auth.login("bob")
    r = getattr(client, method)(path, data={"title": "hijacked", "body": ""})
    assert r.status_code == 403
    assert b"Only the author can change this post." in r.data
    assert get_post(app, 1).title == "First light"


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "/posts/9"), ("get", "/posts/9/edit"), ("post", "/posts/9/edit"),
     ("post", "/posts/9/delete")],
)
def test_missing_post_is_404(client, auth, method, path):
    auth.login()
    r = getattr(client, method)(path)
    assert r.status_code == 404
    assert b"There is no post with id 9." in r.data


def test_user_content_is_escaped(client, auth):
    auth.login()
    client.post("/posts/new", data={"title": "<script>alert(1)</script>", "body": "<b>hi</b>"})
    for path in ("/", "/posts/2"):
        data = client.get(path).data
        assert b"<script>alert(1)</script>" not in data
        assert b"&lt;script&gt;alert(1)&lt;/script&gt;" in data
        assert b"<b>hi</b>" not in data


def test_static_css(client):
    # Close the response: static files are streamed from an open file.
    with client.get("/static/style.css") as r:
        assert r.status_code == 200
        assert r.mimetype == "text/css"
        assert b"--accent" in r.data
    assert b'href="/static/style.css"' in client.get("/").data


def test_comment(client, auth, app):
    auth.login("bob")
    r = client.post("/posts/1/comments", data={"body": "  Nice <b>post</b>  "})
    assert r.status_code == 302
    assert r.headers["Location"] == "/posts/1#comment-1"
    with app.app_context():
        comment = db.session.get(Comment, 1)
        assert (comment.body, comment.author.username, comment.post_id) == ("Nice <b>post</b>", "bob", 1)
    page = client.get("/posts/1").data
    assert b'<li class="comment" id="comment-1"><span class="author">bob</span>' in page
    assert b"Nice &lt;b&gt;post&lt;/b&gt;" in page


def test_empty_comment_is_refused(client, auth, app):
    auth.login("bob")
    r = client.post("/posts/1/comments", data={"body": "   "}, follow_redirects=True)
    assert b"A comment needs some text." in r.data
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Comment.id))) == 0


def test_comments_go_with_their_post(client, auth, app):
    auth.login("bob")
    client.post("/posts/1/comments", data={"body": "first"})
    auth.logout()
    auth.login("alice")
    client.post("/posts/1/delete")
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Comment.id))) == 0


def test_follow_and_unfollow(client, auth, app):
    auth.login("bob")
    page = client.get("/users/alice")
    assert b'id="follow"' in page.data
    assert b'<span id="follower-count">0</span> followers' in page.data
    r = client.post("/users/alice/follow", follow_redirects=True)
    assert b"You now follow alice." in r.data
    assert b'<span id="follower-count">1</span> follower<' in r.data
    assert b'id="unfollow"' in r.data
    # Following twice changes nothing.
    client.post("/users/alice/follow")
    with app.app_context():
        from blog.models import User

        alice = db.session.scalar(sa.select(User).where(User.username == "alice"))
        assert [u.username for u in alice.followers] == ["bob"]
    r = client.post("/users/alice/unfollow", follow_redirects=True)
    assert b"You no longer follow alice." in r.data
    assert b'<span id="follower-count">0</span>' in r.data


def test_cannot_follow_yourself(client, auth):
    auth.login("alice")
    r = client.post("/users/alice/follow", follow_redirects=True)
    assert b"You can&#39;t follow yourself." in r.data


def test_unknown_profile_is_404(client):
    assert client.get("/users/nobody").status_code == 404


def test_detail_remembers_recent_posts_in_session(client, auth, app):
    auth.login()
    for title in ("two", "three"):
        client.post("/posts/new", data={"title": title, "body": ""})
    with client.session_transaction() as sess:
        sess.pop("recent", None)
    for post_id in (1, 2, 3, 1):
        client.get(f"/posts/{post_id}")
    with client.session_transaction() as sess:
        assert sess["recent"] == [1, 3, 2]
    # Rereading the newest entry leaves the session as it was: no cookie.
    r = client.get("/posts/1")
    assert "Set-Cookie" not in r.headers
