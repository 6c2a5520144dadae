"""The signed-cookie session backend, exercised without a full app.

``Flask.session_interface`` is a placeholder until first used, so that a
request that neither sends a cookie nor touches the session does not import
the session machinery (start-up). ``DefaultSessionInterface.resolved`` is
process-wide, so each case runs in a fresh interpreter: in this one, earlier
tests have long since created the interface.

Found by ``make mutate`` (``session_state.default_session_pending`` and the
check in ``session_needs_saving``): each case fails under one of those
mutants.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import typing as t
from datetime import datetime
from datetime import timedelta
from datetime import timezone

import pytest
from werkzeug.http import parse_cookie
from werkzeug.test import create_environ
from werkzeug.wrappers import Request
from werkzeug.wrappers import Response

from flask.config import make_timedelta
from flask.sessions import NullSession
from flask.sessions import SecureCookieSession
from flask.sessions import SecureCookieSessionInterface
from flask.sessions import SessionInterface
from flask.sessions import SessionMixin


class StubApp:
    """Just what a session interface looks at: config and the secret key."""

    def __init__(self, **overrides: t.Any) -> None:
        self.config: dict[str, t.Any] = {
            "SECRET_KEY": "s3kr1t",
            "SECRET_KEY_FALLBACKS": [],
            "SESSION_COOKIE_NAME": "session",
            "SESSION_COOKIE_DOMAIN": None,
            "SESSION_COOKIE_PATH": None,
            "SESSION_COOKIE_HTTPONLY": True,
            "SESSION_COOKIE_SECURE": False,
            "SESSION_COOKIE_SAMESITE": None,
            "SESSION_COOKIE_PARTITIONED": False,
            "SESSION_REFRESH_EACH_REQUEST": True,
            "PERMANENT_SESSION_LIFETIME": timedelta(days=31),
            "APPLICATION_ROOT": "/",
        }
        self.config.update(overrides)

    @property
    def secret_key(self) -> t.Any:
        return self.config["SECRET_KEY"]

    @property
    def permanent_session_lifetime(self) -> timedelta:
        return make_timedelta(self.config["PERMANENT_SESSION_LIFETIME"])


iface = SecureCookieSessionInterface()


def request_with(cookie: str | None = None) -> Request:
    headers = {"Cookie": f"session={cookie}"} if cookie is not None else {}
    return Request(create_environ("/", headers=headers))


def saved_cookie(app: StubApp, session: SessionMixin) -> tuple[Response, str | None]:
    response = Response()
    iface.save_session(app, session, response)
    header = response.headers.get("Set-Cookie")
    if header is None:
        return response, None
    return response, parse_cookie(header.split(";", 1)[0]).get("session")


def test_session_flags_start_clear_and_writes_set_both() -> None:
    s = SecureCookieSession({"a": 1})
    assert not s.accessed and not s.modified
    s["b"] = 2
    assert s.modified and s.accessed


@pytest.mark.parametrize(
    "read",
    [
        lambda s: s["a"],
        lambda s: s.get("a"),
        lambda s: s.setdefault("a", 0),
        lambda s: "a" in s,
        lambda s: len(s),
        lambda s: list(s),
        lambda s: list(s.items()),
        # Alone, without the len() that list() asks first.
        lambda s: iter(s),
        lambda s: s.keys(),
        lambda s: s.values(),
    ],
)
def test_every_read_marks_session_accessed(read: t.Callable[[t.Any], t.Any]) -> None:
    s = SecureCookieSession({"a": 1})
    read(s)
    assert s.accessed
    assert not s.modified


def test_permanent_flag_round_trip_without_counting_as_read() -> None:
    s = SecureCookieSession()
    assert s.permanent is False
    assert not s.accessed
    s.permanent = True
    assert s["_permanent"] is True
    assert s.modified


def test_null_session_reads_empty_and_refuses_writes() -> None:
    s = NullSession()
    assert s.get("missing") is None
    for write in (
        lambda: s.__setitem__("x", 1),
        lambda: s.pop("x"),
        lambda: s.update(x=1),
        lambda: s.setdefault("x", 1),
        lambda: s.clear(),
    ):
        with pytest.raises(RuntimeError, match="no secret key was set"):
            write()


def test_without_secret_key_no_session_is_opened() -> None:
    app = StubApp(SECRET_KEY=None)
    assert iface.get_signing_serializer(app) is None
    assert iface.open_session(app, request_with()) is None
    null = iface.make_null_session(app)
    assert iface.is_null_session(null)
    assert not iface.is_null_session(SecureCookieSession())


def test_round_trip_keeps_tagged_types() -> None:
    app = StubApp()
    s = iface.open_session(app, request_with())
    assert isinstance(s, SecureCookieSession) and len(s) == 0
    s["t"] = (1, 2)
    s["b"] = b"\x00\xff"
    _, value = saved_cookie(app, s)
    assert value
    back = iface.open_session(app, request_with(value))
    assert back == {"t": (1, 2), "b": b"\x00\xff"}
    assert not back.modified


@pytest.mark.parametrize("cookie", ["garbage", "a.b.c", "", "eyJ4Ijoxfq.x.y"])
def test_unreadable_cookie_gives_fresh_session(cookie: str) -> None:
    s = iface.open_session(StubApp(), request_with(cookie))
    assert isinstance(s, SecureCookieSession)
    assert dict(s) == {}


def test_tampered_and_expired_cookies_are_ignored() -> None:
    app = StubApp()
    s = SecureCookieSession()
    s["user"] = "alice"
    _, value = saved_cookie(app, s)
    assert value is not None
    tampered = value.replace(value[2], "A" if value[2] != "A" else "B", 1)
    assert dict(iface.open_session(app, request_with(tampered))) == {}

    expired_app = StubApp(PERMANENT_SESSION_LIFETIME=-1)
    assert dict(iface.open_session(expired_app, request_with(value))) == {}


def test_fallback_keys_verify_and_current_key_signs() -> None:
    def changed(n: int) -> SecureCookieSession:
        s = SecureCookieSession()
        s["n"] = n
        return s

    old = StubApp(SECRET_KEY="old")
    _, value = saved_cookie(old, changed(1))

    rotated = StubApp(SECRET_KEY="new", SECRET_KEY_FALLBACKS=["older", "old"])
    assert dict(iface.open_session(rotated, request_with(value))) == {"n": 1}

    _, fresh = saved_cookie(rotated, changed(2))
    only_new = StubApp(SECRET_KEY="new")
    assert dict(iface.open_session(only_new, request_with(fresh))) == {"n": 2}
    assert dict(iface.open_session(only_new, request_with(value))) == {}


def test_untouched_session_sets_nothing() -> None:
    response, value = saved_cookie(StubApp(), SecureCookieSession({"a": 1}))
    assert value is None
    assert "Vary" not in response.headers


def test_reading_session_adds_to_a_vary_header_that_is_the_only_header() -> None:
    s = SecureCookieSession({"a": 1})
    s.get("a")
    response = Response()
    response.headers.clear()
    response.headers["Vary"] = "Accept"
    expected = Response()
    expected.headers.clear()
    expected.headers["Vary"] = "Accept"
    expected.vary.add("Cookie")  # Werkzeug's own answer
    iface.save_session(StubApp(), s, response)
    assert response.headers.get_all("Vary") == expected.headers.get_all("Vary") == ["Accept, Cookie"]


def test_reading_session_adds_vary_once() -> None:
    s = SecureCookieSession({"a": 1})
    s.get("a")
    response = Response()
    response.vary.add("Accept")
    iface.save_session(StubApp(), s, response)
    assert response.headers.get_all("Vary") == ["Accept, Cookie"]
    assert "Set-Cookie" not in response.headers


def test_cookie_attributes_follow_config() -> None:
    app = StubApp(
        SESSION_COOKIE_DOMAIN=".example.com",
        SESSION_COOKIE_HTTPONLY=False,
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_PARTITIONED=True,
        APPLICATION_ROOT="/app",
    )
    s = SecureCookieSession()
    s["x"] = 1
    response, _ = saved_cookie(app, s)
    header = response.headers["Set-Cookie"].lower()
    assert "domain=example.com" in header or "domain=.example.com" in header
    assert "path=/app" in header
    assert "secure" in header
    assert "httponly" not in header
    assert "samesite=strict" in header
    assert "partitioned" in header
    assert "expires" not in header
    assert response.headers["Vary"] == "Cookie"


def test_explicit_cookie_path_wins_over_application_root() -> None:
    app = StubApp(SESSION_COOKIE_PATH="/only", APPLICATION_ROOT="/app")
    assert iface.get_cookie_path(app) == "/only"
    assert iface.get_cookie_path(StubApp(APPLICATION_ROOT="/app")) == "/app"


def test_invalid_samesite_is_rejected() -> None:
    s = SecureCookieSession()
    s["x"] = 1
    with pytest.raises(ValueError):
        saved_cookie(StubApp(SESSION_COOKIE_SAMESITE="sometimes"), s)


def test_emptied_session_deletes_cookie_with_same_scope() -> None:
    app = StubApp(
        SESSION_COOKIE_DOMAIN="example.com",
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_PARTITIONED=True,
        SESSION_COOKIE_PATH="/p",
    )
    s = SecureCookieSession({"a": 1})
    s.clear()
    response, value = saved_cookie(app, s)
    header = response.headers["Set-Cookie"].lower()
    assert header.startswith("session=;")
    assert "max-age=0" in header or "expires=thu, 01 jan 1970" in header
    for part in ("domain=example.com", "path=/p", "secure", "samesite=lax"):
        assert part in header
    assert "partitioned" in header
    assert response.headers["Vary"] == "Cookie"


def test_permanent_session_expires_after_lifetime() -> None:
    app = StubApp(PERMANENT_SESSION_LIFETIME=3600)
    s = SecureCookieSession()
    s.permanent = True
    expected = datetime.now(timezone.utc) + timedelta(hours=1)
    got = iface.get_expiration_time(app, s)
    assert got is not None and abs((got - expected).total_seconds()) < 5
    response, _ = saved_cookie(app, s)
    assert "expires=" in response.headers["Set-Cookie"].lower()


@pytest.mark.parametrize(
    ("permanent", "refresh", "expected"),
    [(True, True, True), (True, False, False), (False, True, False)],
)
def test_unmodified_session_refresh_rules(
    permanent: bool, refresh: bool, expected: bool
) -> None:
    app = StubApp(SESSION_REFRESH_EACH_REQUEST=refresh)
    s = SecureCookieSession({"_permanent": permanent, "a": 1})
    assert iface.should_set_cookie(app, s) is expected
    response, value = saved_cookie(app, s)
    assert (value is not None) is expected
    # Refreshing the cookie still has to vary caches on it.
    assert ("Vary" in response.headers) is expected
    assert not s.accessed


def test_base_interface_is_abstract_and_defaults() -> None:
    base = SessionInterface()
    assert base.pickle_based is False
    assert base.null_session_class is NullSession
    with pytest.raises(NotImplementedError):
        base.open_session(StubApp(), request_with())  # type: ignore[arg-type]
    with pytest.raises(NotImplementedError):
        base.save_session(StubApp(), SecureCookieSession(), Response())  # type: ignore[arg-type]


def test_signer_settings() -> None:
    assert iface.salt == "cookie-session"
    assert iface.key_derivation == "hmac"
    assert iface.digest_method(b"abc").name == "sha1"
    signer = iface.get_signing_serializer(StubApp())
    assert signer is not None
    assert signer.salt == b"cookie-session"


def test_mixin_defaults_on_custom_mapping() -> None:
    class DictSession(dict, SessionMixin):  # type: ignore[type-arg]
        pass

    s = DictSession()
    assert s.new is False and s.modified is True and s.accessed is True
    s.permanent = 1  # type: ignore[assignment]
    assert s["_permanent"] is True


@pytest.mark.parametrize(
    "attrs",
    [
        dict(domain=None, path="/", secure=False, httponly=True, samesite=None, partitioned=False),
        dict(domain=".Example.org", path="/app root", secure=True, httponly=False, samesite="lax", partitioned=False),
        dict(domain="b\u00fccher.test", path=None, secure=False, httponly=True, samesite="None", partitioned=True),
    ],
)
@pytest.mark.parametrize("name", ["session", "s\u00e9ance"])
def test_token_cookie_header_is_set_cookies(attrs: dict[str, t.Any], name: str) -> None:
    from flask.sessions import _token_cookie_header
    from flask.wrappers import Response as FlaskResponse

    token = "eyJ2aXNpdHMiOjJ9.awHCwA.C_Hz62jZLXd4lQobTe5Z7_Bl8RU"
    for _ in range(2):  # made, then remembered
        theirs = FlaskResponse()
        theirs.set_cookie(name, token, expires=None, **attrs)
        ours = _token_cookie_header(name, token, dict(attrs, expires=None), 4093)
        assert [ours] == theirs.headers.getlist("Set-Cookie")


def test_token_cookie_header_steps_aside() -> None:
    from flask.sessions import _token_cookie_header

    attrs = dict(domain=None, path="/", secure=False, httponly=True, samesite=None, partitioned=False)
    expiring = dict(attrs, expires=datetime(2030, 1, 1, tzinfo=timezone.utc))
    assert _token_cookie_header("s", "tok", expiring, 4093) is None
    assert _token_cookie_header("s", "needs quoting;", dict(attrs, expires=None), 4093) is None
    assert _token_cookie_header("s", "x" * 5000, dict(attrs, expires=None), 4093) is None
    assert _token_cookie_header("s", "x" * 5000, dict(attrs, expires=None), 0) is not None


def test_custom_set_cookie_and_oversized_cookies_go_through_set_cookie() -> None:
    import flask

    calls = []

    class Own(flask.Response):
        def set_cookie(self, *args: t.Any, **kwargs: t.Any) -> None:
            calls.append(args[0])
            super().set_cookie(*args, **kwargs)

    app = flask.Flask(__name__)
    app.secret_key = "k"
    app.response_class = Own

    @app.route("/set/<int:n>")
    def set_value(n: int) -> str:
        import secrets

        flask.session["v"] = secrets.token_urlsafe(n)  # does not compress
        return "ok"

    client = app.test_client()
    assert client.get("/set/3").headers["Set-Cookie"].startswith("session=")
    assert calls == ["session"]

    app.response_class = flask.Response
    with pytest.warns(UserWarning, match="too large"):
        client.get("/set/5000")


def test_signing_serializer_follows_key_and_setting_changes() -> None:
    import flask

    app = flask.Flask(__name__)
    app.secret_key = "one"
    interface = SecureCookieSessionInterface()
    first = interface.get_signing_serializer(app)
    assert interface.get_signing_serializer(app) is first
    token = first.dumps({"a": 1})

    app.secret_key = "two"
    second = interface.get_signing_serializer(app)
    assert second is not first
    fallbacks = app.config["SECRET_KEY_FALLBACKS"] = []
    fallbacks.append("one")  # changed in place after being read
    third = interface.get_signing_serializer(app)
    assert third.loads(token) == {"a": 1}

    interface.salt = "other-salt"
    assert interface.get_signing_serializer(app) is not third


def run(code: str) -> str:
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True, text=True, check=True,
    )
    return out.stdout.strip()


APP = """
import sys
import flask
from flask.sessions import SessionInterface

saved = []


class Recording(SessionInterface):
    def open_session(self, app, request):
        return {}

    def save_session(self, app, session, response):
        saved.append(request_path())


def request_path():
    return flask.request.path


app = flask.Flask("placeholder")


@app.route("/")
def index():
    return "ok"
"""


def test_a_request_that_needs_no_session_imports_no_session_machinery() -> None:
    # The shortcut is taken: a cookie-less request to a view that does not
    # touch the session leaves flask.sessions and ItsDangerous unimported.
    # (The test client imports flask.sessions itself, so the request is a
    # plain WSGI call.)
    out = run(APP.replace("from flask.sessions import SessionInterface", "").replace(
        "class Recording(SessionInterface):", "class Recording:") + """
import io
environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/", "SERVER_NAME": "localhost",
           "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.url_scheme": "http",
           "wsgi.input": io.BytesIO(), "wsgi.errors": sys.stderr, "HTTP_HOST": "localhost"}
body = b"".join(app(environ, lambda status, headers, exc_info=None: None))
assert body == b"ok", body
print("flask.sessions" in sys.modules, "itsdangerous" in sys.modules)
""")
    assert out == "False False"


def test_an_interface_set_on_the_instance_is_asked_to_save() -> None:
    out = run(APP + """
app.session_interface = Recording()
app.test_client().get("/")
print(saved)
""")
    assert out == "['/']"


def test_an_interface_set_on_a_subclass_is_asked_to_save() -> None:
    out = run(APP + """
class App(flask.Flask):
    session_interface = Recording()


sub = App("sub")
sub.add_url_rule("/", view_func=lambda: "ok")
sub.test_client().get("/")
print(saved)
""")
    assert out == "['/']"


def test_the_default_interface_still_saves_a_touched_session() -> None:
    out = run(APP + """
app.secret_key = "k"


@app.route("/set")
def set_value():
    flask.session["a"] = 1
    return "ok"


response = app.test_client().get("/set")
print("session=" in response.headers.get("Set-Cookie", ""))
""")
    assert out == "True"


def test_a_custom_interface_is_asked_to_save_when_other_cookies_are_sent() -> None:
    # Only Flask's cookie session may skip saving when its own cookie is
    # absent; another interface is asked on every request, whatever the
    # request's other cookies.
    out = run(APP + """
app.session_interface = Recording()
app.test_client().get("/", headers={"Cookie": "other=1"})
print(saved)
""")
    assert out == "['/']"
