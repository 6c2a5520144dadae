"""The index page's live feed: new posts as Server-Sent Events.

``GET /live/posts`` is an ``EventStream`` of ``post`` events, one per new
post, each with the post's database id as its ``id``. Ids only grow, so the
id of the last event a client received says exactly what it has: every
connection first sends, from the database, each post after its starting
point, in id order, then each new one. The starting point is

- ``Last-Event-ID``, which a browser's ``EventSource`` sends by itself when
  it reconnects (the id of the last event it received);
- else ``?after=<id>``: the index page puts the newest post it shows there,
  so a post written between the render and the first connection comes too;
- else the newest post now: a client that says nothing gets new posts only.

The broker (``blog.live``) only wakes a stream; what it sends always comes
from the database. So a wake-up that is lost (published by a process whose
broker this one does not hear, or while Redis reconnects) delays a post by
at most ``LIVE_STREAM_POLL`` seconds, and never drops or repeats one.

A stream ends by itself once it is older than ``LIVE_STREAM_MAX_AGE``
seconds, at the next post it sends or the next poll: the browser reconnects
after ``LIVE_STREAM_RETRY`` milliseconds (sent with every event) and picks
up from its Last-Event-ID. Long-lived connections are then spread again over
the servers behind the load balancer (a server added or restarted gets its
share), and a deploy's old servers drain within that age.

One async generator serves both interfaces: over ASGI it waits on the
event loop and holds no thread (the database reads go to a thread); under
WSGI the framework runs it on a thread with its own loop, one per client,
so the poll's ``None`` is where a closed stream is stopped. The shipped
nginx site sends ``/live/`` to the ASGI server, where idle streams cost no
worker.

Ids come from the database in insert order, which is commit order on
SQLite (one writer at a time). On PostgreSQL two posts committed at the same
instant can commit out of id order; a stream that already sent the higher
id would then skip the lower one. The blog accepts that for its write rate;
an app that cannot would serialize its post inserts.
"""

from __future__ import annotations

import asyncio
import time
import typing as t

import sqlalchemy as sa
from flask import Blueprint, EventStream, ServerSentEvent, abort, current_app, request

from . import live
from .extensions import db
from .models import Post
from .posts import MAX_ID, live_post

bp = Blueprint("feed", __name__, url_prefix="/live")

# Posts per database read: a client back after a long time gets every post
# it missed, a batch at a time.
BATCH = 100


@bp.get("/posts")
def new_posts() -> EventStream:
    """The new posts, after where this client left off (see the module)."""
    config = current_app.config
    return EventStream(
        post_events(
            start_after(),
            max_age=float(config["LIVE_STREAM_MAX_AGE"]),
            poll=float(config["LIVE_STREAM_POLL"]),
            retry=int(config["LIVE_STREAM_RETRY"]),
        )
    )


def start_after() -> int:
    """The id after which this connection starts (see the module)."""
    for name, value in (("Last-Event-ID", request.last_event_id), ("after", request.args.get("after"))):
        if value:
            return parse_id(name, value)
    return newest_id()


def parse_id(name: str, value: str) -> int:
    if not (value.isascii() and value.isdigit()) or int(value) > MAX_ID:
        abort(400, f"{name} must be a post id.")
    return int(value)


def newest_id() -> int:
    try:
        return db.session.scalar(sa.select(sa.func.max(Post.id))) or 0
    finally:
        db.session.rollback()


def posts_after(after: int) -> list[dict[str, t.Any]]:
    """The next ``BATCH`` posts after ``after``, in id order, as events' data."""
    try:
        query = sa.select(Post).where(Post.id > after).order_by(Post.id).limit(BATCH)
        return [live_post(post) for post in db.session.scalars(query)]
    finally:
        # End the transaction: an idle stream holds no pooled connection.
        db.session.rollback()


async def post_events(
    after: int, *, max_age: float, poll: float, retry: int
) -> t.AsyncIterator[ServerSentEvent | None]:
    """Each post after ``after`` from the database, then each new one,
    until the stream is older than ``max_age`` seconds."""
    ends = time.monotonic() + max_age
    # Subscribed before the first read: a post committed after that read
    # wakes the stream, so it is never missed between the two.
    async with live.broker().subscribe("posts") as published:
        woken = asyncio.Event()

        async def listen() -> None:
            async for _ in published:
                woken.set()

        listener = asyncio.ensure_future(listen())
        try:
            polled = False
            while True:
                # Cleared before the read: a post published during it wakes
                # the next pass.
                woken.clear()
                # The database is sync code: off the event loop. The thread
                # runs in this request's context (the app's session, url_for).
                batch = await asyncio.to_thread(posts_after, after)
                for data in batch:
                    after = data["id"]
                    yield ServerSentEvent(data, event="post", id=after, retry=retry)
                if len(batch) == BATCH:
                    continue  # more waiting: no need to be woken
                if (batch or polled) and time.monotonic() >= ends:
                    return
                if polled:
                    yield None  # nothing came: under WSGI, where a closed stream stops
                if listener.done():
                    # The broker's stream ended or failed: end ours (with its
                    # error, which the framework logs); the client reconnects.
                    listener.result()
                    return
                waiting = asyncio.ensure_future(woken.wait())
                done, _ = await asyncio.wait(
                    {waiting, listener}, timeout=poll, return_when=asyncio.FIRST_COMPLETED
                )
                waiting.cancel()
                polled = not done
        finally:
            listener.cancel()
            await asyncio.gather(listener, return_exceptions=True)
