"""The test clients' shared cookie jar (a bridge, see :mod:`flask._accel`).

``werkzeug.test.Client`` keeps its cookie jar private, and the ASGI and
WebSocket clients and ``session_transaction`` must read and fill that same
jar, as Pallets Flask's ``session_transaction`` does.
"""

from __future__ import annotations

import typing as t

from werkzeug.test import Client

_OFF = (
    "the test client's cookie jar is unavailable: the 'test-client-cookies' "
    "shortcut is off (the 'flask.shortcuts' log says why)"
)


def has_jar(client: Client) -> bool:
    """Whether the client keeps cookies (``use_cookies=True``)."""
    return getattr(client, "_cookies", None) is not None


def add_cookies(client: Client, environ: dict[str, t.Any]) -> None:
    """Put the jar's cookies for ``environ``'s URL into its Cookie header."""
    from . import enabled

    if not enabled("test-client-cookies"):
        raise RuntimeError(_OFF)
    client._add_cookies_to_wsgi(environ)


def update_cookies(client: Client, host: str, path: str, headers: list[str]) -> None:
    """Store the ``Set-Cookie`` values of a response in the jar."""
    from . import enabled

    if not enabled("test-client-cookies"):
        raise RuntimeError(_OFF)
    client._update_cookies_from_response(host, path, headers)


def check_cookies() -> str | None:
    """The jar's private methods still do what the bridge needs."""
    client = Client(lambda environ, start_response: [])
    for name in ("_add_cookies_to_wsgi", "_update_cookies_from_response"):
        if not callable(getattr(client, name, None)):
            return f"werkzeug.test.Client has no {name}"
    if not has_jar(client):
        return "werkzeug.test.Client keeps no _cookies jar"
    client._update_cookies_from_response("localhost", "/", ["k=v; Path=/"])
    environ: dict[str, t.Any] = {
        "HTTP_HOST": "localhost", "PATH_INFO": "/", "SERVER_NAME": "localhost",
        "SERVER_PORT": "80", "wsgi.url_scheme": "http",
    }
    client._add_cookies_to_wsgi(environ)
    cookie = client.get_cookie("k")
    if cookie is None or cookie.value != "v" or environ.get("HTTP_COOKIE") != "k=v":
        return "the jar did not round-trip a cookie"
    return None
