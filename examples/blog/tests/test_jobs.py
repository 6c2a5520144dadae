"""Celery from the app factory: the follower e-mail job, eager by default."""

from __future__ import annotations

import email
import email.policy
import logging
import os
import smtplib

import pytest
import sqlalchemy as sa

from blog import create_app
from blog.extensions import db
from blog.jobs import notify_followers
from blog.models import Notification, User
from conftest import build_app, seed
from smtp_sink import SMTPSink


def outbox(app) -> list[email.message.EmailMessage]:
    folder = app.config["MAIL_OUTBOX_DIR"]
    if not os.path.isdir(folder):
        return []
    messages = []
    for name in sorted(os.listdir(folder)):
        assert name.endswith(".eml"), name  # no half-written files left
        with open(os.path.join(folder, name), "rb") as f:
            messages.append(email.message_from_binary_file(f, policy=email.policy.default))
    return messages


def follow(app, follower: str, author: str) -> None:
    with app.app_context():
        users = {u.username: u for u in db.session.scalars(sa.select(User))}
        users[follower].following.append(users[author])
        db.session.commit()


def test_new_post_mails_each_follower_once(client, auth, app):
    follow(app, "bob", "alice")
    auth.login("alice")
    client.post("/posts/new", data={"title": "Spring <news>", "body": "Buds everywhere."})
    messages = outbox(app)
    assert len(messages) == 1
    msg = messages[0]
    assert msg["To"] == "bob@example.org"
    assert msg["Subject"] == "New post by alice: Spring <news>"
    body = msg.get_content()
    assert "Buds everywhere." in body
    assert "http://127.0.0.1:5000/posts/2" in body

    # Running the job again (a redelivery, a retry) mails nobody twice.
    assert notify_followers.delay(2).get() == 0
    assert len(outbox(app)) == 1
    with app.app_context():
        rows = db.session.execute(sa.select(Notification.post_id, Notification.recipient_id)).all()
    assert rows == [(2, 2)]


def test_no_followers_no_mail(client, auth, app):
    auth.login("alice")
    client.post("/api/posts", json={"title": "quiet"}, headers=auth.token())
    assert outbox(app) == []


def test_followers_without_address_are_skipped(client, auth, app):
    with app.app_context():
        db.session.get(User, 2).email = None
        db.session.commit()
    follow(app, "bob", "alice")
    auth.login("alice")
    client.post("/posts/new", data={"title": "t", "body": ""})
    assert outbox(app) == []


def test_job_for_a_deleted_post_does_nothing(app):
    follow(app, "bob", "alice")
    assert notify_followers.delay(999).get() == 0


def test_task_runs_in_its_own_app_context(app):
    # Called with no context pushed at all, as a worker would.
    from flask import has_app_context

    assert not has_app_context()
    follow(app, "bob", "alice")
    assert notify_followers.delay(1).get() == 1


def test_job_retries_after_the_mail_server_hangs_up(db_path, tmp_path):
    with SMTPSink(drop_first=2) as sink:
        app = build_app(
            db_path, tmp_path, AUTO_UPGRADE=False,
            MAIL_SUPPRESS_SEND=False, MAIL_SERVER="127.0.0.1", MAIL_PORT=sink.port,
        )
        seed(app)
        follow(app, "bob", "alice")
        assert notify_followers.delay(1).get() == 1
    assert sink.connections == 3  # two hang-ups, then the send
    assert len(sink.messages) == 1
    msg = email.message_from_bytes(sink.messages[0], policy=email.policy.default)
    assert msg["To"] == "bob@example.org"
    # The failed attempts left no notification behind; the good one did.
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Notification.id))) == 1


def test_job_gives_up_after_its_retries(db_path, tmp_path):
    with SMTPSink(drop_first=100) as sink:
        app = build_app(
            db_path, tmp_path, AUTO_UPGRADE=False,
            MAIL_SUPPRESS_SEND=False, MAIL_SERVER="127.0.0.1", MAIL_PORT=sink.port,
        )
        seed(app)
        follow(app, "bob", "alice")
        with pytest.raises(smtplib.SMTPServerDisconnected):
            notify_followers.delay(1).get()
    assert sink.connections == 1 + notify_followers.max_retries
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Notification.id))) == 0


def test_celery_is_built_from_the_flask_config(tmp_path):
    eager = create_app({"TESTING": True, "AUTO_UPGRADE": False, "MAIL_OUTBOX_DIR": os.fspath(tmp_path),
                        "SQLALCHEMY_DATABASE_URI": "sqlite://"}, environ={})
    assert eager.extensions["celery"].conf.task_always_eager is True

    queued = create_app(
        {"TESTING": True, "MAIL_OUTBOX_DIR": os.fspath(tmp_path)},
        environ={"CELERY_BROKER_URL": "amqp://guest:guest@127.0.0.1:5672//",
                 "DATABASE_URL": "sqlite://", "CELERY_QUEUE": "q1"},
    )
    conf = queued.extensions["celery"].conf
    assert conf.task_always_eager is False
    assert conf.broker_url == "amqp://guest:guest@127.0.0.1:5672//"
    assert conf.task_default_queue == "q1"
    assert conf.task_acks_late is True


def test_failed_eager_job_is_logged_not_hidden(db_path, tmp_path, caplog):
    with SMTPSink(drop_first=100) as sink:
        app = build_app(
            db_path, tmp_path, AUTO_UPGRADE=False,
            MAIL_SUPPRESS_SEND=False, MAIL_SERVER="127.0.0.1", MAIL_PORT=sink.port,
        )
        seed(app)
        follow(app, "bob", "alice")
        client = app.test_client()
        client.post("/auth/login", data={"username": "alice", "password": "wonderland"})
        with caplog.at_level(logging.ERROR, logger="blog.posts"):
            r = client.post("/posts/new", data={"title": "t", "body": ""})
    # The post is saved and the author sees it; the lost mail is in the log.
    assert r.status_code == 302
    assert "notifying followers of post 2 failed after its retries" in caplog.text
