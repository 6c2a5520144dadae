"""Live updates: publish events to channels, for the pages' live parts.

In one process (the default) a ``LocalBroker`` hands each event to the
subscribers' asyncio queues. With ``REDIS_URL`` set, ``RedisBroker`` goes
through Redis pub/sub, so an event published by one worker reaches the
browsers connected to every other worker.

The post page's WebSocket (``blog.sockets``) streams its post's channel,
registered only where the framework has WebSocket routes; without it the
page works as before, without the live part (``live_url`` returns ``None``
and the page opens no socket). The index page's Server-Sent Events feed
(``blog.feed``) takes the ``posts`` channel as a wake-up only and reads the
posts from the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import typing as t
from urllib.parse import urlsplit

from flask import Flask, current_app, url_for

log = logging.getLogger(__name__)

Event = dict[str, t.Any]


class LocalBroker:
    """Pub/sub inside this process; publishers may be on any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: dict[str, set[tuple[asyncio.AbstractEventLoop, asyncio.Queue[Event]]]] = {}

    def publish(self, channel: str, event: Event) -> int:
        """Deliver ``event`` to the channel's subscribers; return how many."""
        with self._lock:
            targets = list(self._subscribers.get(channel, ()))
        for loop, queue in targets:
            loop.call_soon_threadsafe(queue.put_nowait, event)
        return len(targets)

    @contextlib.asynccontextmanager
    async def subscribe(self, channel: str) -> t.AsyncIterator[t.AsyncIterator[Event]]:
        """``async with broker.subscribe(ch) as events: async for e in events``."""
        queue: asyncio.Queue[Event] = asyncio.Queue()
        entry = (asyncio.get_running_loop(), queue)
        with self._lock:
            self._subscribers.setdefault(channel, set()).add(entry)

        async def events() -> t.AsyncIterator[Event]:
            while True:
                yield await queue.get()

        try:
            yield events()
        finally:
            with self._lock:
                subs = self._subscribers.get(channel)
                if subs is not None:
                    subs.discard(entry)
                    if not subs:
                        del self._subscribers[channel]


class RedisBroker:
    """Pub/sub through Redis, across processes and machines."""

    def __init__(self, url: str, prefix: str = "blog:live:") -> None:
        import redis

        self.url = url
        self.prefix = prefix
        self._client = redis.Redis.from_url(url)

    def publish(self, channel: str, event: Event) -> int:
        """Publish ``event``; return how many subscribers Redis delivered it to."""
        return int(self._client.publish(self.prefix + channel, json.dumps(event)))

    @contextlib.asynccontextmanager
    async def subscribe(self, channel: str) -> t.AsyncIterator[t.AsyncIterator[Event]]:
        import redis.asyncio as aioredis

        client = aioredis.Redis.from_url(self.url)
        pubsub = client.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(self.prefix + channel)

        async def events() -> t.AsyncIterator[Event]:
            async for message in pubsub.listen():
                if message.get("type") == "message":
                    yield json.loads(message["data"])

        try:
            yield events()
        finally:
            await pubsub.unsubscribe()
            # (redis-py leaves these two untyped in some versions)
            closers: list[t.Any] = [pubsub, client]
            for closer in closers:
                await closer.aclose()


Broker = t.Union[LocalBroker, RedisBroker]


def init_app(app: Flask) -> None:
    url = app.config.get("REDIS_URL")
    app.extensions["live"] = RedisBroker(url) if url else LocalBroker()


def broker() -> Broker:
    return t.cast(Broker, current_app.extensions["live"])


def publish(channel: str, event: Event) -> None:
    """Publish without ever failing the request that made the change."""
    try:
        broker().publish(channel, event)
    except Exception:
        # The write itself succeeded; only the live push is lost, and the
        # log says so.
        log.exception("could not publish a live update on %r", channel)


def enabled() -> bool:
    """Whether this app serves the post page's socket (``blog.sockets``)."""
    return "live.post_events" in current_app.view_functions


def live_url(endpoint: str, **values: t.Any) -> str | None:
    """Where a page opens its socket, or None without WebSockets."""
    if not enabled():
        return None
    # WebSocket rules build as absolute ws:// URLs (Werkzeug); the page
    # wants the path, and takes scheme and host from where it was loaded,
    # which stays right behind a proxy that terminates TLS.
    return urlsplit(url_for(endpoint, **values)).path
