"""Tools for exercising an application in tests without a server.

:class:`FlaskClient` sends requests through the WSGI app, :class:`EnvironBuilder`
builds request environments from the app's configuration and
:class:`FlaskCliRunner` runs the app's CLI commands in isolation.
"""

from __future__ import annotations

import importlib.metadata
import os
import typing as t
from contextlib import closing
from contextlib import contextmanager
from contextlib import ExitStack
from functools import lru_cache

import werkzeug.test
from click.testing import CliRunner
from click.testing import Result
from werkzeug.datastructures import Headers
from werkzeug.test import Client
from werkzeug.wrappers import Request as BaseRequest

from ._accel.testclient import add_cookies
from ._accel.testclient import has_jar
from ._accel.testclient import update_cookies
from .asgi.ws_testing import WebSocketRejected as WebSocketRejected
from .asgi.ws_testing import WebSocketTestSession
from .background import ClosingBody
from .background import propagates
from .background import TESTING_KEY as BACKGROUND_KEY
# ScriptInfo's own module, not the flask.cli package, which loads the whole
# command line (and Werkzeug's server) for one class.
from .discovery import ScriptInfo
from .environ import EnvironBuilder as EnvironBuilder
from .pipeline import PRESERVE_CONTEXT_KEY
from .sessions import SessionMixin

if t.TYPE_CHECKING:  # pragma: no cover
    from werkzeug.test import TestResponse

    from .app import Flask



@lru_cache(maxsize=None)
def _werkzeug_version() -> str:
    return importlib.metadata.version("werkzeug")


class FlaskClient(Client):
    """The client returned by :meth:`Flask.test_client`.

    Used as a context manager (``with client:``), the contexts of the last
    request stay pushed until the next request or the end of the block, so
    ``request``, ``session`` and ``g`` can be inspected afterwards.
    """

    application: Flask

    def __init__(self, *args: t.Any, asgi: bool | None = None, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        #: Send requests through ``app.asgi_app`` instead of the WSGI app;
        #: by default when the ``FLASK_TEST_ASGI`` environment variable is
        #: set (not "0"), so a whole test suite can run over ASGI.
        self.asgi = os.environ.get("FLASK_TEST_ASGI", "0") not in ("", "0") if asgi is None else asgi
        self.preserve_context = False
        self._new_contexts: list[t.ContextManager[t.Any]] = []
        # The bodies of this request that carry background tasks.
        self._background: list[ClosingBody] = []
        self._context_stack = ExitStack()
        self.environ_base: dict[str, t.Any] = {
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_USER_AGENT": f"Werkzeug/{_werkzeug_version()}",
        }

    @contextmanager
    def session_transaction(
        self, *args: t.Any, **kwargs: t.Any
    ) -> t.Iterator[SessionMixin]:
        """Open the session the next request would see, for reading or
        changing it; the changes are stored back in the client's cookies
        when the block ends. Arguments go to :meth:`Flask.test_request_context`."""
        if not has_jar(self):
            raise TypeError(
                "Cookies are disabled. Create a client with 'use_cookies=True'."
            )
        app = self.application
        interface = app.session_interface
        ctx = app.test_request_context(*args, **kwargs)
        add_cookies(self, ctx.request.environ)

        with ctx:
            sess = interface.open_session(app, ctx.request)

        if sess is None:
            raise RuntimeError(
                "Session backend did not open a session. Check the configuration"
            )

        yield sess

        response = app.response_class()
        if interface.is_null_session(sess):
            return

        with ctx:
            interface.save_session(app, sess, response)

        update_cookies(
            self,
            ctx.request.host.partition(":")[0],
            ctx.request.path,
            response.headers.getlist("Set-Cookie"),
        )

    def _copy_environ(self, other: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
        """``environ_base`` updated with ``other``, plus the hook that hands
        the request's contexts back when they are preserved. Flask-SocketIO's
        test client relies on this name."""
        out = {**self.environ_base, **other}
        out[BACKGROUND_KEY] = self._background.append
        if self.preserve_context:
            out[PRESERVE_CONTEXT_KEY] = self._new_contexts.append
        return out

    def _request_from_builder_args(
        self, args: tuple[t.Any, ...], kwargs: dict[str, t.Any]
    ) -> BaseRequest:
        """The request :meth:`open` would send for ``EnvironBuilder``
        arguments, with this client's environ defaults. Flask-SocketIO's
        test client calls it to open a connection like a page request."""
        kwargs["environ_base"] = self._copy_environ(kwargs.get("environ_base") or {})
        with closing(EnvironBuilder(self.application, *args, **kwargs)) as builder:
            return builder.get_request()

    def _request_from(
        self, args: tuple[t.Any, ...], kwargs: dict[str, t.Any]
    ) -> BaseRequest:
        if not kwargs and len(args) == 1:
            arg = args[0]
            if isinstance(arg, werkzeug.test.EnvironBuilder):
                builder = arg
                builder.environ_base = self._copy_environ(builder.environ_base or {})
                return builder.get_request()
            if isinstance(arg, dict):
                from_environ = werkzeug.test.EnvironBuilder.from_environ
                base = self._copy_environ({})
                with closing(from_environ(arg, environ_base=base)) as builder:
                    return builder.get_request()
            if isinstance(arg, BaseRequest):
                if self.preserve_context:
                    arg.environ[PRESERVE_CONTEXT_KEY] = self._new_contexts.append
                return arg
        return self._request_from_builder_args(args, kwargs)

    def open(
        self,
        *args: t.Any,
        buffered: bool = False,
        follow_redirects: bool = False,
        **kwargs: t.Any,
    ) -> TestResponse:
        """Send a request; accepts the arguments of :class:`EnvironBuilder`,
        or a single builder, environ dict or request object."""
        # Contexts kept from the previous request must go before this one
        # pushes its own; leftovers from redirect hops are simply dropped.
        self._context_stack.close()
        self._new_contexts.clear()
        self._background.clear()

        request = self._request_from(args, kwargs)
        response = super().open(
            request, buffered=buffered, follow_redirects=follow_redirects
        )
        if self._background:
            self._finish_background(response)
        response.json_module = self.application.json  # type: ignore[assignment]  # Werkzeug only calls its loads(), which the provider has

        # The app handed over its contexts just before popping them; push
        # them again so the test can look at them.
        while self._new_contexts:
            self._context_stack.enter_context(self._new_contexts.pop(0))

        return response

    def _finish_background(self, response: TestResponse) -> None:
        """The request added background tasks: read and close the body
        (which starts them), wait for them, and raise the first error when
        the app propagates exceptions (as for a view's)."""
        response.get_data()
        response.close()
        first = None
        for body in self._background:
            body.close()  # a no-op when the response closed it
            first = first or body.wait()
        self._background.clear()
        if first is not None and propagates(self.application):
            raise first

    def run_wsgi_app(
        self, environ: dict[str, t.Any], buffered: bool = False
    ) -> tuple[t.Iterable[bytes], str, Headers]:
        if not self.asgi or not hasattr(self.application, "asgi_app"):
            # Not a Flask app: there is only WSGI to speak.
            return super().run_wsgi_app(environ, buffered)
        from .asgi.testing import run_asgi_app

        return run_asgi_app(self, environ)

    def websocket(self, path: str, **kwargs: t.Any) -> WebSocketTestSession:
        """A WebSocket connection to ``path`` for a ``with`` block, sending
        this client's cookies; see :class:`flask.asgi.ws_testing.WebSocketTestSession`.

        .. beyond-flask:: The WebSocket test session.
        """
        return WebSocketTestSession(self, path, **kwargs)

    def __enter__(self) -> FlaskClient:
        # Setting the flag again when it is already set changes nothing, so
        # a nested block can be refused after the assignment.
        nested, self.preserve_context = self.preserve_context, True
        if nested:
            raise RuntimeError("Cannot nest client invocations")
        return self

    def __exit__(self, exc_type: t.Any, exc_value: t.Any, tb: t.Any) -> None:
        # Popping the kept contexts runs teardown functions, which may raise;
        # the client is usable again either way.
        try:
            self._context_stack.close()
        finally:
            self.preserve_context = False


class FlaskCliRunner(CliRunner):
    """A Click :class:`~click.testing.CliRunner` bound to an application,
    returned by :meth:`Flask.test_cli_runner`."""

    def __init__(self, app: Flask, **kwargs: t.Any) -> None:
        self.app = app
        super().__init__(**kwargs)

    def invoke(  # type: ignore[override]  # cli is optional: the app's group
        self, cli: t.Any = None, args: t.Any = None, **kwargs: t.Any
    ) -> Result:
        """Run ``cli`` (the app's ``flask`` command group by default) with
        ``args``; ``obj`` defaults to a :class:`~flask.cli.ScriptInfo` that
        loads this app."""
        command = self.app.cli if cli is None else cli
        if "obj" not in kwargs:
            kwargs["obj"] = ScriptInfo(create_app=lambda: self.app)
        return super().invoke(command, args, **kwargs)
