"""A bare WSGI callable: the floor any framework's overhead is measured from."""

from __future__ import annotations

import json
import typing as t

_HELLO = b"Hello, World!"
_NOT_FOUND = b"Not Found"


def app(environ: dict[str, t.Any], start_response: t.Callable[..., t.Any]) -> list[bytes]:
    path = environ.get("PATH_INFO", "/")
    if path == "/":
        body = _HELLO
        ctype = "text/html; charset=utf-8"
    elif path.startswith("/user/") and path[6:].isdigit():
        uid = int(path[6:])
        body = json.dumps({"id": uid, "name": f"user{uid}", "active": True}).encode()
        ctype = "application/json"
    else:
        start_response("404 NOT FOUND", [("Content-Type", "text/plain"), ("Content-Length", "9")])
        return [_NOT_FOUND]
    start_response("200 OK", [("Content-Type", ctype), ("Content-Length", str(len(body)))])
    return [body]
