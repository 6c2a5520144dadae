"""WebSocket routes (flask.websockets) through the test client.

Expected values come from outside our code: Werkzeug's own matcher and URL
building, RFC 6455's close codes (1000 normal, 1008 policy violation, 1009
message too big, 1011 internal error), the standard ``json`` module, and
ASGI's message formats.
"""

from __future__ import annotations

import json
import logging
import threading

import pytest
from werkzeug.routing import Map
from werkzeug.routing import Rule
from werkzeug.routing.matcher import StateMachineMatcher

import flask
from flask import Blueprint
from flask import abort
from flask import g
from flask import session
from flask import websocket
from flask.testing import WebSocketRejected
from flask.websockets import SyncWebSocket
from flask.websockets import WebSocketDisconnect

RFC6455_NORMAL = 1000
RFC6455_POLICY = 1008
RFC6455_TOO_BIG = 1009
RFC6455_INTERNAL = 1011


@pytest.fixture
def app() -> flask.Flask:
    app = flask.Flask(__name__)
    app.secret_key = "test key"
    return app


def echo_forever_async():
    async def echo() -> None:
        while True:
            await websocket.send(await websocket.receive())

    return echo


# -- routing -------------------------------------------------------------------


def test_converters_and_handshake_fields(app):
    @app.websocket("/ws/<int:room>/<name>")
    async def chat(room, name):
        await websocket.send_json(
            {
                "room": room,
                "name": name,
                "path": websocket.path,
                "args": websocket.args.to_dict(),
                "view_args": websocket.view_args,
                "header": websocket.headers.get("X-Test"),
                "remote": websocket.remote_addr,
                "scheme": websocket.scheme,
                "endpoint": websocket.endpoint,
            }
        )

    with app.test_client().websocket("/ws/7/ann?x=1", headers={"X-Test": "yes"}) as ws:
        got = json.loads(ws.receive())
    assert got == {
        "room": 7,
        "name": "ann",
        "path": "/ws/7/ann",
        "args": {"x": "1"},
        "view_args": {"room": 7, "name": "ann"},
        "header": "yes",
        "remote": "127.0.0.1",
        "scheme": "ws",
        "endpoint": "chat",
    }


def test_handshake_arguments_win_over_the_client_defaults(app):
    """As for ``client.get``: a header or ``environ_base`` the test passes
    is sent, not replaced by the client's own ``environ_base``."""

    @app.websocket("/ws")
    async def who() -> None:
        await websocket.send(f"{websocket.headers['User-Agent']} {websocket.remote_addr}")

    client = app.test_client()
    handshake = {"headers": {"User-Agent": "mine"}, "environ_base": {"REMOTE_ADDR": "10.0.0.1"}}
    with client.websocket("/ws", **handshake) as ws:
        assert ws.receive() == "mine 10.0.0.1"
    with client.websocket("/ws") as ws:
        assert ws.receive().endswith(" 127.0.0.1")


def test_converter_mismatch_is_404(app):
    app.websocket("/ws/<int:room>")(echo_forever_async())
    with pytest.raises(WebSocketRejected) as info:
        with app.test_client().websocket("/ws/abc"):
            pass
    assert info.value.status == 404


def test_blueprint_prefix_subdomain_and_url_for():
    app = flask.Flask(__name__, subdomain_matching=True)
    app.config["SERVER_NAME"] = "example.test"
    bp = Blueprint("chat", __name__, url_prefix="/chat", subdomain="live")

    @bp.websocket("/<room>")
    async def room(room):
        await websocket.send(flask.url_for(".room", room=room, _external=True))

    app.register_blueprint(bp)
    with app.test_client().websocket("/chat/lobby", subdomain="live") as ws:
        built = ws.receive()
    # Werkzeug builds the same URL for a websocket rule on its own map.
    m = Map([Rule("/chat/<room>", endpoint="r", subdomain="live", websocket=True)])
    expected = m.bind("example.test", url_scheme="http").build("r", {"room": "lobby"}, force_external=True)
    assert built == expected == "ws://live.example.test/chat/lobby"
    with pytest.raises(WebSocketRejected) as info:
        with app.test_client().websocket("/chat/lobby"):
            pass
    assert info.value.status == 404


def test_http_and_websocket_rules_on_one_path(app):
    @app.get("/room")
    def page():
        return "page"

    @app.websocket("/room")
    async def room_ws():
        await websocket.send("socket")

    client = app.test_client()
    assert client.get("/room").data == b"page"
    with client.websocket("/room") as ws:
        assert ws.receive() == "socket"


def test_http_never_matches_a_websocket_rule(app):
    app.websocket("/ws")(echo_forever_async())
    client = app.test_client()
    rv = client.get("/ws")
    assert rv.status_code == 400
    assert b"WebSocket endpoint" in rv.data
    # Werkzeug's own adapter agrees there is no HTTP match.
    from werkzeug.routing.exceptions import WebsocketMismatch

    with pytest.raises(WebsocketMismatch):
        app.url_map.bind("localhost").match("/ws", websocket=False)


def test_websocket_never_matches_an_http_rule(app):
    @app.get("/page")
    def page():
        return "page"

    with pytest.raises(WebSocketRejected) as info:
        with app.test_client().websocket("/page"):
            pass
    assert 400 <= info.value.status < 500


@pytest.mark.parametrize(
    "path", ["/ws", "/ws/", "/ws/5", "/ws/5/x", "/ws/a/b/c", "/other/5", "/mixed/9", "/nope"]
)
@pytest.mark.parametrize("websocket_flag", [True, False])
def test_fast_matcher_agrees_with_werkzeug(app, path, websocket_flag):
    app.websocket("/ws")(echo_forever_async())
    app.add_url_rule("/ws/<int:n>", "n", lambda n: "", websocket=True, methods=["GET"])
    app.add_url_rule("/ws/<int:n>/<path:rest>", "rest", lambda n, rest: "", websocket=True, methods=["GET"])
    app.add_url_rule("/other/<int:n>", "other", lambda n: "")
    app.add_url_rule("/mixed/<int:n>", "mixed_http", lambda n: "")
    app.add_url_rule("/mixed/<int:n>", "mixed_ws", lambda n: "", websocket=True, methods=["GET"])
    app.url_map.update()

    def outcome(matcher):
        try:
            rule, values = matcher.match("", path, "GET", websocket_flag)
        except Exception as e:  # noqa: BLE001 - the exception is the result
            return (type(e).__name__, getattr(e, "websocket_mismatch", None))
        return (rule.endpoint, dict(values))

    reference = StateMachineMatcher(app.url_map.merge_slashes)
    for rule in app.url_map.iter_rules():
        reference.add(rule)
    reference.update()
    assert outcome(app.url_map._matcher) == outcome(reference)


def test_flask_routes_shows_websocket(app):
    app.websocket("/ws/chat")(echo_forever_async())
    from flask.cli import routes_command

    result = app.test_cli_runner().invoke(routes_command)
    line = next(line for line in result.output.splitlines() if "/ws/chat" in line)
    assert "WEBSOCKET" in line and "echo" in line


# -- messages ------------------------------------------------------------------


def test_accept_subprotocol_headers_text_bytes_json(app):
    @app.websocket("/ws")
    async def handler():
        assert websocket.subprotocols == ["v2.chat", "v1.chat"]
        await websocket.accept(subprotocol="v1.chat", headers={"X-Hello": "there"})
        text = await websocket.receive()
        data = await websocket.receive()
        obj = await websocket.receive_json()
        await websocket.send(text.upper())
        await websocket.send(data[::-1])
        await websocket.send_json({"got": obj})

    with app.test_client().websocket("/ws", subprotocols=["v2.chat", "v1.chat"]) as ws:
        assert ws.subprotocol == "v1.chat"
        assert ("x-hello", "there") in ws.accept_headers
        ws.send("hi")
        ws.send(b"\x01\x02")
        ws.send_json({"a": [1, 2]})
        assert ws.receive() == "HI"
        assert ws.receive() == b"\x02\x01"
        assert ws.receive_json() == json.loads('{"got": {"a": [1, 2]}}')
        with pytest.raises(WebSocketDisconnect) as info:
            ws.receive()
        assert info.value.code == RFC6455_NORMAL


def test_implicit_accept_on_first_send_and_receive(app):
    seen = []

    @app.websocket("/send")
    async def first_send():
        seen.append(websocket.accepted)
        await websocket.send("x")
        seen.append(websocket.accepted)

    @app.websocket("/recv")
    async def first_receive():
        await websocket.send(await websocket.receive())

    client = app.test_client()
    with client.websocket("/send") as ws:
        assert ws.subprotocol is None
        assert ws.receive() == "x"
    assert seen == [False, True]
    with client.websocket("/recv") as ws:
        ws.send("y")
        assert ws.receive() == "y"


def test_send_rejects_other_types(app):
    errors = []

    @app.websocket("/ws")
    async def handler():
        try:
            await websocket.send(42)  # type: ignore[arg-type]
        except TypeError as e:
            errors.append(str(e))

    with app.test_client().websocket("/ws"):
        pass
    assert errors and "int" in errors[0]


# -- refusing the handshake ------------------------------------------------------


def test_abort_before_accept_with_denial_extension(app):
    @app.websocket("/ws")
    async def handler():
        abort(403)

    with pytest.raises(WebSocketRejected) as info:
        with app.test_client().websocket("/ws"):
            pass
    assert info.value.status == 403
    assert b"Forbidden" in info.value.body


def test_abort_before_accept_without_denial_extension(app):
    @app.websocket("/ws")
    async def handler():
        abort(403)

    with pytest.raises(WebSocketRejected) as info:
        with app.test_client().websocket("/ws", denial_response=False):
            pass
    assert info.value.status is None
    assert info.value.close_code == RFC6455_POLICY


def test_error_handler_and_before_hook_shape_the_refusal(app):
    @app.errorhandler(403)
    def forbidden(e):
        return "go away", 403, {"X-Why": "hook"}

    @app.before_websocket
    def check():
        if "token" not in websocket.args:
            abort(403)

    @app.websocket("/ws")
    async def handler():
        await websocket.send("in")

    client = app.test_client()
    with pytest.raises(WebSocketRejected) as info:
        with client.websocket("/ws"):
            pass
    assert info.value.status == 403 and info.value.body == b"go away"
    assert ("x-why", "hook") in info.value.headers  # ASGI headers are lowercase
    with client.websocket("/ws?token=1") as ws:
        assert ws.receive() == "in"


def test_handler_return_value_refuses(app):
    @app.websocket("/ws")
    async def handler():
        return "not today", 401

    with pytest.raises(WebSocketRejected) as info:
        with app.test_client().websocket("/ws"):
            pass
    assert info.value.status == 401 and info.value.body == b"not today"


def test_unhandled_error_before_accept_is_500_and_logged(app, caplog):
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.websocket("/ws")
    async def handler():
        raise ZeroDivisionError

    with caplog.at_level(logging.ERROR):
        with pytest.raises(WebSocketRejected) as info:
            with app.test_client().websocket("/ws"):
                pass
    assert info.value.status == 500
    assert any(r.exc_info and r.exc_info[0] is ZeroDivisionError for r in caplog.records)


# -- errors after accept ---------------------------------------------------------------


def test_error_after_accept_closes_1011_and_logs(app, caplog):
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.websocket("/ws")
    async def handler():
        await websocket.accept()
        raise KeyError("boom")

    with caplog.at_level(logging.ERROR):
        with app.test_client().websocket("/ws") as ws:
            with pytest.raises(WebSocketDisconnect) as info:
                ws.receive()
    assert info.value.code == RFC6455_INTERNAL
    assert any(
        r.exc_info and r.exc_info[0] is KeyError and "/ws" in r.getMessage() for r in caplog.records
    )


def test_error_after_accept_goes_to_error_handler(app, caplog):
    handled = []

    @app.errorhandler(KeyError)
    def on_key_error(e):
        handled.append(e.args)
        return "ignored"

    @app.websocket("/ws")
    async def handler():
        await websocket.send("start")
        raise KeyError("boom")

    with caplog.at_level(logging.ERROR):
        with app.test_client().websocket("/ws") as ws:
            assert ws.receive() == "start"
            with pytest.raises(WebSocketDisconnect) as info:
                ws.receive()
    assert info.value.code == RFC6455_INTERNAL
    assert handled == [("boom",)]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_error_after_accept_propagates_in_testing(app):
    app.testing = True

    @app.websocket("/ws")
    async def handler():
        await websocket.accept()
        raise ValueError("seen by the test")

    with pytest.raises(ValueError, match="seen by the test"):
        with app.test_client().websocket("/ws") as ws:
            ws.receive()


# -- disconnect and teardown -----------------------------------------------------------


def test_disconnect_raises_and_teardown_runs(app):
    events = []

    @app.teardown_request
    def td_request(exc):
        events.append(("request", exc))

    @app.teardown_appcontext
    def td_app(exc):
        events.append(("app", exc))

    @app.websocket("/ws")
    async def handler():
        g.user = "x"
        try:
            await websocket.receive()
        except WebSocketDisconnect as e:
            events.append(("disconnect", e.code, e.reason))
            raise

    with app.test_client().websocket("/ws") as ws:
        ws.close(4000, "bye")
    assert events == [("disconnect", 4000, "bye"), ("request", None), ("app", None)]


def test_teardown_runs_after_error(app):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    events = []
    app.teardown_request(lambda exc: events.append(type(exc)))

    @app.websocket("/ws")
    async def handler():
        await websocket.accept()
        raise RuntimeError

    with app.test_client().websocket("/ws") as ws:
        with pytest.raises(WebSocketDisconnect):
            ws.receive()
    assert events == [RuntimeError]


def test_before_and_after_hooks_scoped_to_blueprint(app):
    calls = []
    bp = Blueprint("bp", __name__, url_prefix="/bp")
    app.before_websocket(lambda: calls.append("app before"))
    bp.before_websocket(lambda: calls.append("bp before"))

    @bp.after_websocket
    def bp_after(response):
        calls.append(("bp after", response))

    @app.after_websocket
    def app_after(response):
        calls.append(("app after", response))

    @bp.websocket("/ws")
    async def inner():
        await websocket.send("bp")

    @app.websocket("/ws")
    async def outer():
        await websocket.send("app")

    app.register_blueprint(bp)
    client = app.test_client()
    with client.websocket("/bp/ws") as ws:
        assert ws.receive() == "bp"
    assert calls == ["app before", "bp before", ("bp after", None), ("app after", None)]
    calls.clear()
    with client.websocket("/ws") as ws:
        assert ws.receive() == "app"
    assert calls == ["app before", ("app after", None)]


def test_session_and_g_in_handler(app):
    @app.post("/login")
    def login():
        session["user"] = "ann"
        return ""

    @app.before_websocket
    def load():
        g.greeting = "hello"

    @app.websocket("/ws")
    async def handler():
        await websocket.send(f"{g.greeting} {session.get('user')} {flask.current_app.name}")

    client = app.test_client()
    with client.websocket("/ws") as ws:
        assert ws.receive() == f"hello None {app.name}"
    client.post("/login")
    with client.websocket("/ws") as ws:
        assert ws.receive() == f"hello ann {app.name}"


# -- limits and Origin -----------------------------------------------------------------


def test_message_size_limit(app, caplog):
    app.config["WEBSOCKET_MAX_MESSAGE_SIZE"] = 10
    got = []

    @app.websocket("/ws")
    async def handler():
        try:
            while True:
                got.append(await websocket.receive())
        except WebSocketDisconnect as e:
            got.append(e.code)
            raise

    with caplog.at_level(logging.WARNING):
        with app.test_client().websocket("/ws") as ws:
            ws.send("0123456789")  # 10 bytes: allowed
            ws.send(b"x" * 10)
            ws.send("\u00e9" * 6)  # 6 characters, 12 bytes in UTF-8
            with pytest.raises(WebSocketDisconnect) as info:
                ws.receive()
    assert info.value.code == RFC6455_TOO_BIG
    assert got == ["0123456789", b"x" * 10, RFC6455_TOO_BIG]
    assert any("WEBSOCKET_MAX_MESSAGE_SIZE" in r.getMessage() for r in caplog.records)


def test_message_size_limit_bytes(app):
    app.config["WEBSOCKET_MAX_MESSAGE_SIZE"] = 4

    @app.websocket("/ws")
    async def handler():
        await websocket.receive()

    with app.test_client().websocket("/ws") as ws:
        ws.send(b"12345")
        with pytest.raises(WebSocketDisconnect) as info:
            ws.receive()
    assert info.value.code == RFC6455_TOO_BIG


def test_default_message_limit_is_one_mebibyte(app):
    assert "WEBSOCKET_MAX_MESSAGE_SIZE" not in app.config  # Flask 3.1's keys only

    @app.websocket("/ws")
    async def handler():
        while True:
            await websocket.send(str(len(await websocket.receive())))

    with app.test_client().websocket("/ws") as ws:
        ws.send(b"x" * 2**20)
        assert ws.receive() == str(2**20)
        ws.send("y" * (2**20 + 1))
        with pytest.raises(WebSocketDisconnect) as info:
            ws.receive()
    assert info.value.code == RFC6455_TOO_BIG


@pytest.mark.parametrize(
    ("origin", "allowed", "ok"),
    [
        (None, None, True),  # no Origin: not a browser, no ambient cookies to abuse
        ("http://localhost", None, True),
        ("http://localhost:80", None, True),
        ("https://localhost", None, True),  # TLS ended by a proxy in front
        ("http://LOCALHOST", None, True),
        ("http://evil.test", None, False),
        ("http://localhost.evil.test", None, False),
        ("http://localhost:8080", None, False),
        ("null", None, False),
        ("http://app.test", ["http://app.test"], True),
        ("http://app.test/", ["http://APP.test"], True),
        ("http://other.test", ["http://app.test"], False),
        ("http://other.test", "*", True),
        ("http://localhost", ["http://app.test"], True),
    ],
)
def test_origin_check(app, origin, allowed, ok, caplog):
    app.config["WEBSOCKET_ALLOWED_ORIGINS"] = allowed

    @app.websocket("/ws")
    async def handler():
        await websocket.send("in")

    headers = {} if origin is None else {"Origin": origin}
    client = app.test_client()
    if ok:
        with client.websocket("/ws", headers=headers) as ws:
            assert ws.receive() == "in"
    else:
        with caplog.at_level(logging.WARNING):
            with pytest.raises(WebSocketRejected) as info:
                with client.websocket("/ws", headers=headers):
                    pass
        assert info.value.status == 403
        assert any("WEBSOCKET_ALLOWED_ORIGINS" in r.getMessage() for r in caplog.records)


def test_origin_with_port_in_host(app):
    @app.websocket("/ws")
    async def handler():
        await websocket.send("in")

    client = app.test_client()
    with client.websocket("http://127.0.0.1:5000/ws", headers={"Origin": "http://127.0.0.1:5000"}) as ws:
        assert ws.receive() == "in"
    with pytest.raises(WebSocketRejected):
        with client.websocket("http://127.0.0.1:5000/ws", headers={"Origin": "http://127.0.0.1:5001"}):
            pass


# -- sync handlers ---------------------------------------------------------------------


def test_sync_handler_with_global_runs_in_a_thread(app):
    threads = []

    @app.before_websocket
    def hook():
        threads.append(threading.current_thread())

    @app.websocket("/ws/<int:n>")
    def handler(n):
        threads.append(threading.current_thread())
        assert isinstance(websocket._get_current_object(), SyncWebSocket)
        websocket.send(str(n))
        websocket.send_json(websocket.receive_json())
        assert websocket.receive(timeout=0.05) is None

    with app.test_client().websocket("/ws/5") as ws:
        assert ws.receive() == "5"
        ws.send_json({"k": "v"})
        assert json.loads(ws.receive()) == {"k": "v"}
    assert threading.main_thread() not in threads
    assert len(threads) == 2


def test_flask_sock_style_handler(app):
    # The Flask-Sock docs' echo handler, with only the decorator changed.
    @app.websocket("/echo")
    def echo(ws):
        while True:
            data = ws.receive()
            ws.send(data)

    @app.websocket("/room/<name>")
    def room(ws, name):
        ws.send(name)

    client = app.test_client()
    with client.websocket("/echo") as ws:
        for message in ("a", b"b", "c" * 1000):
            ws.send(message)
            assert ws.receive() == message
    with client.websocket("/room/blue") as ws:
        assert ws.receive() == "blue"


def test_sync_handler_sees_disconnect(app):
    events = []

    @app.websocket("/ws")
    def handler():
        try:
            websocket.receive()
        except WebSocketDisconnect as e:
            events.append(e.code)

    with app.test_client().websocket("/ws") as ws:
        ws.close(1001)
    assert events == [1001]


def test_websocket_outside_connection():
    with pytest.raises(RuntimeError, match="outside of a WebSocket"):
        websocket.path  # noqa: B018


# -- WSGI ----------------------------------------------------------------------------


def test_wsgi_upgrade_request_gets_clear_4xx(app):
    app.websocket("/ws")(echo_forever_async())
    rv = app.test_client().get(
        "/ws",
        headers={
            "Upgrade": "websocket",
            "Connection": "Upgrade",
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
            "Sec-WebSocket-Version": "13",
        },
    )
    assert 400 <= rv.status_code < 500
    assert b"ASGI server" in rv.data


def test_wsgi_refusal_is_logged_once_per_endpoint(app, caplog):
    app.websocket("/ws", endpoint="ws")(echo_forever_async())
    app.websocket("/other", endpoint="other")(echo_forever_async())
    handshake = {"Upgrade": "websocket", "Connection": "Upgrade"}
    client = app.test_client()
    with caplog.at_level(logging.WARNING, logger=app.logger.name):
        for path in ("/ws", "/ws", "/other", "/ws", "/other"):
            assert client.get(path, headers=handshake).status_code == 400
        # A plain GET of a WebSocket URL is a client mistake, not a server one.
        assert client.get("/ws").status_code == 400
    refusals = [r for r in caplog.records if "refused with 400" in r.getMessage()]
    assert [r.levelno for r in refusals] == [logging.WARNING] * 2
    assert ["'ws'" in refusals[0].getMessage(), "'other'" in refusals[1].getMessage()] == [True, True]
    assert all("ASGI server" in r.getMessage() for r in refusals)


def test_wsgi_upgrade_to_unknown_path_is_404(app):
    rv = app.test_client().get("/nope", headers={"Upgrade": "websocket", "Connection": "Upgrade"})
    assert rv.status_code == 404


def test_short_text_is_not_encoded_for_the_size_check(app):
    # The shortcut: a str of at most limit // 4 characters cannot exceed the
    # limit in UTF-8, so it is not encoded; a longer one is measured.
    app.config["WEBSOCKET_MAX_MESSAGE_SIZE"] = 8
    encoded = []

    class Counting(str):
        def encode(self, *args, **kwargs):  # type: ignore[override]
            encoded.append(str(self))
            return str.encode(self, *args, **kwargs)

    @app.websocket("/ws")
    async def handler():
        while True:
            await websocket.send(await websocket.receive())

    with app.test_client().websocket("/ws") as ws:
        ws.send(Counting("ab"))  # 2 <= 8 // 4
        assert ws.receive() == "ab"
        ws.send(Counting("abcdefg"))  # 7 characters: measured, 7 bytes, allowed
        assert ws.receive() == "abcdefg"
    assert encoded == ["abcdefg"]


def test_websocket_proxy_reads_the_context_variable_directly(app):
    # The shortcut: the proxy does not go through LocalProxy's
    # _get_current_object; it must still give the connection's attributes.
    from flask.globals import _cv_websocket

    def generic_path():
        raise AssertionError("the generic proxy path was taken")

    seen = []

    @app.websocket("/ws/<int:n>")
    async def handler(n):
        proxy_getter = object.__getattribute__(websocket, "_get_current_object")
        object.__setattr__(websocket, "_get_current_object", generic_path)
        try:
            seen.append((websocket.path, websocket.view_args, websocket.accepted))
        finally:
            object.__setattr__(websocket, "_get_current_object", proxy_getter)
        conn = _cv_websocket.get()
        seen.append((conn.path, conn.view_args, conn.accepted))
        await websocket.send("ok")

    with app.test_client().websocket("/ws/3") as ws:
        assert ws.receive() == "ok"
    assert seen == [("/ws/3", {"n": 3}, False)] * 2


def test_blueprint_app_wide_websocket_hooks(app):
    calls = []
    bp = Blueprint("hooks", __name__)
    bp.before_app_websocket(lambda: calls.append("before"))
    bp.after_app_websocket(lambda response: calls.append(("after", response)))
    app.register_blueprint(bp)

    @app.websocket("/ws")
    async def handler():
        await websocket.send("x")

    with app.test_client().websocket("/ws") as ws:
        assert ws.receive() == "x"
    assert calls == ["before", ("after", None)]


def test_after_hook_sees_and_replaces_the_refusal(app):
    @app.after_websocket
    def stamp(response):
        if response is not None:
            response.headers["X-Stamp"] = "1"
        return response

    @app.websocket("/ws")
    async def handler():
        abort(404)

    with pytest.raises(WebSocketRejected) as info:
        with app.test_client().websocket("/ws"):
            pass
    assert info.value.status == 404
    assert ("x-stamp", "1") in info.value.headers


def test_after_this_request_runs_with_the_after_hooks(app):
    """A function registered with ``after_this_request`` during a
    connection is called (it used to be kept and never called): first, as
    for HTTP, with what the ``after_websocket`` hooks get, the refusal or
    ``None``; an async one is awaited."""
    calls = []

    @app.after_websocket
    def hook(response):
        calls.append(("hook", response))

    @app.websocket("/ws")
    async def accepted():
        @flask.after_this_request
        async def later(response):
            calls.append(("later", response))

        await websocket.send("hi")

    @app.websocket("/no")
    def refused():
        @flask.after_this_request
        def stamp(response):
            response.headers["X-Stamp"] = "1"
            return response

        abort(401)

    with app.test_client().websocket("/ws") as ws:
        assert ws.receive() == "hi"
    assert calls == [("later", None), ("hook", None)]
    with pytest.raises(WebSocketRejected) as info:
        with app.test_client().websocket("/no"):
            pass
    assert info.value.status == 401
    assert ("x-stamp", "1") in info.value.headers


def test_a_value_returned_after_accept_is_ignored_with_one_warning(app, caplog):
    @app.websocket("/ws")
    async def handler():
        await websocket.send("hi")
        return "too late"

    with caplog.at_level(logging.WARNING, logger=app.logger.name):
        for _ in range(2):
            with app.test_client().websocket("/ws") as ws:
                assert ws.receive() == "hi"
    assert [r.getMessage() for r in caplog.records if r.name == app.logger.name] == [
        "WebSocket handler 'handler' returned a str after the connection was accepted"
        " or closed; the value is ignored. Only a value returned before accepting"
        " refuses the handshake; send data with websocket.send(). (Logged once per endpoint.)"
    ]


def test_a_session_change_is_not_saved_and_says_so_once(app, caplog):
    """No response carries the session of a WebSocket connection: a change
    is lost, and the log says so (once per endpoint) rather than nothing."""

    @app.websocket("/ws")
    async def writer():
        session["seen"] = "yes"
        await websocket.send("hi")

    @app.websocket("/read")
    async def reader():
        await websocket.send(str(session.get("seen")))

    @app.get("/check")
    def check():
        return str(session.get("seen"))

    client = app.test_client()
    with caplog.at_level(logging.WARNING, logger=app.logger.name):
        for _ in range(2):
            with client.websocket("/ws") as ws:
                assert ws.receive() == "hi"
        with client.websocket("/read") as ws:
            assert ws.receive() == "None"
    assert client.get("/check").text == "None"
    assert [r.getMessage() for r in caplog.records if r.name == app.logger.name] == [
        "WebSocket handler 'writer' changed the session; it is not saved, as no response"
        " carries it: change it in an HTTP view. (Logged once per endpoint.)"
    ]


@pytest.mark.parametrize("handler", ["async", "sync"])
def test_a_message_that_is_not_json_is_the_clients_fault(app, caplog, handler):
    """``receive_json()`` raises ``BadRequest`` for a message that is not
    JSON, as ``request.get_json()`` does; after accept, a 4xx closes with
    1008 (policy violation) and the error's name, not 1011, and nothing is
    logged as an error: it was a traceback and "internal error" for the
    client's bad input."""
    from werkzeug.exceptions import BadRequest

    handled = []

    @app.errorhandler(400)
    def bad(e):
        handled.append(e.description)
        return "ignored"

    if handler == "async":

        @app.websocket("/ws")
        async def ws():
            await websocket.send_json(await websocket.receive_json())

    else:

        @app.websocket("/ws")
        def ws():
            websocket.send_json(websocket.receive_json())

    with caplog.at_level(logging.WARNING):
        with app.test_client().websocket("/ws") as client:
            client.send('{"a": 1}')
            assert client.receive_json() == {"a": 1}
        with app.test_client().websocket("/ws") as client:
            client.send("{not json")
            with pytest.raises(WebSocketDisconnect) as info:
                client.receive()
    assert (info.value.code, info.value.reason) == (RFC6455_POLICY, BadRequest().name)
    try:
        json.loads("{not json")
    except ValueError as e:
        expected = f"Failed to decode JSON object: {e}"
    assert handled == [expected]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_a_4xx_after_accept_closes_1008_unless_its_handler_fails(app, caplog):
    from werkzeug.exceptions import Forbidden

    @app.errorhandler(409)
    def conflict(e):
        raise RuntimeError("the handler failed")

    @app.websocket("/ws/<int:code>")
    async def ws(code):
        await websocket.send("start")
        abort(code)

    with caplog.at_level(logging.ERROR, logger=app.logger.name):
        with app.test_client().websocket("/ws/403") as client:
            assert client.receive() == "start"
            with pytest.raises(WebSocketDisconnect) as forbidden:
                client.receive()
        assert not [r for r in caplog.records if r.name == app.logger.name]
        with app.test_client().websocket("/ws/409") as client:
            assert client.receive() == "start"
            with pytest.raises(WebSocketDisconnect) as failed:
                client.receive()
    assert (forbidden.value.code, forbidden.value.reason) == (RFC6455_POLICY, Forbidden().name)
    assert failed.value.code == RFC6455_INTERNAL
    logged = [r for r in caplog.records if r.name == app.logger.name]
    assert len(logged) == 1 and isinstance(logged[0].exc_info[1], RuntimeError)


@pytest.mark.parametrize(
    ("origin", "host", "scheme", "same"),
    [
        ("http://[::1]:5000", "[::1]:5000", "http", True),
        ("http://[::1]", "[::1]", "http", True),
        ("http://[::1]:5001", "[::1]:5000", "http", False),
        ("https://example.com", "example.com:443", "https", True),
        ("https://example.com:8443", "example.com", "https", False),
        ("ftp://example.com", "example.com", "http", False),
        ("http://exa mple.com", "example.com", "http", False),
    ],
)
def test_same_origin_rules(origin, host, scheme, same):
    # RFC 6454: an origin is (scheme, host, port), default ports implied.
    from flask.websockets import _same_origin

    assert _same_origin(origin, host, scheme) is same


def test_error_before_accept_propagates_in_testing(app):
    app.testing = True

    @app.websocket("/ws")
    async def handler():
        raise ZeroDivisionError("before accept")

    with pytest.raises(ZeroDivisionError, match="before accept"):
        with app.test_client().websocket("/ws"):
            pass


def test_close_before_accept_refuses(app):
    @app.websocket("/ws")
    async def handler():
        await websocket.close(4001, "not now")

    with pytest.raises(WebSocketRejected) as info:
        with app.test_client().websocket("/ws"):
            pass
    assert info.value.status is None and info.value.close_code == 4001
