"""Status codes an app gives for Host header values (tests/test_hosts.py).

Runs in either implementation's venv: ``python hostprobe.py < request.json``
with ``{"hosts": [...], "configs": [...]}`` prints
``{config: {host: {route: status}}}`` as JSON. Each route reads the host a
different way: matching alone, ``url_for``, ``request.url`` and
``host_url``, a redirect, Werkzeug's slash redirect.
"""

from __future__ import annotations

import io
import json
import sys
import typing as t
import warnings

from flask import Blueprint
from flask import Flask
from flask import redirect
from flask import request
from flask import url_for

CONFIGS = ("default", "server_name", "trusted_hosts", "subdomains", "host_matching")
ROUTES = ("/plain", "/url", "/request-url", "/redirect", "/dir")


def create_app(config: str) -> Flask:
    kwargs: dict[str, t.Any] = {}
    if config == "subdomains":
        kwargs["subdomain_matching"] = True
    if config == "host_matching":
        kwargs.update(host_matching=True, static_host="localhost")
    app = Flask("hostprobe", **kwargs)
    if config in ("server_name", "subdomains"):
        app.config["SERVER_NAME"] = "localhost"
    if config == "trusted_hosts":
        app.config["TRUSTED_HOSTS"] = ["localhost", ".example.test", "my_service"]
    host = "<any>" if config == "host_matching" else None
    rule_kwargs: dict[str, t.Any] = {"host": host} if host else {}

    def plain(**_: t.Any) -> str:
        return "plain"

    extra: dict[str, t.Any] = {"any": "localhost"} if host else {}

    def url(**_: t.Any) -> str:
        return url_for("plain", _external=True, **extra)

    def request_url(**_: t.Any) -> str:
        return f"{request.url} {request.host_url} {request.host}"

    def do_redirect(**_: t.Any) -> t.Any:
        return redirect(url_for("plain", **extra))

    app.add_url_rule("/plain", "plain", plain, **rule_kwargs)
    app.add_url_rule("/url", "url", url, **rule_kwargs)
    app.add_url_rule("/request-url", "request_url", request_url, **rule_kwargs)
    app.add_url_rule("/redirect", "redirect", do_redirect, **rule_kwargs)
    app.add_url_rule("/dir/", "dir", plain, **rule_kwargs)
    if config == "subdomains":
        bp = Blueprint("api", __name__, subdomain="api")
        bp.add_url_rule("/bp", "bp", url)
        app.register_blueprint(bp)
    return app


def status(app: Flask, host: str | None, path: str) -> str:
    environ: dict[str, t.Any] = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": io.StringIO(),
    }
    if host is not None:
        environ["HTTP_HOST"] = host
    seen: list[str] = []
    try:
        b"".join(app(environ, lambda s, h, e=None: seen.append(s)))  # type: ignore[arg-type]
    except Exception as e:  # an exception escaping the app is reported as such
        return f"exception {e!r}"
    return seen[0][:3]


def probe(hosts: list[str | None], configs: t.Sequence[str] = CONFIGS) -> dict[str, dict[str, dict[str, str]]]:
    out: dict[str, dict[str, dict[str, str]]] = {}
    # Werkzeug warns when the Host does not end in SERVER_NAME; expected here.
    warnings.filterwarnings("ignore", "Current server name", UserWarning)
    for config in configs:
        app = create_app(config)
        app.logger.disabled = True
        out[config] = {
            json.dumps(host): {path: status(app, host, path) for path in ROUTES}
            for host in hosts
        }
    return out


if __name__ == "__main__":
    asked = json.load(sys.stdin)
    print(json.dumps(probe(asked["hosts"], asked.get("configs", CONFIGS))))
