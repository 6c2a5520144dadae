"""Hooks, sessions and teardown on the request path (flask.pipeline):
the shortcuts that skip work nobody asked for (a hook scope looked up once
per rule, an untouched session left unopened, a teardown skipped when
nothing listens) are taken, and the answers and errors stay Flask's.
"""

from __future__ import annotations

import json
import typing as t

import pytest
from werkzeug.test import EnvironBuilder

import flask
from flask import sessions
from statuses import status_line


Answer = tuple[str, list[tuple[str, str]], bytes]


def call(app: t.Any, path: str, method: str = "GET", **kw: t.Any) -> Answer:
    environ = EnvironBuilder(path=path, method=method, **kw).get_environ()
    seen: list[t.Any] = []
    body = b"".join(app(environ, lambda s, h, e=None: seen.append((s, list(h)))))
    return seen[0][0], seen[0][1], body


def werkzeug_answer(response: t.Any, path: str = "/", method: str = "GET") -> Answer:
    """What a plain Werkzeug response object sends for the same request."""
    return call(response, path, method)


def make_app() -> flask.Flask:
    app = flask.Flask(__name__)

    @app.route("/text")
    def text() -> str:
        return "héllo <b>"

    @app.route("/data/<int:n>")
    def data(n: int) -> dict[str, t.Any]:
        return {"n": n, "z": [1, 2], "a": "ü"}

    @app.post("/only-post")
    def only_post() -> str:
        return "posted"

    return app


def make_session_app() -> flask.Flask:
    app = flask.Flask(__name__)
    app.secret_key = "shortcuts"

    @app.route("/set/<v>")
    def set_value(v: str) -> str:
        flask.session["v"] = v
        return "ok"

    @app.route("/get")
    def get_value() -> str:
        return str(flask.session.get("v"))

    return app


def test_hook_scopes_are_found_once_per_rule() -> None:
    app = flask.Flask(__name__)
    bp = flask.Blueprint("bp", __name__)
    ran: list[str] = []
    bp.before_request(lambda: ran.append("bp") and None)
    app.before_request(lambda: ran.append("app") and None)
    bp.add_url_rule("/b", "b", lambda: "b")
    app.register_blueprint(bp)
    assert call(app, "/b")[2] == b"b"
    assert ran == ["app", "bp"]
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == "bp.b")
    assert rule.__dict__["_flask_scopes"] == (None, "bp")
    # The remembered scopes are what the next request uses.
    rule._flask_scopes = (None,)  # type: ignore[attr-defined]
    ran.clear()
    call(app, "/b")
    assert ran == ["app"]


def spy_open_session(app: flask.Flask, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    opened: list[str] = []
    interface = app.session_interface
    real = interface.open_session

    def spy(app: flask.Flask, request: flask.Request) -> t.Any:
        opened.append(request.path)
        return real(app, request)

    monkeypatch.setattr(interface, "open_session", spy)
    return opened


@pytest.mark.parametrize(
    ("cookie", "opened"),
    [(None, False), ("other=1", False), ("session=junk", True)],
)
def test_an_untouched_session_is_opened_only_for_a_session_cookie(
    cookie: str | None, opened: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_session_app()
    app.add_url_rule("/plain", "plain", lambda: "plain")
    seen = spy_open_session(app, monkeypatch)
    headers = {"Cookie": cookie} if cookie else {}
    status, sent, body = call(app, "/plain", headers=headers)
    assert (status, body) == ("200 OK", b"plain")
    assert not any(k in ("Set-Cookie", "Vary") for k, _ in sent)
    assert seen == (["/plain"] if opened else [])


def test_teardown_is_skipped_when_nothing_listens(seams: t.Any) -> None:
    torn: list[t.Any] = []
    real = seams.get("teardown")

    def spy(app: t.Any, run: t.Any, funcs: t.Any, signal: t.Any, exc: t.Any) -> t.Any:
        torn.append(signal.name)
        return real(app, run, funcs, signal, exc)

    seams.replace("teardown", spy)
    call(make_app(), "/text")
    assert torn == []
    app = make_app()
    app.teardown_request(lambda exc: None)
    app.teardown_appcontext(lambda exc: None)
    call(app, "/text")
    assert torn == ["request-tearing-down", "appcontext-tearing-down"]


@pytest.mark.parametrize("error", [KeyboardInterrupt, SystemExit, GeneratorExit])
def test_base_exceptions_from_a_view_propagate_unchanged(error: type[BaseException]) -> None:
    app = flask.Flask(__name__)
    torn: list[t.Any] = []
    app.teardown_request(lambda exc: torn.append(type(exc)))

    @app.route("/")
    def view() -> str:
        raise error("stop")

    environ = EnvironBuilder().get_environ()
    with pytest.raises(error):
        app(environ, lambda s, h, e=None: None)
    # The contexts are still torn down, told of the error.
    assert torn == [error]


def test_the_test_client_keeps_the_last_requests_contexts() -> None:
    app = make_app()
    with app.test_client() as client:
        assert client.get("/text?x=1").status_code == 200
        assert flask.request.args["x"] == "1"
        assert flask.current_app._get_current_object() is app  # type: ignore[attr-defined]
    assert not flask.has_request_context()


@pytest.mark.parametrize("ignore", [True, False])
def test_ignored_errors_are_not_passed_to_teardown(ignore: bool) -> None:
    asked: list[t.Any] = []

    class App(flask.Flask):
        def should_ignore_error(self, error: BaseException | None) -> bool:
            asked.append(type(error))
            return ignore

    app = App(__name__)
    app.add_url_rule("/fine", "fine", lambda: "fine")
    torn: list[t.Any] = []
    app.teardown_request(lambda exc: torn.append(exc))
    app.teardown_appcontext(lambda exc: torn.append(exc))

    @app.route("/")
    def view() -> str:
        raise LookupError("failed")

    assert call(app, "/fine")[0] == "200 OK"
    torn.clear()
    assert call(app, "/")[0] == status_line(500)
    assert [type(exc) for exc in torn] == ([type(None)] * 2 if ignore else [LookupError] * 2)
    # Asked only about a real error, as Flask does.
    assert asked == [LookupError]


def test_a_json_provider_subclass_makes_dict_responses() -> None:
    from flask.json.provider import DefaultJSONProvider

    class Stamped(DefaultJSONProvider):
        def response(self, *args: t.Any, **kwargs: t.Any) -> flask.Response:
            response = super().response(*args, **kwargs)
            response.headers["X-Provider"] = "stamped"
            return response

    app = make_app()
    app.json = Stamped(app)
    status, headers, body = call(app, "/data/2")
    assert ("X-Provider", "stamped") in headers
    assert json.loads(body) == {"n": 2, "z": [1, 2], "a": "ü"}


def test_a_custom_session_interface_saves_on_plain_answers() -> None:
    saved: list[dict[str, t.Any]] = []

    class Memory(sessions.SessionInterface):
        def open_session(self, app: flask.Flask, request: flask.Request) -> t.Any:
            return sessions.SecureCookieSession({"seen": request.path})

        def save_session(self, app: flask.Flask, session: t.Any, response: flask.Response) -> None:
            saved.append(dict(session))
            response.headers["X-Saved"] = "1"

    app = make_app()
    app.session_interface = Memory()
    for path, status in (("/text", "200 OK"), ("/data/1", "200 OK"), ("/missing", status_line(404))):
        answer = call(app, path)
        assert answer[0] == status
        assert ("X-Saved", "1") in answer[1], path
    assert saved == [{"seen": "/text"}, {"seen": "/data/1"}, {"seen": "/missing"}]


def test_a_before_request_hook_that_returns_ends_the_request() -> None:
    app = make_app()
    ran: list[str] = []

    @app.before_request
    def first() -> str | None:
        ran.append("first")
        return "stopped" if flask.request.args.get("stop") else None

    @app.before_request
    def second() -> None:
        ran.append("second")

    assert call(app, "/text?stop=1")[0::2] == ("200 OK", b"stopped")
    assert ran == ["first"]
    ran.clear()
    assert call(app, "/text")[2] == "héllo <b>".encode()
    assert ran == ["first", "second"]


def test_without_a_cookie_header_cookies_are_never_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(self: flask.Request) -> t.NoReturn:
        raise AssertionError("request.cookies was built")

    app = make_session_app()
    app.add_url_rule("/plain", "plain", lambda: "plain")
    monkeypatch.setattr(flask.Request, "cookies", property(forbidden))
    assert call(app, "/plain")[0::2] == ("200 OK", b"plain")


def test_automatic_options_only_for_rules_that_want_them() -> None:
    app = flask.Flask(__name__)

    @app.route("/own", methods=["GET", "OPTIONS"], provide_automatic_options=False)
    def own() -> str:
        return f"own {flask.request.method}"

    app.add_url_rule("/auto", "auto", lambda: "auto")
    assert call(app, "/own", "OPTIONS")[0::2] == ("200 OK", b"own OPTIONS")
    status, headers, body = call(app, "/auto", "OPTIONS")
    assert (status, body) == ("200 OK", b"")
    assert sorted(dict(headers)["Allow"].split(", ")) == ["GET", "HEAD", "OPTIONS"]


def test_a_failing_after_request_hook_ends_in_a_logged_500(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from werkzeug.exceptions import InternalServerError

    app = make_app()

    @app.after_request
    def broken(response: flask.Response) -> flask.Response:
        raise RuntimeError("hook failed")

    with caplog.at_level("ERROR"):
        answer = call(app, "/text")
    assert answer == werkzeug_answer(InternalServerError().get_response())
    messages = [record.getMessage() for record in caplog.records]
    # Once as the request's error, once while finalizing its error page.
    assert "Request finalizing failed with an error while handling an error" in messages


def test_teardown_signals_are_sent_without_teardown_functions() -> None:
    app = make_app()
    sent: list[str] = []

    def request_down(sender: flask.Flask, exc: t.Any = None, **kw: t.Any) -> None:
        sent.append("request")

    def app_down(sender: flask.Flask, exc: t.Any = None, **kw: t.Any) -> None:
        sent.append("app")

    with flask.request_tearing_down.connected_to(request_down, app), flask.appcontext_tearing_down.connected_to(app_down, app):
        call(app, "/text")
    assert sent == ["request", "app"]


class FromTeardown(Exception):
    pass


class FromSignal(Exception):
    pass


@pytest.mark.parametrize("failing", [("func",), ("signal",), ("func", "signal")])
def test_a_failing_teardown_runs_the_rest_and_raises_the_first_error(failing: tuple[str, ...]) -> None:
    app = make_app()
    ran: list[str] = []

    @app.teardown_request
    def teardown(exc: t.Any) -> None:
        ran.append("func")
        if "func" in failing:
            raise FromTeardown()

    def receiver(sender: flask.Flask, exc: t.Any = None, **kw: t.Any) -> None:
        ran.append("signal")
        if "signal" in failing:
            raise FromSignal()

    expected = FromTeardown if "func" in failing else FromSignal
    with flask.request_tearing_down.connected_to(receiver, app):
        with pytest.raises(expected):
            call(app, "/text")
    assert ran == ["func", "signal"]
