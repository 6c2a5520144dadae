"""The tables, as SQLAlchemy 2.0 declarative models.

They subclass ``Base`` (the class ``db.Model`` is made from, sharing its
metadata) rather than ``db.Model``, so type checkers see their constructors.
The schema itself is owned by the migrations in ``migrations/versions``;
``tests/test_migrations.py`` checks the two agree.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .extensions import Base


def utcnow() -> dt.datetime:
    """Naive UTC, the one form SQLite and PostgreSQL both round-trip."""
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


follows = sa.Table(
    "follows",
    Base.metadata,
    sa.Column("follower_id", sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("followed_id", sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
)


class User(UserMixin, Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(80), unique=True)
    email: Mapped[str | None] = mapped_column(sa.String(254))
    password_hash: Mapped[str] = mapped_column(sa.String(255))

    followers: Mapped[list[User]] = relationship(
        secondary=follows,
        primaryjoin=lambda: User.id == follows.c.followed_id,
        secondaryjoin=lambda: User.id == follows.c.follower_id,
        back_populates="following",
    )
    following: Mapped[list[User]] = relationship(
        secondary=follows,
        primaryjoin=lambda: User.id == follows.c.follower_id,
        secondaryjoin=lambda: User.id == follows.c.followed_id,
        back_populates="followers",
    )


class Post(Base):
    __tablename__ = "posts"
    __table_args__ = (sa.Index("posts_by_created", "created", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    created: Mapped[dt.datetime] = mapped_column(default=utcnow)
    title: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text, default="")

    author: Mapped[User] = relationship(lazy="joined", innerjoin=True)
    comments: Mapped[list[Comment]] = relationship(
        back_populates="post",
        order_by=lambda: (Comment.created, Comment.id),
        cascade="all, delete-orphan",
        passive_deletes=True,
    )


class Comment(Base):
    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(sa.ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    created: Mapped[dt.datetime] = mapped_column(default=utcnow)
    body: Mapped[str] = mapped_column(sa.Text)

    post: Mapped[Post] = relationship(back_populates="comments")
    author: Mapped[User] = relationship(lazy="joined", innerjoin=True)


class Notification(Base):
    """One row per (post, follower) whose email went out: the task's memory.

    The unique constraint is what makes the notification job idempotent,
    also when two workers run the same job at once.
    """

    __tablename__ = "notifications"
    __table_args__ = (sa.UniqueConstraint("post_id", "recipient_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(sa.ForeignKey("posts.id", ondelete="CASCADE"))
    recipient_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    sent_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
