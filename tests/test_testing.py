"""The test client, environ builder and CLI runner.

The first part drives them with small stand-ins for the application so the
protocols (base URL defaults, context preservation) are checked on their
own; the last part goes through a real :class:`flask.Flask`.
"""

from __future__ import annotations

import json
import typing as t

import click
import pytest
from werkzeug.test import EnvironBuilder as WerkzeugBuilder
from werkzeug.wrappers import Request
from werkzeug.wrappers import Response

from flask.testing import EnvironBuilder
from flask.testing import FlaskCliRunner
from flask.testing import FlaskClient


class LoudJSON:
    """A JSON provider that leaves a mark so we can tell it was used."""

    def dumps(self, obj: t.Any, **kwargs: t.Any) -> str:
        return json.dumps({"wrapped": obj}, **kwargs)

    def loads(self, s: str | bytes, **kwargs: t.Any) -> t.Any:
        return json.loads(s, **kwargs)


class Tracked:
    """A context manager that records how often it is entered and left."""

    def __init__(self, log: list[str], name: str) -> None:
        self.log = log
        self.name = name

    def __enter__(self) -> Tracked:
        self.log.append(f"+{self.name}")
        return self

    def __exit__(self, *exc: t.Any) -> None:
        self.log.append(f"-{self.name}")


class StubApp:
    """A WSGI app speaking the preserve-context protocol, like Flask does."""

    def __init__(self, **config: t.Any) -> None:
        self.config: dict[str, t.Any] = {
            "SERVER_NAME": None,
            "APPLICATION_ROOT": "/",
            "PREFERRED_URL_SCHEME": "http",
        }
        self.config.update(config)
        self.json = LoudJSON()
        self.log: list[str] = []
        self.seen: list[dict[str, t.Any]] = []
        self.count = 0

    def __call__(self, environ: dict[str, t.Any], start_response: t.Any) -> t.Any:
        self.count += 1
        self.seen.append(environ)
        request = Request(environ)
        preserve = environ.get("werkzeug.debug.preserve_context")
        if preserve is not None:
            preserve(Tracked(self.log, f"app{self.count}"))
            preserve(Tracked(self.log, f"req{self.count}"))
        if request.path == "/redirect":
            response = Response("", 302, {"Location": "/end"})
        else:
            response = Response(f"{request.url}|{request.remote_addr}")
        return response(environ, start_response)


def test_builder_base_url_from_config() -> None:
    app = StubApp(
        SERVER_NAME="example.org:8080",
        APPLICATION_ROOT="/root",
        PREFERRED_URL_SCHEME="https",
    )
    builder = EnvironBuilder(app, "/page", subdomain="api")  # type: ignore[arg-type]
    assert builder.base_url == "https://api.example.org:8080/root/"
    assert builder.script_root == "/root"
    assert builder.path == "/page"


def test_builder_defaults_to_localhost() -> None:
    builder = EnvironBuilder(StubApp())  # type: ignore[arg-type]
    assert builder.base_url == "http://localhost/"
    scheme = EnvironBuilder(StubApp(), url_scheme="https")  # type: ignore[arg-type]
    assert scheme.url_scheme == "https"


def test_builder_rejects_base_url_with_subdomain_or_scheme() -> None:
    for extra in ({"subdomain": "x"}, {"url_scheme": "https"}):
        with pytest.raises(AssertionError, match="Cannot pass"):
            EnvironBuilder(
                StubApp(), "/", base_url="http://a.test/", **extra  # type: ignore[arg-type]
            )


def test_builder_full_url_and_query() -> None:
    app = StubApp(APPLICATION_ROOT="/ignored")
    builder = EnvironBuilder(app, "https://shop.test:444/cart?item=3")  # type: ignore[arg-type]
    assert builder.url_scheme == "https"
    assert builder.host == "shop.test:444"
    assert builder.script_root == ""
    assert builder.path == "/cart"
    assert builder.query_string == "item=3"

    local = EnvironBuilder(StubApp(), "/find?q=a+b")  # type: ignore[arg-type]
    assert local.path == "/find"
    assert local.query_string == "q=a+b"


def test_builder_serializes_json_with_app_provider() -> None:
    builder = EnvironBuilder(StubApp(), json=[1, 2])  # type: ignore[arg-type]
    assert json.loads(builder.input_stream.read()) == {"wrapped": [1, 2]}  # type: ignore[union-attr]
    assert builder.content_type == "application/json"


def test_client_environ_base_defaults() -> None:
    app = StubApp()
    client = FlaskClient(app)
    assert client.environ_base["REMOTE_ADDR"] == "127.0.0.1"
    assert client.environ_base["HTTP_USER_AGENT"].startswith("Werkzeug/")
    assert client.get("/x").text == "http://localhost/x|127.0.0.1"
    client.environ_base["REMOTE_ADDR"] = "10.0.0.9"
    assert client.get("/x").text.endswith("|10.0.0.9")


def test_client_accepts_builder_environ_and_request() -> None:
    app = StubApp()
    client = FlaskClient(app)
    builder = EnvironBuilder(app, "/b")  # type: ignore[arg-type]
    assert client.open(builder).text == "http://localhost/b|127.0.0.1"
    environ = WerkzeugBuilder("/e").get_environ()
    client.environ_base["REMOTE_ADDR"] = "10.1.1.1"
    assert client.open(environ).text == "http://localhost/e|10.1.1.1"
    request = Request(WerkzeugBuilder("/r").get_environ())
    assert client.open(request).text.startswith("http://localhost/r|")
    builder.close()


def test_response_uses_app_json() -> None:
    app = StubApp()
    response = FlaskClient(app).get("/")
    assert response.json_module is app.json


def test_contexts_preserved_only_inside_with_block() -> None:
    app = StubApp()
    client = FlaskClient(app)
    client.get("/")
    assert "werkzeug.debug.preserve_context" not in app.seen[-1]
    assert app.log == []

    with client:
        client.get("/")
        assert app.log == ["+app2", "+req2"]
        client.get("/")
        # The previous request's contexts leave, newest first, before the
        # next request runs.
        assert app.log == ["+app2", "+req2", "-req2", "-app2", "+app3", "+req3"]
    assert app.log[-2:] == ["-req3", "-app3"]


def test_redirect_hops_keep_only_final_contexts() -> None:
    app = StubApp()
    client = FlaskClient(app)
    with client:
        response = client.get("/redirect", follow_redirects=True)
        assert response.request.path == "/end"
        assert app.log == ["+app2", "+req2"]
    assert app.log == ["+app2", "+req2", "-req2", "-app2"]


def test_client_cannot_nest() -> None:
    client = FlaskClient(StubApp())
    with client:
        with pytest.raises(RuntimeError, match="Cannot nest client invocations"):
            client.__enter__()
    # Usable again once the block ended.
    with client:
        pass


def test_session_transaction_requires_cookies() -> None:
    client = FlaskClient(StubApp(), use_cookies=False)
    with pytest.raises(TypeError, match="Cookies are disabled"):
        with client.session_transaction():
            pass


def test_cli_runner_uses_given_obj_and_app_cli() -> None:
    @click.group()
    def cli() -> None:
        pass

    @cli.command()
    @click.pass_obj
    def where(obj: t.Any) -> None:
        click.echo(f"obj={obj}")

    class CliApp:
        pass

    app = CliApp()
    app.cli = cli  # type: ignore[attr-defined]
    runner = FlaskCliRunner(app)  # type: ignore[arg-type]
    assert runner.app is app
    result = runner.invoke(args=["where"], obj="given")
    assert result.output == "obj=given\n"
    result = runner.invoke(where, obj="direct")
    assert result.output == "obj=direct\n"


# Through the real application.


@pytest.fixture
def app() -> t.Any:
    import flask

    app = flask.Flask(__name__)
    app.testing = True
    app.secret_key = "testing key"
    return app


def test_session_transaction_round_trip(app: t.Any) -> None:
    import flask

    @app.get("/")
    def show() -> str:
        return repr(sorted(flask.session.items()))

    client = app.test_client()
    with client.session_transaction() as sess:
        assert len(sess) == 0
        sess["cart"] = [1, 2]
    assert client.get("/").text == "[('cart', [1, 2])]"
    with client.session_transaction() as sess:
        assert sess["cart"] == [1, 2]
        sess.clear()
    assert client.get("/").text == "[]"


def test_session_transaction_without_secret_key() -> None:
    import flask

    client = flask.Flask(__name__).test_client()
    with pytest.raises(RuntimeError, match="did not open a session"):
        with client.session_transaction():
            pass


def test_with_client_keeps_request_and_g(app: t.Any) -> None:
    import flask

    @app.get("/who")
    def who() -> str:
        flask.g.seen = flask.request.args["name"]
        flask.session["name"] = flask.request.args["name"]
        return ""

    client = app.test_client()
    with client:
        client.get("/who?name=ada")
        assert flask.request.path == "/who"
        assert flask.g.seen == "ada"
        assert flask.session["name"] == "ada"
    assert not flask.has_request_context()


def test_cli_runner_defaults_to_app_cli(app: t.Any) -> None:
    import flask

    @app.cli.command("whoami")
    def whoami() -> None:
        click.echo(flask.current_app.name)

    runner = app.test_cli_runner()
    assert isinstance(runner, FlaskCliRunner)
    assert runner.invoke(args=["whoami"]).output == f"{app.name}\n"
