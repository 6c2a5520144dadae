"""One fuzzing worker: serves the kitchen-sink app in this interpreter.

Run with the python of the venv under test. Speaks JSON lines on stdin and
stdout, one request per line::

    {"variant": "plain", "environ": {...}, "body": "<base64>", "transport": "wsgi"}
 -> {"status": "200 OK", "headers": [[k, v], ...], "body": "<base64>",
     "exc": null | "traceback", "logged": null | "error the app logged"}

``environ`` holds the WSGI strings; the worker adds ``wsgi.input`` and the
other non-string keys. A transport turns the environ into a call of the
app: ``wsgi`` calls it as a WSGI server would; ``asgi`` converts it to an
ASGI HTTP scope and body messages for ``app.asgi_app`` (when the app has
one) and gives back the status code alone, ASGI having no reason phrase.
Standard library only, besides the app.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import logging
import sys
import traceback
import typing as t

import kitchen

Answer = t.Dict[str, t.Any]


class _Captured(logging.Handler):
    """Remembers what the app logged (the 500s it caught)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            text += f": {record.exc_info[1]!r}"
        self.records.append(text)


def full_environ(strings: dict[str, str], body: bytes) -> dict[str, t.Any]:
    environ: dict[str, t.Any] = dict(strings)
    environ.update(
        {
            "wsgi.version": (1, 0),
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": io.StringIO(),
            "wsgi.multithread": False,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
    )
    if strings.get("wsgi.input_terminated") == "1":
        environ["wsgi.input_terminated"] = True
    else:
        environ.pop("wsgi.input_terminated", None)
    return environ


def call_wsgi(app: t.Any, environ: dict[str, t.Any]) -> Answer:
    started: list[t.Any] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: t.Any = None) -> t.Any:
        started[:] = [status, headers]
        return lambda data: None

    iterable = app(environ, start_response)
    try:
        body = b"".join(iterable)
    finally:
        if hasattr(iterable, "close"):
            iterable.close()
    return {"status": started[0], "headers": [list(h) for h in started[1]], "body": body}


def asgi_scope(environ: dict[str, t.Any]) -> dict[str, t.Any]:
    """The ASGI HTTP scope a server would build for this request."""
    raw_path = environ.get("RAW_URI", environ.get("PATH_INFO", "")).split("?", 1)[0]
    path_bytes = environ.get("PATH_INFO", "").encode("latin-1")
    headers: list[tuple[bytes, bytes]] = []
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            name = key[5:].replace("_", "-").lower()
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            name = key.replace("_", "-").lower()
        else:
            continue
        headers.append((name.encode("latin-1"), str(value).encode("latin-1")))
    protocol = environ.get("SERVER_PROTOCOL", "HTTP/1.1")
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": protocol.partition("/")[2] or "1.1",
        "method": environ["REQUEST_METHOD"],
        "scheme": environ.get("wsgi.url_scheme", "http"),
        # As uvicorn does: invalid UTF-8 becomes U+FFFD, raw_path keeps it.
        "path": path_bytes.decode("utf-8", "replace"),
        "raw_path": raw_path.encode("latin-1"),
        "query_string": environ.get("QUERY_STRING", "").encode("latin-1"),
        "root_path": environ.get("SCRIPT_NAME", ""),
        "headers": headers,
        "client": (environ.get("REMOTE_ADDR", "127.0.0.1"), 40000),
        "server": (environ.get("SERVER_NAME", "localhost"), int(environ.get("SERVER_PORT") or 80)),
    }


def server_framing(environ: dict[str, t.Any], body: bytes) -> bytes | str:
    """The body an ASGI server would hand the app, or why it would refuse
    the request itself (an HTTP server frames the body; the app never sees
    what h11, httptools or hyper reject). Content-Length must be digits
    (RFC 9110 8.6) and the only transfer coding servers accept is chunked,
    never together with a Content-Length (RFC 9112 6.3)."""
    length = environ.get("CONTENT_LENGTH")
    coding = environ.get("HTTP_TRANSFER_ENCODING")
    if coding is not None:
        if coding.strip().lower() != "chunked":
            return f"Transfer-Encoding {coding!r}"
        if length is not None:
            return "Content-Length with Transfer-Encoding"
        return body
    if length is not None:
        if not length.isdigit() or not length.isascii():
            return f"Content-Length {length!r}"
        return body[: int(length)]
    return body


def call_asgi(app: t.Any, environ: dict[str, t.Any], body: bytes) -> Answer:
    framed = server_framing(environ, body)
    # A request a server would refuse is still sent (with its body as
    # given), so that state the kitchen app keeps across requests stays in
    # step with the Pallets side; the answer is marked, not compared.
    undeliverable = framed if isinstance(framed, str) else None
    if isinstance(framed, bytes):
        body = framed
    scope = asgi_scope(environ)
    # The body in two messages, as a server reading a socket may deliver it.
    half = len(body) // 2
    messages: list[dict[str, t.Any]] = [
        {"type": "http.request", "body": body[:half], "more_body": True},
        {"type": "http.request", "body": body[half:], "more_body": False},
    ]
    sent: list[dict[str, t.Any]] = []

    async def run() -> None:
        # As a server does: once the body is read, receive() waits until the
        # client goes away, here when the response is complete. An
        # immediate disconnect would (rightly) stop a streamed response.
        done = asyncio.Event()

        async def receive() -> dict[str, t.Any]:
            if messages:
                return messages.pop(0)
            await done.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, t.Any]) -> None:
            sent.append(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                done.set()

        await app.asgi_app(scope, receive, send)

    asyncio.run(run())
    start = next(m for m in sent if m["type"] == "http.response.start")
    chunks = [m.get("body", b"") for m in sent if m["type"] == "http.response.body"]
    headers = [[k.decode("latin-1"), v.decode("latin-1")] for k, v in start.get("headers", [])]
    answer: Answer = {"status": str(start["status"]), "headers": headers, "body": b"".join(chunks)}
    if undeliverable is not None:
        answer["undeliverable"] = undeliverable
    elif environ.get("HTTP_TRANSFER_ENCODING", "").strip().lower() == "chunked" and not environ.get(
        "wsgi.input_terminated"
    ):
        # The WSGI side models a server that passes a chunked body on
        # without wsgi.input_terminated, which Werkzeug then reads as empty.
        answer["dechunked"] = True
    return answer


def main() -> None:
    apps: dict[str, t.Any] = {}
    captured = _Captured()
    out = sys.stdout
    for line in sys.stdin:
        cmd = json.loads(line)
        if cmd.get("cmd") == "hello":
            out.write(kitchen.describe() + "\n")
            out.flush()
            continue
        if cmd.get("cmd") == "quit":
            break
        variant = cmd["variant"]
        app = apps.get(variant)
        if app is None:
            app = apps[variant] = kitchen.create_app(variant)
            app.logger.handlers[:] = [captured]
            app.logger.propagate = False
        body = base64.b64decode(cmd["body"])
        environ = full_environ(cmd["environ"], body)
        captured.records.clear()
        answer: Answer = {"exc": None}
        try:
            if cmd.get("transport") == "asgi":
                if not hasattr(app, "asgi_app"):
                    answer = {"unsupported": "the app has no asgi_app"}
                else:
                    answer.update(call_asgi(app, environ, body))
            else:
                answer.update(call_wsgi(app, environ))
        except BaseException:  # noqa: B036 - everything that escapes is reported
            answer["exc"] = traceback.format_exc(limit=-8)
        answer["logged"] = "\n".join(captured.records) or None
        if "body" in answer:
            answer["body"] = base64.b64encode(answer["body"]).decode("ascii")
        out.write(json.dumps(answer) + "\n")
        out.flush()


if __name__ == "__main__":
    main()
