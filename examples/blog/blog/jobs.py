"""Background jobs on Celery, built from the Flask app factory.

``init_celery`` makes a Celery app whose tasks each run inside an app
context of the Flask app that built it. Without ``CELERY_BROKER_URL`` the
tasks run eagerly, in the request that queued them; with it a worker runs
them (``celery -A blog.wsgi:celery worker``).
"""

from __future__ import annotations

import smtplib
import typing as t

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, OperationalError
from celery import Celery, Task, shared_task
from flask import Flask, render_template
from flask_mail import Message

from .extensions import db, mail
from .models import Notification, Post, User, follows


def init_celery(app: Flask) -> Celery:
    """Create the Celery app for ``app`` and make it the default one."""

    class AppContextTask(Task):
        def __call__(self, *args: t.Any, **kwargs: t.Any) -> t.Any:
            with app.app_context():
                return self.run(*args, **kwargs)

    celery = Celery(app.import_name, task_cls=AppContextTask)
    celery.config_from_object(app.config["CELERY"])
    celery.set_default()
    app.extensions["celery"] = celery
    return celery


# Errors worth another try: the mail server or the database was away.
RETRY_ON = (smtplib.SMTPException, ConnectionError, TimeoutError, OperationalError)


def _notify_followers(self: Task, post_id: int) -> int:
    """E-mail each follower of the post's author about it; return how many.

    Idempotent: a follower is mailed at most once per post, recorded in
    ``notifications`` in the same transaction as the send. Running the job
    twice, or again after a failure halfway, mails only those still owed.
    """
    post = db.session.get(Post, post_id)
    if post is None:  # deleted before the job ran: nothing to announce
        return 0
    recipients = db.session.scalars(
        sa.select(User)
        .join(follows, follows.c.follower_id == User.id)
        .where(follows.c.followed_id == post.author_id, User.email.is_not(None))
        .order_by(User.id)
    ).all()
    sent = 0
    for user in recipients:
        db.session.add(Notification(post_id=post.id, recipient_id=user.id))
        try:
            db.session.flush()
        except IntegrityError:
            db.session.rollback()  # already mailed, by an earlier run
            continue
        mail.send(
            Message(
                subject=f"New post by {post.author.username}: {post.title}",
                recipients=[t.cast(str, user.email)],
                body=render_template("email/new_post.txt", post=post, user=user),
            )
        )
        db.session.commit()
        sent += 1
    return sent


# shared_task gives a proxy that resolves to the task of the current default
# Celery app (the one the newest create_app built).
notify_followers = t.cast(Task, shared_task(
    bind=True,
    name="blog.notify_followers",
    autoretry_for=RETRY_ON,
    retry_backoff=2,
    retry_backoff_max=60,
    max_retries=5,
)(_notify_followers))
