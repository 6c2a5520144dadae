from __future__ import annotations

import typing as t

from asgi_hello import app


class ServedBy:
    """Any ASGI middleware wraps ``app.asgi_app`` the way WSGI middleware
    wraps ``app.wsgi_app``."""

    def __init__(self, inner: t.Any) -> None:
        self.inner = inner

    async def __call__(self, scope: t.Any, receive: t.Any, send: t.Any) -> None:
        async def send_with_header(message: dict[str, t.Any]) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"x-served-by", b"asgi")]
            await send(message)

        await self.inner(scope, receive, send_with_header)


app.asgi_app = ServedBy(app.asgi_app)
