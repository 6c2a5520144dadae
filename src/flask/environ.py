"""The test environ builder with the application's defaults, public as
:class:`flask.testing.EnvironBuilder`.

Its own module, below :mod:`flask.testing`: the test client
(:mod:`flask.testing`) and the WebSocket test session
(:mod:`flask.asgi.ws_testing`, which the client's module imports) both build
environs with it.
"""

from __future__ import annotations

import typing as t
from urllib.parse import urlsplit

import werkzeug.test

if t.TYPE_CHECKING:  # pragma: no cover
    from .app import Flask


class EnvironBuilder(werkzeug.test.EnvironBuilder):
    """A Werkzeug :class:`~werkzeug.test.EnvironBuilder` that takes its
    defaults from the application.

    Without ``base_url``, the URL is built from ``PREFERRED_URL_SCHEME`` (or
    ``url_scheme``), ``subdomain``, ``SERVER_NAME`` (``localhost`` when
    unset) and ``APPLICATION_ROOT``. A ``path`` that is a full URL supplies
    its own scheme and host. JSON bodies are serialized with ``app.json``.
    """

    def __init__(
        self,
        app: Flask,
        path: str = "/",
        base_url: str | None = None,
        subdomain: str | None = None,
        url_scheme: str | None = None,
        *args: t.Any,
        **kwargs: t.Any,
    ) -> None:
        if base_url is not None and (subdomain or url_scheme):
            raise AssertionError(
                'Cannot pass "subdomain" or "url_scheme" with "base_url".'
            )
        # Set first: the base class serializes ``json=`` during __init__.
        self.app = app

        if base_url is None:
            parts = urlsplit(path)
            if parts.scheme or parts.netloc:
                # A full URL names its own server; the app's root is not used.
                base_url = f"{parts.scheme or 'http'}://{parts.netloc}/"
                path = parts.path or "/"
                if parts.query:
                    path = f"{path}?{parts.query}"
            else:
                base_url = self._app_base_url(app, subdomain, url_scheme)

        super().__init__(path, base_url, *args, **kwargs)

    @staticmethod
    def _app_base_url(app: Flask, subdomain: str | None, url_scheme: str | None) -> str:
        config = app.config
        host = config.get("SERVER_NAME") or "localhost"
        if subdomain:
            host = f"{subdomain}.{host}"
        scheme = url_scheme or config.get("PREFERRED_URL_SCHEME") or "http"
        root = (config.get("APPLICATION_ROOT") or "/").lstrip("/")
        return f"{scheme}://{host}/{root}"

    def json_dumps(self, obj: t.Any, **kwargs: t.Any) -> str:
        """Serialize ``obj`` with the application's JSON provider."""
        return self.app.json.dumps(obj, **kwargs)
