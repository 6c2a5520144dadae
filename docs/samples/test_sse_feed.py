import asyncio
import json

from sse_feed import app
from sse_feed import posts


async def read_events(headers, count):
    """The first ``count`` posts of /feed, read through ``app.asgi_app``
    as an ASGI server would (the stream never ends by itself)."""
    sent, gone = asyncio.Queue(), asyncio.Event()
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
        "method": "GET", "scheme": "http", "path": "/feed", "raw_path": b"/feed",
        "root_path": "", "query_string": b"", "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
        "headers": [(b"host", b"x")] + [(k.lower().encode(), v.encode()) for k, v in headers.items()],
    }

    async def receive():
        await gone.wait()
        return {"type": "http.disconnect"}

    server = asyncio.ensure_future(app.asgi_app(scope, receive, sent.put))
    received, buffer = [], b""
    while len(received) < count:
        buffer += (await asyncio.wait_for(sent.get(), 10)).get("body", b"")
        while b"\n\n" in buffer:
            frame, buffer = buffer.split(b"\n\n", 1)
            fields = dict(line.split(": ", 1) for line in frame.decode().splitlines() if line[:1] != ":")
            if fields:
                received.append((fields["id"], json.loads(fields["data"])["text"]))
    gone.set()  # the client goes away: the generator is stopped
    await asyncio.wait_for(server, 10)
    return received


def test_feed_resumes_from_last_event_id():
    async def main():
        posts[:] = ["first", "second", "third"]
        assert await read_events({}, 3) == [("1", "first"), ("2", "second"), ("3", "third")]
        # A reconnecting EventSource sends the last id it saw.
        assert await read_events({"Last-Event-ID": "2"}, 1) == [("3", "third")]

    asyncio.run(main())
