"""The post page's WebSocket: new comments out, the reader's comments in.

It needs an ASGI server (``uvicorn blog.wsgi:asgi``; ``flask run`` picks
one), and ``create_app`` registers it only where the framework has
WebSocket routes. The socket streams the post's ``blog.live`` channel to
its page and takes the comments its user writes. (The index page only
listens, so it has a Server-Sent Events feed instead, ``blog.feed``: plain
HTTP, under WSGI too.)

Why the comment socket needs no CSRF token: browsers attach the session
cookie to a handshake whatever page opens it, and WebSockets have no
same-origin policy, so a page on another site could otherwise comment as
the signed-in reader (cross-site WebSocket hijacking). The framework's
Origin check stops that before these handlers run: a handshake whose
``Origin`` is not this site (the ``Host`` it connects to, or one listed in
``WEBSOCKET_ALLOWED_ORIGINS``, unset here) is refused with 403.
"""

from __future__ import annotations

import asyncio
import json
import typing as t

from flask import Blueprint, websocket

from . import live, posts
from .extensions import db

bp = Blueprint("live", __name__, url_prefix="/live")

OnMessage = t.Callable[[t.Union[str, bytes]], t.Awaitable[None]]


@bp.websocket("/posts/<int:post_id>")
async def post_events(post_id: int) -> None:
    """Send the post's new comments to its page, and take the comments the
    signed-in reader writes there.

    A comment is ``{"type": "comment", "body": "...", "ref": ...}``; the
    answer (``{"type": "saved", "id": ...}`` or ``{"type": "error",
    "message": ...}``) carries the same ``ref``. The comment itself comes
    back, to every open page of the post, as a ``"comment"`` event.
    """

    async def take_comment(message: str | bytes) -> None:
        try:
            data = json.loads(message)
        except ValueError:
            data = None
        reply: dict[str, t.Any]
        if isinstance(data, dict) and data.get("type") == "comment":
            # The database is sync code: keep it off the event loop. The
            # thread sees this connection's context (session, current_user).
            reply = await asyncio.to_thread(comment_in_thread, post_id, data.get("body"))
        else:
            reply = {"type": "error", "message": 'Send {"type": "comment", "body": "..."}.'}
        ref = data.get("ref") if isinstance(data, dict) else None
        if isinstance(ref, (str, int)):
            reply["ref"] = ref
        await websocket.send_json(reply)

    await stream(f"post:{post_id}", take_comment)


def comment_in_thread(post_id: int, body: object) -> dict[str, t.Any]:
    try:
        return posts.comment_from_socket(post_id, body)
    finally:
        # End the transaction: an idle socket must not hold a pooled
        # database connection until its page closes.
        db.session.rollback()


async def stream(channel: str, on_message: OnMessage) -> None:
    """Forward the channel's events to the socket while passing what the
    page sends to ``on_message``, until either side ends.

    A client leaving ends the receiving side with ``WebSocketDisconnect``,
    which, left to propagate, ends the handler quietly; a broker failure
    ends the forwarding side with its error, which the framework logs and
    answers with close code 1011, and the page reconnects.
    """
    async with live.broker().subscribe(channel) as events:
        # Accepted once subscribed, so the page misses nothing published
        # after its socket opens.
        await websocket.accept()

        async def forward() -> None:
            async for event in events:
                await websocket.send_json(event)

        async def receive() -> None:
            while True:
                await on_message(await websocket.receive())

        tasks = {asyncio.ensure_future(forward()), asyncio.ensure_future(receive())}
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        for task in done:
            task.result()
