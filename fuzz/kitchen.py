"""The kitchen-sink application the fuzzer serves on both implementations.

Every documented feature has a route of its own; ``create_app(variant)``
builds one of the variants below. Only Flask's public API is used, so the
same file runs unchanged in Pallets Flask's venv. Views are deterministic:
both sides see the same requests in the same order, so even state kept
between requests (sessions, counters) must agree.

``/raise/value-error`` raises ``ValueError("on purpose")``: a 500 with that
error logged is the view's doing.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import typing as t

import flask
from flask import Blueprint
from flask import Flask
from flask import abort
from flask import after_this_request
from flask import flash
from flask import g
from flask import get_flashed_messages
from flask import jsonify
from flask import make_response
from flask import redirect
from flask import render_template_string
from flask import request
from flask import send_from_directory
from flask import session
from flask import stream_with_context
from flask import url_for
from flask.sessions import SessionInterface
from flask.sessions import SessionMixin
from flask.views import MethodView
from werkzeug.datastructures import CallbackDict

HERE = os.path.dirname(os.path.abspath(__file__))
SECRET_KEY = "fuzz secret key"
MAX_CONTENT_LENGTH = 64 * 1024

VARIANTS = ("plain", "hooks", "permanent", "custom_session", "subclass", "subdomains")



class Teapot(Exception):
    """Handled by an error handler that answers 418."""


def _summary(value: t.Any) -> t.Any:
    """A JSON-safe, order-independent summary of request data."""
    if hasattr(value, "lists"):
        return sorted((k, list(v)) for k, v in value.lists())
    return value


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def add_routes(app: Flask) -> None:
    """The feature routes shared by every variant."""

    @app.route("/")
    def index() -> str:
        return "Hello, <fuzz>!"

    @app.route("/bytes")
    def as_bytes() -> bytes:
        return b"\x00\xffraw"

    @app.route("/dict")
    def as_dict() -> dict[str, t.Any]:
        return {"b": 1, "a": [1.5, None, True], "\u00e9": "\u2603"}

    @app.route("/list")
    def as_list() -> list[t.Any]:
        return [1, "two", {"three": 3}]

    @app.route("/jsonify")
    def as_jsonify() -> flask.Response:
        return jsonify(status="ok", args=_summary(request.args))

    @app.route("/tuple")
    def as_tuple() -> tuple[str, int, dict[str, str]]:
        return "created", 201, {"X-Tuple": "yes"}

    @app.route("/response")
    def as_response() -> flask.Response:
        resp = make_response("made", 202)
        resp.headers["X-Made"] = "1"
        resp.set_cookie("plain", "value", max_age=60, httponly=True, samesite="Lax")
        return resp

    @app.route("/methods", methods=["GET", "POST", "PUT", "DELETE", "PATCH"])
    def methods() -> str:
        return str(request.method)

    @app.route("/post-only", methods=["POST"])
    def post_only() -> str:
        return "posted"

    @app.route("/int/<int:n>")
    def conv_int(n: int) -> str:
        return f"int {n}"

    @app.route("/signed/<int(signed=True):n>")
    def conv_signed(n: int) -> str:
        return f"signed {n}"

    @app.route("/float/<float:x>")
    def conv_float(x: float) -> str:
        return f"float {x!r}"

    @app.route("/uuid/<uuid:u>")
    def conv_uuid(u: t.Any) -> str:
        return f"uuid {u}"

    @app.route("/str/<name>")
    def conv_str(name: str) -> str:
        return f"str {name}"

    @app.route("/path/<path:rest>")
    def conv_path(rest: str) -> str:
        return f"path {rest}"

    @app.route("/any/<any(red, green):colour>")
    def conv_any(colour: str) -> str:
        return colour

    @app.route("/slash/")
    def slash() -> str:
        return "slash"

    @app.route("/defaults/", defaults={"page": 1})
    @app.route("/defaults/<int:page>")
    def with_defaults(page: int) -> str:
        return f"page {page}"

    @app.route("/args")
    def args() -> t.Any:
        return {"args": _summary(request.args), "full_path": request.full_path}

    @app.route("/request")
    def request_fields() -> t.Any:
        return {
            "method": request.method,
            "path": request.path,
            "script_root": request.script_root,
            "url": request.url,
            "base_url": request.base_url,
            "url_root": request.url_root,
            "host_url": request.host_url,
            "host": request.host,
            "scheme": request.scheme,
            "is_secure": request.is_secure,
            "remote_addr": request.remote_addr,
            "access_route": list(request.access_route),
            "accept": str(request.accept_mimetypes),
            "content_type": request.content_type,
            "mimetype": request.mimetype,
            "mimetype_params": request.mimetype_params,
            "content_length": request.content_length,
            "is_json": request.is_json,
            "endpoint": request.endpoint,
            "blueprint": request.blueprint,
            "view_args": request.view_args,
            "cookies": _summary(request.cookies),
        }

    @app.route("/data", methods=["GET", "POST", "PUT", "PATCH"])
    def data() -> t.Any:
        raw = request.get_data()
        assert isinstance(raw, bytes)
        return {"len": len(raw), "sha": _digest(raw)}

    @app.route("/json", methods=["POST", "PUT"])
    def json_body() -> t.Any:
        return {"json": request.get_json()}

    @app.route("/json-silent", methods=["POST"])
    def json_silent() -> t.Any:
        return {"json": request.get_json(silent=True)}

    @app.route("/json-force", methods=["POST"])
    def json_force() -> t.Any:
        return {"json": request.get_json(force=True)}

    @app.route("/form", methods=["POST", "PUT", "PATCH"])
    def form() -> t.Any:
        files = sorted(
            (k, f.filename, f.mimetype, _digest(f.read()))
            for k, f in request.files.items(multi=True)
        )
        return {"form": _summary(request.form), "files": files}

    @app.route("/values", methods=["GET", "POST"])
    def values() -> t.Any:
        return {"values": _summary(request.values)}

    @app.route("/stream")
    def stream() -> flask.Response:
        def generate() -> t.Iterator[str]:
            yield "a"
            yield request.args.get("x", "-")
            yield "b"

        return flask.Response(stream_with_context(generate()), mimetype="text/plain")

    @app.route("/template")
    def template() -> str:
        return render_template_string(
            "{{ value }}|{{ value|safe }}|{{ request.path }}|{{ url_for('index') }}"
            "{% for m in get_flashed_messages() %}[{{ m }}]{% endfor %}",
            value=request.args.get("v", "<b>&</b>"),
        )

    @app.route("/url_for")
    def build_urls() -> t.Any:
        return {
            "index": url_for("index"),
            "external": url_for("index", _external=True),
            "int": url_for("conv_int", n=5, q="a b", _anchor="x y"),
            "path": url_for("conv_path", rest="a/b c"),
            "static": url_for("static", filename="hello.txt"),
            "https": url_for("index", _scheme="https", _external=True),
        }

    @app.route("/redirect")
    def do_redirect() -> flask.Response:
        return redirect(url_for("index"))  # type: ignore[return-value]

    @app.route("/redirect-external")
    def do_redirect_external() -> flask.Response:
        return redirect(url_for("slash", _external=True), 301)  # type: ignore[return-value]

    @app.route("/abort/<int:code>")
    def do_abort(code: int) -> str:
        if 400 <= code < 500 and code in (400, 401, 403, 404, 405, 409, 410, 413, 418, 429):
            abort(code)
        return "no abort"

    @app.route("/teapot")
    def teapot() -> str:
        raise Teapot()

    @app.errorhandler(Teapot)
    def handle_teapot(e: Teapot) -> tuple[str, int]:
        return "short and stout", 418

    @app.route("/raise/value-error")
    def raise_value_error() -> str:
        raise ValueError("on purpose")

    @app.route("/session/set", methods=["GET", "POST"])
    def session_set() -> t.Any:
        for key, value in request.args.items():
            session[key] = value
        session["count"] = session.get("count", 0) + 1
        return {"session": dict(session)}

    @app.route("/session/get")
    def session_get() -> t.Any:
        return {"session": dict(session), "new": getattr(session, "new", None)}

    @app.route("/session/clear")
    def session_clear() -> str:
        session.clear()
        return "cleared"

    @app.route("/session/permanent")
    def session_permanent() -> str:
        session.permanent = True
        session["p"] = 1
        return "permanent"

    @app.route("/flash")
    def do_flash() -> str:
        flash(request.args.get("m", "message"))
        flash("warned", "warning")
        return "flashed"

    @app.route("/flashes")
    def flashes() -> t.Any:
        return {"messages": get_flashed_messages(with_categories=True)}

    @app.route("/g")
    def use_g() -> t.Any:
        setattr(g, "value", request.args.get("v", "none"))
        return {"g": g.get("value"), "hook": g.get("hook")}

    @app.route("/after-this")
    def after_this() -> str:
        @after_this_request
        def add_header(response: flask.Response) -> flask.Response:
            response.headers["X-After-This"] = "1"
            return response

        return "after"

    @app.route("/files/<path:name>")
    def files(name: str) -> flask.Response:
        return send_from_directory(os.path.join(HERE, "static"), name)

    @app.route("/conditional")
    def conditional() -> flask.Response:
        resp = make_response("conditional body")
        resp.set_etag("fixed-etag")
        resp.make_conditional(request)  # changes resp in place
        return resp

    @app.route("/cookie-echo")
    def cookie_echo() -> t.Any:
        return {"cookies": _summary(request.cookies)}

    @app.route("/max-length", methods=["POST"])
    def max_length() -> t.Any:
        return {"len": len(request.get_data()), "limit": request.max_content_length}

    class Items(MethodView):
        def get(self) -> str:
            return "list items"

        def post(self) -> tuple[str, int]:
            return "created item", 201

    app.add_url_rule("/items", view_func=Items.as_view("items"))


def add_blueprint(app: Flask, subdomain: str | None = None) -> None:
    bp = Blueprint("bp", __name__, url_prefix="/bp", subdomain=subdomain)

    @bp.route("/")
    def bp_index() -> str:
        return f"blueprint {request.blueprint}"

    @bp.route("/<int:n>")
    def bp_int(n: int) -> t.Any:
        return {"n": n, "self": url_for(".bp_int", n=n + 1), "ext": url_for("bp.bp_index", _external=True)}

    @bp.errorhandler(404)
    def bp_404(e: Exception) -> tuple[str, int]:
        return "blueprint 404", 404

    app.register_blueprint(bp)


# -- variants ------------------------------------------------------------------


def _hooks(app: Flask) -> None:
    finished = itertools.count()
    app.extensions["fuzz_finished"] = finished

    @app.before_request
    def before() -> None:
        setattr(g, "hook", "before")
        if request.args.get("stop") == "before":
            return "stopped by before_request"  # type: ignore[return-value]
        return None

    @app.after_request
    def after(response: flask.Response) -> flask.Response:
        response.headers["X-Hooked"] = str(response.status_code)
        return response

    @app.url_defaults
    def defaults(endpoint: str, values: dict[str, t.Any]) -> None:
        if endpoint == "conv_str" and "name" not in values:
            values["name"] = "default"

    @app.url_value_preprocessor
    def preprocess(endpoint: str | None, values: dict[str, t.Any] | None) -> None:
        if values and "name" in values:
            setattr(g, "name", values["name"])

    @app.teardown_request
    def teardown(exc: BaseException | None) -> None:
        pass

    def on_finished(sender: Flask, response: flask.Response, **extra: t.Any) -> None:
        next(finished)

    # Kept with the app, so whoever drops the app can disconnect it too.
    app.extensions["fuzz_on_finished"] = on_finished
    flask.request_finished.connect(on_finished, app, weak=False)

    @app.route("/finished-count")
    def finished_count() -> str:
        return str(next(finished))

    @app.route("/default-name")
    def default_name() -> str:
        return url_for("conv_str")


class CustomSession(CallbackDict, SessionMixin):  # type: ignore[type-arg]
    def __init__(self, initial: t.Any = None, sid: str = "") -> None:
        def on_update(self: CustomSession) -> None:
            self.modified = True

        super().__init__(initial, on_update)
        self.sid = sid
        self.modified = False


class ServerSideSessions(SessionInterface):
    """Sessions kept in a dict, the cookie holding a counter id: both
    sides hand out the same ids in the same order."""

    def __init__(self) -> None:
        self.store: dict[str, dict[str, t.Any]] = {}
        self.ids = itertools.count(1)

    def open_session(self, app: Flask, request: flask.Request) -> CustomSession:
        sid = request.cookies.get("sid", "")
        if sid in self.store:
            return CustomSession(self.store[sid], sid)
        return CustomSession(sid="")

    def save_session(self, app: Flask, session: SessionMixin, response: flask.Response) -> None:
        assert isinstance(session, CustomSession)
        if not session:
            if session.modified and session.sid:
                self.store.pop(session.sid, None)
                response.delete_cookie("sid")
            return
        if not session.sid:
            session.sid = f"s{next(self.ids)}"
        self.store[session.sid] = dict(session)
        if session.modified or not request.cookies.get("sid"):
            response.set_cookie("sid", session.sid, httponly=True)


class MadeFlask(Flask):
    def make_response(self, rv: t.Any) -> flask.Response:
        response = super().make_response(rv)
        response.headers["X-Made-By"] = "subclass"
        return response


def create_app(variant: str) -> Flask:
    """One application per variant (see ``VARIANTS``)."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}")
    cls = MadeFlask if variant == "subclass" else Flask
    kwargs: dict[str, t.Any] = {}
    if variant == "subdomains":
        kwargs["subdomain_matching"] = True
    app = cls("kitchen", root_path=HERE, static_folder="static", **kwargs)
    app.config.update(SECRET_KEY=SECRET_KEY, MAX_CONTENT_LENGTH=MAX_CONTENT_LENGTH)
    if variant == "permanent":
        app.config.update(SESSION_REFRESH_EACH_REQUEST=False, PERMANENT_SESSION_LIFETIME=3600)

        @app.before_request
        def make_permanent() -> None:
            if request.args.get("perm"):
                session.permanent = True

    if variant == "subdomains":
        app.config["SERVER_NAME"] = "example.test"
    if variant == "hooks":
        _hooks(app)
    if variant == "custom_session":
        app.session_interface = ServerSideSessions()
    add_routes(app)
    add_blueprint(app, "api" if variant == "subdomains" else None)
    return app


def describe() -> str:
    """Which implementation is loaded (for the fuzzer's log)."""
    return json.dumps(
        {"flask": flask.__file__, "implementation": getattr(flask, "__implementation__", "pallets")}
    )
