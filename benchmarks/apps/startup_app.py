"""Start-up as a user feels it: run as a whole process by `make bench`.

Imports flask, creates the app, registers 30 routes (10 static, 20 with
converters, some for POST), answers one request by calling the WSGI app
directly, and prints the status and body. The same file runs unchanged on
our Flask and on Pallets Flask; run.py times the process from start to exit
and checks that both print the same thing.
"""

from __future__ import annotations

import io
import sys
import typing as t

from flask import Flask
from flask import jsonify
from flask import request

app = Flask(__name__)

_STATIC = ("/", "/about", "/contact", "/blog", "/pricing", "/docs", "/login", "/logout",
           "/api/status", "/api/version")
_DYNAMIC = (
    "/user/<int:user_id>",
    "/user/<int:user_id>/posts",
    "/user/<username>/profile",
    "/post/<int:post_id>",
    "/post/<slug>/comments",
    "/blog/<int:year>/<int:month>/<slug>",
    "/tag/<name>",
    "/files/<path:subpath>",
    "/api/items/<int:item_id>",
    "/api/items/<int:item_id>/edit",
    "/api/orders/<uuid:order_id>",
    "/api/orders/<int:order_id>/lines/<int:line>",
    "/api/search/<query>",
    "/shop/<category>/<int:product_id>",
    "/shop/<category>/<int:product_id>/reviews",
    "/admin/users/<int:user_id>",
    "/admin/users/<int:user_id>/roles/<role>",
    "/admin/settings/<section>",
    "/feed/<any(rss, atom):kind>",
    "/price/<float:amount>",
)


def _make_view(i: int) -> t.Callable[..., t.Any]:
    def view(**values: t.Any) -> t.Any:
        return jsonify(route=i, method=request.method, values={k: str(v) for k, v in values.items()})

    return view


for _i, _rule in enumerate(_STATIC + _DYNAMIC):
    app.add_url_rule(
        _rule,
        endpoint=f"route_{_i}",
        view_func=_make_view(_i),
        methods=["GET", "POST"] if _i % 4 == 0 else ["GET"],
    )


def _start_response(status: str, headers: list[tuple[str, str]], exc_info: t.Any = None) -> t.Any:
    print(status)
    return None


environ = {
    "REQUEST_METHOD": "GET",
    "SCRIPT_NAME": "",
    "PATH_INFO": "/user/42",
    "QUERY_STRING": "",
    "SERVER_NAME": "localhost",
    "SERVER_PORT": "80",
    "SERVER_PROTOCOL": "HTTP/1.1",
    "HTTP_HOST": "localhost",
    "wsgi.version": (1, 0),
    "wsgi.url_scheme": "http",
    "wsgi.input": io.BytesIO(b""),
    "wsgi.errors": sys.stderr,
    "wsgi.multithread": False,
    "wsgi.multiprocess": False,
    "wsgi.run_once": False,
}
body = app(environ, _start_response)
try:
    print(b"".join(body).decode())
finally:
    getattr(body, "close", lambda: None)()
