"""Session tokens must stay interchangeable with ItsDangerous's own.

``flask._accel.signing`` claims the very tokens ItsDangerous makes, byte for
byte, and the same verdicts on the tokens it is given. These tests hold it
to that against ``URLSafeTimedSerializer`` itself, on seeded random
payloads around the compression threshold, key rotation and timestamps
from the past and the future. Whole apps' session cookies are compared
with what ItsDangerous signs and Werkzeug's ``dump_cookie`` writes, and
spies show the direct signing path is the one taken.
"""

from __future__ import annotations

import hashlib
import json
import random
import string
import time
import typing as t
import uuid

import itsdangerous
import pytest
from itsdangerous import BadData
from itsdangerous import BadSignature
from itsdangerous import SignatureExpired
from itsdangerous import URLSafeTimedSerializer
from werkzeug.exceptions import NotFound
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Response as WerkzeugResponse

import flask
from flask import sessions
from flask._accel.signing import SessionTokenSerializer
from flask.json.tag import TaggedJSONSerializer
from flask.sessions import SecureCookieSessionInterface


KEYS = ["old-key", "new-key"]


SETTINGS = dict(
    salt="cookie-session",
    serializer=TaggedJSONSerializer(),
    signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha1},
)


SMALL = {"n": 1}


LARGE = {"text": "compressible " * 50, "when": b"\x00\x01"}  # compressed


def ours(keys: list[str] = KEYS) -> SessionTokenSerializer:
    return SessionTokenSerializer(keys, **SETTINGS)


def stock(keys: list[str] = KEYS) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(keys, **SETTINGS)


@pytest.mark.parametrize("value", [SMALL, LARGE])
def test_tokens_cross_verify(value: dict[str, object]) -> None:
    assert stock().loads(ours().dumps(value), max_age=60) == value
    assert ours().loads(stock().dumps(value), max_age=60) == value


def test_large_payloads_are_compressed_like_itsdangerous() -> None:
    assert ours().dumps(LARGE).startswith(".")
    assert not ours().dumps(SMALL).startswith(".")


def test_older_key_still_verifies_and_newest_signs() -> None:
    token = stock(["old-key"]).dumps(SMALL)
    assert ours().loads(token) == SMALL
    with pytest.raises(BadSignature):
        stock(["old-key"]).loads(ours().dumps(SMALL))


@pytest.mark.parametrize(
    "mangle",
    [
        lambda tok: tok[:-2] + ("A" if tok[-2] != "A" else "B") + tok[-1],
        lambda tok: tok.replace(".", "", 2),
        lambda tok: "garbage",
        lambda tok: tok + "AAAA",
        lambda tok: "",
    ],
)
def test_tampered_tokens_raise_bad_signature(mangle) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(BadSignature):
        ours().loads(mangle(ours().dumps(SMALL)))


def test_expired_tokens_raise(monkeypatch: pytest.MonkeyPatch) -> None:
    token = ours().dumps(SMALL)
    later = time.time() + 100
    monkeypatch.setattr(time, "time", lambda: later)
    with pytest.raises(SignatureExpired):
        ours().loads(token, max_age=10)
    assert ours().loads(token, max_age=1000) == SMALL


def test_other_salts_and_timestamps_use_itsdangerous() -> None:
    token = ours().dumps(SMALL, salt="other")
    assert stock().loads(token, salt="other") == SMALL
    value, stamp = ours().loads(ours().dumps(SMALL), return_timestamp=True)
    assert value == SMALL and stamp.year >= 2024


def test_junk_characters_are_ignored_as_itsdangerous_ignores_them() -> None:
    # Base64 decoding drops characters outside its alphabet in both.
    token = ours().dumps(SMALL) + "!!"
    assert stock().loads(token) == ours().loads(token) == SMALL


def test_named_and_callable_digests_sign_alike() -> None:
    from flask.sessions import _lazy_sha1

    callable_digest = SessionTokenSerializer(
        KEYS, salt="cookie-session", serializer=TaggedJSONSerializer(),
        signer_kwargs={"key_derivation": "hmac", "digest_method": _lazy_sha1},
    )
    assert callable_digest._digest == "sha1"  # took the one-call HMAC
    assert stock().loads(callable_digest.dumps(SMALL)) == SMALL


def test_vary_cookie_joins_an_existing_vary_header() -> None:
    import flask

    app = flask.Flask(__name__)
    app.secret_key = "k"

    @app.route("/")
    def index() -> flask.Response:
        flask.session["x"] = 1
        return flask.Response("ok", headers={"Vary": "Accept-Encoding"})

    assert app.test_client().get("/").headers["Vary"] == "Accept-Encoding, Cookie"


@pytest.mark.parametrize("digest", ["sha1", "sha256", "sha512", "sha3_256", "blake2b", hashlib.sha1])
@pytest.mark.parametrize("key_length", [0, 20, 64, 128, 200])
def test_hmac_function_is_hmac(digest, key_length):
    import hmac

    from flask._accel.signing import _hmac_function

    key = bytes(range(256))[:key_length] if key_length <= 256 else b""
    mac = _hmac_function(key, digest)
    for message in (b"", b"payload.stamp", b"x" * 1000):
        assert mac(message) == hmac.digest(key, message, digest)
        assert mac(message) == mac(message)  # the pads are not consumed


@pytest.mark.parametrize(
    "payload",
    [b"eyJuIjoxfQ", b".eJyrVspLzEtVslIqSc0tyMlPTC1RKElMzc9JyVcoTi0qS8xJBQCKlgpp", b"!!!", b".bm90LXpsaWI", b"bm90LWpzb24", b"a", b".a"],
)
def test_token_payloads_load_as_itsdangerous_loads_them(payload: bytes) -> None:
    from itsdangerous import BadPayload

    def outcome(load):
        try:
            return ("ok", load(payload))
        except BadPayload as e:
            return ("bad", str(e), type(e.original_error))

    assert outcome(ours()._load_token_payload) == outcome(stock().load_payload)


def test_overridden_load_payload_is_used() -> None:
    class Marked(SessionTokenSerializer):
        def load_payload(self, payload, serializer=None):  # type: ignore[no-untyped-def]
            return {"marked": super().load_payload(payload, serializer)}

    token = stock().dumps(SMALL)
    assert Marked(KEYS, **SETTINGS).loads(token) == {"marked": SMALL}


NOW = 1_700_000_000


COOKIE_SETTINGS: dict[str, t.Any] = dict(
    salt="cookie-session",
    serializer=TaggedJSONSerializer(),
    signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha1},
)


@pytest.fixture
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    # Both sides read time.time(); the same second gives the same stamp.
    monkeypatch.setattr(time, "time", lambda: NOW + 0.5)


def random_payload(rng: random.Random) -> dict[str, t.Any]:
    """Payloads whose JSON is from a few bytes to a few KiB, with a mix of
    repetitive (compressible) and random (incompressible) text, so that
    many fall on either side of ItsDangerous's compression threshold."""
    kind = rng.randrange(4)
    size = rng.choice([rng.randrange(0, 40), rng.randrange(40, 400), rng.randrange(400, 3000)])
    if kind == 0:
        text = "".join(rng.choice(string.printable) for _ in range(size))
    elif kind == 1:
        text = rng.choice(["ab", "xyz ", "é", "\x00"]) * size
    elif kind == 2:
        text = "".join(rng.choice("ab") for _ in range(size))
    else:
        text = "".join(chr(rng.randrange(32, 0x2FFF)) for _ in range(size // 3))
    payload: dict[str, t.Any] = {"t": text}
    if rng.random() < 0.5:
        payload["n"] = rng.randrange(-(10**9), 10**9)
    if rng.random() < 0.3:
        payload["b"] = bytes(rng.randrange(256) for _ in range(rng.randrange(20)))
    if rng.random() < 0.3:
        payload["l"] = [rng.random() for _ in range(rng.randrange(10))]
    return payload


@pytest.mark.parametrize("keys", [["only"], ["older", "newer"], [b"\xffbytes", "k" * 200]])
@pytest.mark.usefixtures("frozen_clock")
def test_tokens_are_byte_identical_on_random_payloads(keys: list[t.Any]) -> None:
    rng = random.Random(1)
    ours = SessionTokenSerializer(keys, **COOKIE_SETTINGS)
    stock = URLSafeTimedSerializer(keys, **COOKIE_SETTINGS)
    compressed = plain = 0
    for _ in range(700):
        payload = random_payload(rng)
        token = ours.dumps(payload)
        assert token == stock.dumps(payload)
        if token.startswith("."):
            compressed += 1
        else:
            plain += 1
    assert compressed > 50 and plain > 50  # both sides of the threshold


@pytest.mark.usefixtures("frozen_clock")
def test_tokens_at_the_compression_threshold_are_byte_identical() -> None:
    # ItsDangerous compresses only when that saves more than one byte:
    # walk a payload through the sizes where the choice flips.
    ours = SessionTokenSerializer(["k"], **COOKIE_SETTINGS)
    stock = URLSafeTimedSerializer(["k"], **COOKIE_SETTINGS)
    rng = random.Random(2)
    flips = 0
    last = None
    for size in range(0, 120):
        for alphabet in ("ab", "abcdefgh", string.ascii_letters):
            payload = {"v": "".join(rng.choice(alphabet) for _ in range(size))}
            token = ours.dumps(payload)
            assert token == stock.dumps(payload)
            state = token.startswith(".")
            flips += state != last
            last = state
    assert flips > 2


@pytest.mark.parametrize("offset", [-1000, -1, 0, 1, 59, 60, 61, 3600])
@pytest.mark.usefixtures("frozen_clock")
def test_verdicts_on_token_age_match_itsdangerous(
    offset: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A token stamped ``offset`` seconds before now (negative: in the
    # future), read with max_age=60.
    stock = URLSafeTimedSerializer(["k"], **COOKIE_SETTINGS)
    monkeypatch.setattr(time, "time", lambda: NOW - offset + 0.5)
    token = stock.dumps({"a": 1})
    monkeypatch.setattr(time, "time", lambda: NOW + 0.5)
    ours = SessionTokenSerializer(["k"], **COOKIE_SETTINGS)

    def verdict(serializer: URLSafeTimedSerializer) -> object:
        try:
            return serializer.loads(token, max_age=60)
        except BadData as e:
            return (type(e), str(e))

    assert verdict(ours) == verdict(stock)


@pytest.mark.usefixtures("frozen_clock")
def test_a_session_cookie_dated_in_the_future_is_ignored(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = flask.Flask(__name__)
    app.secret_key = "k"

    @app.route("/")
    def index() -> str:
        return repr(dict(flask.session))

    stock = URLSafeTimedSerializer(["k"], **COOKIE_SETTINGS)
    monkeypatch.setattr(time, "time", lambda: NOW + 3600.5)
    future = stock.dumps({"user": "mallory"})
    monkeypatch.setattr(time, "time", lambda: NOW + 0.5)
    client = app.test_client()
    client.set_cookie("session", future)
    assert client.get("/").data == b"{}"


@pytest.mark.parametrize(
    "token",
    [
        "", ".", "..", "a.b", "a.b.c", "eyJhIjoxfQ.ZVVTAA.", "eyJhIjoxfQ..x",
        ".eJyrVkpUslIqSc0tyMlPTC1RKElMzc9JyVcoTi0qS8xJBQCKlgpp.ZVVTAA.x",
        "eyJhIjoxfQ.AAAAAAAAAAAA.x", "eyJhIjoxfQ.!!!!.x",
    ],
)
@pytest.mark.usefixtures("frozen_clock")
def test_verdicts_on_malformed_tokens_match_itsdangerous(token: str) -> None:
    ours = SessionTokenSerializer(["k"], **COOKIE_SETTINGS)
    stock = URLSafeTimedSerializer(["k"], **COOKIE_SETTINGS)

    def verdict(serializer: URLSafeTimedSerializer) -> object:
        try:
            return serializer.loads(token, max_age=60)
        except BadSignature:
            # The session interface treats every BadSignature alike.
            return "bad signature"
        except BadData as e:
            return type(e)

    assert verdict(ours) == verdict(stock)


@pytest.mark.usefixtures("frozen_clock")
def test_resigned_tampered_tokens_match_itsdangerous() -> None:
    # Tokens with a valid signature over a malformed timestamp or payload:
    # only the checks after the signature can tell them apart.
    from itsdangerous import Signer

    signer = Signer("k", salt="cookie-session", key_derivation="hmac", digest_method=hashlib.sha1)
    ours = SessionTokenSerializer(["k"], **COOKIE_SETTINGS)
    stock = URLSafeTimedSerializer(["k"], **COOKIE_SETTINGS)
    import base64

    def stamp(n: int, size: int) -> bytes:
        return base64.urlsafe_b64encode(n.to_bytes(size, "big")).rstrip(b"=")

    for body in [b"eyJhIjoxfQ", b"eyJhIjoxfQ.AAAAAAAAAAAA", b"eyJhIjoxfQ.!!", b"eyJhIjoxfQ.",
                 b".eJzLSM3JyQcABiwCFQ.ZVVTAA", b"e30.ZVVTAA", b"bm90IGpzb24.ZVVTAA",
                 b"eyJhIjoxfQ." + stamp(NOW, 8), b"eyJhIjoxfQ." + stamp(NOW, 9),
                 b"eyJhIjoxfQ." + stamp(NOW, 4)]:
        token = signer.sign(body)
        outcomes = []
        for serializer in (ours, stock):
            try:
                outcomes.append(serializer.loads(token, max_age=10**9))
            except BadData as e:
                outcomes.append((type(e), str(e)))
        assert outcomes[0] == outcomes[1], body


@pytest.mark.usefixtures("frozen_clock")
def test_the_session_interface_signs_as_itsdangerous_does() -> None:
    app = flask.Flask(__name__)
    app.secret_key = "new"
    app.config["SECRET_KEY_FALLBACKS"] = ["oldest", "old"]
    interface = SecureCookieSessionInterface()
    ours = interface.get_signing_serializer(app)
    assert ours is not None
    stock = URLSafeTimedSerializer(["oldest", "old", "new"], **COOKIE_SETTINGS)
    rng = random.Random(3)
    for _ in range(200):
        payload = random_payload(rng)
        assert ours.dumps(payload) == stock.dumps(payload)
    for key in ("oldest", "old", "new"):
        assert ours.loads(URLSafeTimedSerializer([key], **COOKIE_SETTINGS).dumps({"k": key})) == {"k": key}


class Unnamed:
    """A digest constructor that hashlib does not know by name: signing
    must go through ``hmac`` with the constructor itself."""

    digest_size = 32
    block_size = 64
    name = "not-a-hashlib-name"

    def __init__(self, data: bytes = b"") -> None:
        self._h = hashlib.sha256(data)

    def update(self, data: bytes) -> None:
        self._h.update(data)

    def copy(self) -> Unnamed:
        other = Unnamed.__new__(Unnamed)
        other._h = self._h.copy()
        return other

    def digest(self) -> bytes:
        return self._h.digest()


@pytest.mark.parametrize("digest", [Unnamed, hashlib.sha256, hashlib.sha512])
@pytest.mark.usefixtures("frozen_clock")
def test_other_digests_give_itsdangerous_tokens(digest: t.Any) -> None:
    settings = dict(COOKIE_SETTINGS, signer_kwargs={"key_derivation": "hmac", "digest_method": digest})
    ours = SessionTokenSerializer(["k1", "k2"], **settings)
    stock = URLSafeTimedSerializer(["k1", "k2"], **settings)
    rng = random.Random(4)
    for _ in range(20):
        payload = random_payload(rng)
        token = ours.dumps(payload)
        assert token == stock.dumps(payload)
        assert ours.loads(token, max_age=10) == payload
    old = URLSafeTimedSerializer(["k1"], **settings).dumps({"old": 1})
    assert ours.loads(old) == {"old": 1}


@pytest.mark.usefixtures("frozen_clock")
def test_other_salts_are_read_with_itsdangerous() -> None:
    ours = SessionTokenSerializer(["k"], **COOKIE_SETTINGS)
    stock = URLSafeTimedSerializer(["k"], **COOKIE_SETTINGS)
    token = stock.dumps({"a": 1}, salt="elsewhere")
    assert ours.loads(token, salt="elsewhere") == {"a": 1}
    assert ours.loads(token, max_age=10, salt="elsewhere") == {"a": 1}
    with pytest.raises(BadSignature):
        ours.loads(token)


@pytest.mark.parametrize("payload", [b"!!!", b"a", b".a", b".bm90LXpsaWI", b"bm90LWpzb24"])
@pytest.mark.usefixtures("frozen_clock")
def test_payload_errors_chain_as_itsdangerous_chains_them(payload: bytes) -> None:
    from itsdangerous import BadPayload

    def chain(load: t.Callable[[bytes], t.Any]) -> list[tuple[type, str]]:
        with pytest.raises(BadPayload) as info:
            load(payload)
        links: list[tuple[type, str]] = []
        error: BaseException | None = info.value
        while error is not None:
            links.append((type(error), str(error)))
            original = getattr(error, "original_error", None)
            error = original if original is not None and original is not error.__cause__ else error.__cause__
        return links

    ours = SessionTokenSerializer(["k"], **COOKIE_SETTINGS)
    stock = URLSafeTimedSerializer(["k"], **COOKIE_SETTINGS)
    assert chain(ours._load_token_payload) == chain(stock.load_payload)


@pytest.mark.parametrize("text", ['{"a": 1}', '{"a": "\u00e9"}'])
@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "utf-32", "latin-1"])
@pytest.mark.usefixtures("frozen_clock")
def test_payload_encodings_are_read_as_itsdangerous_reads_them(text: str, encoding: str) -> None:
    # JSON is text to ItsDangerous: UTF-8 only, although json.loads would
    # guess UTF-16 and UTF-32 from bytes.
    import base64

    payload = base64.urlsafe_b64encode(text.encode(encoding)).rstrip(b"=")
    ours = SessionTokenSerializer(["k"], **COOKIE_SETTINGS)
    stock = URLSafeTimedSerializer(["k"], **COOKIE_SETTINGS)

    def verdict(load: t.Callable[[bytes], t.Any]) -> t.Any:
        try:
            return load(payload)
        except BadData as e:
            return type(e)

    assert verdict(ours._load_token_payload) == verdict(stock.load_payload)


def observe_responses(app: flask.Flask) -> None:
    """A no-op after_request hook: the app must build full responses."""

    @app.after_request
    def keep(response: flask.Response) -> flask.Response:
        return response


def make_session_app(observed: bool) -> flask.Flask:
    app = flask.Flask(__name__)
    app.secret_key = "shortcut tests"

    @app.route("/set/<v>")
    def set_value(v: str) -> str:
        flask.session["v"] = v
        return "ok"

    @app.route("/set-json/<v>")
    def set_json(v: str) -> dict[str, str]:
        flask.session["v"] = v
        return {"v": v}

    @app.route("/read")
    def read() -> str:
        return flask.session.get("v", "none")

    @app.route("/clear")
    def clear() -> str:
        flask.session.clear()
        return "cleared"

    @app.route("/permanent")
    def permanent() -> str:
        flask.session.permanent = True
        flask.session["p"] = 1
        return "p"

    @app.route("/abort")
    def abort_after_write() -> str:
        flask.session["x"] = 1
        flask.abort(404)

    @app.route("/plain")
    def plain() -> str:
        return "plain"

    if observed:
        observe_responses(app)
    return app


def wsgi_call(app: flask.Flask, path: str, cookie: str | None, method: str = "GET"):

    headers = {"Cookie": cookie} if cookie else {}
    environ = EnvironBuilder(path=path, method=method, headers=headers).get_environ()
    seen: dict[str, object] = {}

    def start_response(status, headers, exc_info=None):  # type: ignore[no-untyped-def]
        seen["status"], seen["headers"] = status, list(headers)

    body = b"".join(app(environ, start_response))
    return seen["status"], seen["headers"], body


def session_expected(path: str, method: str, start: dict[str, t.Any] | None) -> t.Any:
    """Status, headers and body for a session_app request, written out from
    Flask's documented session behaviour: the token signed by ItsDangerous
    and the cookie written by Werkzeug's dump_cookie."""
    import hashlib
    from datetime import datetime
    from datetime import timedelta
    from datetime import timezone

    from itsdangerous import URLSafeTimedSerializer
    from werkzeug.http import dump_cookie

    from flask.json.tag import TaggedJSONSerializer

    signer = URLSafeTimedSerializer(
        "shortcut tests", salt="cookie-session", serializer=TaggedJSONSerializer(),
        signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha1},
    )
    session = dict(start or {})
    # (response, session written?, session read?, permanent?)
    if path.startswith("/set/"):
        session["v"] = path[5:]
        response, write, read = WerkzeugResponse("ok", mimetype="text/html"), True, True
    elif path.startswith("/set-json/"):
        session["v"] = path[10:]
        text = json.dumps({"v": path[10:]}, separators=(",", ":")) + "\n"
        response, write, read = WerkzeugResponse(text, mimetype="application/json"), True, True
    elif path == "/read":
        body = str(session.get("v", "none"))
        response, write, read = WerkzeugResponse(body, mimetype="text/html"), False, True
    elif path == "/clear":
        session.clear()
        response, write, read = WerkzeugResponse("cleared", mimetype="text/html"), True, True
    elif path == "/permanent":
        session["_permanent"] = True
        session["p"] = 1
        response, write, read = WerkzeugResponse("p", mimetype="text/html"), True, True
    elif path == "/abort":
        session["x"] = 1
        response, write, read = NotFound().get_response(), True, True
    else:
        response, write, read = WerkzeugResponse("plain", mimetype="text/html"), False, False
    headers = list(response.headers.items())
    if write and not session:
        cookie = dump_cookie("session", "", expires=0, max_age=0, path="/", httponly=True)
        headers.append(("Set-Cookie", cookie))
    elif write:
        expires = None
        if session.get("_permanent"):
            expires = datetime.now(timezone.utc) + timedelta(days=31)
        # Flask's JSON sorts keys (app.json.sort_keys).
        token = signer.dumps(dict(sorted(session.items())))
        headers.append(("Set-Cookie", dump_cookie("session", token, expires=expires, path="/", httponly=True)))
    if read or write:
        headers.append(("Vary", "Cookie"))
    body = b"" if method == "HEAD" else response.get_data()
    return response.status, headers, body


@pytest.mark.parametrize("observed", [False, True])
@pytest.mark.parametrize(
    "path", ["/set/a", "/set-json/b", "/read", "/clear", "/permanent", "/abort", "/plain"]
)
@pytest.mark.parametrize("method", ["GET", "HEAD"])
@pytest.mark.parametrize("with_cookie", [False, True])
def test_session_answers_are_itsdangerous_and_werkzeugs(
    path: str, method: str, with_cookie: bool, observed: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    monkeypatch.setattr(time, "time", lambda: NOW + 0.25)  # one second for every token
    app = make_session_app(observed)
    start = {"v": "start"} if with_cookie else None
    cookie = None
    if with_cookie:
        _, headers, _ = wsgi_call(app, "/set/start", None)
        cookie = dict(headers)["Set-Cookie"].split(";")[0]
    status, headers, body = wsgi_call(app, path, cookie, method)
    expected = session_expected(path, method, start)
    assert (status, without_expires(headers), body) == (
        expected[0], without_expires(expected[1]), expected[2]
    )


def without_expires(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Sorted headers, a cookie's expiry date checked (within a few
    seconds: the session takes it from the clock) and left out."""
    import re
    from datetime import datetime
    from datetime import timedelta
    from datetime import timezone
    from email.utils import parsedate_to_datetime

    fixed = []
    for key, value in headers:
        found = re.search(r"Expires=([^;]+)", value)
        if key == "Set-Cookie" and found and "Max-Age=0" not in value:
            when = parsedate_to_datetime(found.group(1))
            expected = datetime.now(timezone.utc) + timedelta(days=31)
            assert abs(when - expected) < timedelta(seconds=10)
            value = value.replace(found.group(0), "Expires=*")
        fixed.append((key, value))
    return sorted(fixed)


@pytest.mark.needs_shortcut("plain-answer")
def test_session_answers_take_the_direct_path() -> None:
    app = make_session_app(False)
    built = []
    real_init = flask.Response.__init__

    def counting_init(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        built.append(1)
        real_init(self, *args, **kwargs)

    flask.Response.__init__ = counting_init  # type: ignore[method-assign]
    try:
        status, headers, _ = wsgi_call(app, "/set/x", None)
        assert status == "200 OK" and any(k == "Set-Cookie" for k, _ in headers)
        assert built == []
        wsgi_call(app, "/permanent", None)  # an expiry date: a Response after all
        assert built == [1]
    finally:
        flask.Response.__init__ = real_init  # type: ignore[method-assign]


def test_overridden_save_session_is_called() -> None:
    from flask.sessions import SecureCookieSessionInterface

    calls = []

    class Counting(SecureCookieSessionInterface):
        def save_session(self, app, session, response):  # type: ignore[no-untyped-def]
            calls.append("class")
            super().save_session(app, session, response)

    app = make_session_app(False)
    app.session_interface = Counting()
    wsgi_call(app, "/set/a", None)
    assert calls == ["class"]

    app.session_interface = SecureCookieSessionInterface()
    original = app.session_interface.save_session
    app.session_interface.save_session = lambda *a: (calls.append("instance"), original(*a))  # type: ignore[method-assign]
    wsgi_call(app, "/set/a", None)
    assert calls == ["class", "instance"]


def make_session_app_taken(secret_key: str = "shortcuts") -> flask.Flask:
    app = flask.Flask(__name__)
    app.secret_key = secret_key

    @app.route("/set/<v>")
    def set_value(v: str) -> str:
        flask.session["v"] = v
        return "ok"

    @app.route("/get")
    def get_value() -> str:
        return str(flask.session.get("v"))

    return app


@pytest.mark.needs_shortcut("session-signing")
def test_the_session_serializer_is_made_once(seams: t.Any) -> None:
    made: list[int] = []

    class Counting(seams.get("session_serializer")):
        def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
            made.append(1)
            super().__init__(*args, **kwargs)

    seams.replace("session_serializer", Counting)
    # Apps share Flask's default session interface, and with it the
    # serializers it has made: a key no earlier test used keeps one made
    # before this test out of the count.
    first = f"made-once-{uuid.uuid4()}"
    app = make_session_app_taken(secret_key=first)
    client = app.test_client()
    for v in "abc":
        client.get(f"/set/{v}")
        assert client.get("/get").data == v.encode()
    assert made == [1]
    app.secret_key = f"rotated-{uuid.uuid4()}"
    app.config["SECRET_KEY_FALLBACKS"] = [first]
    assert client.get("/get").data == b"c"
    assert made == [1, 1]


def test_the_last_serializer_is_answered_first() -> None:
    class Watched(dict):  # type: ignore[type-arg]
        lookups = 0

        def get(self, *args: t.Any) -> t.Any:
            Watched.lookups += 1
            return super().get(*args)

    app = make_session_app_taken()
    interface = sessions.SecureCookieSessionInterface()
    first = interface.get_signing_serializer(app)
    interface.__dict__["_serializers"] = Watched(interface.__dict__["_serializers"])
    assert interface.get_signing_serializer(app) is first
    assert Watched.lookups == 0


def test_the_serializer_memo_is_bounded() -> None:
    app = make_session_app_taken()
    interface = sessions.SecureCookieSessionInterface()
    for n in range(100):
        app.secret_key = f"key {n}"
        assert interface.get_signing_serializer(app) is not None
        assert 0 < len(interface.__dict__["_serializers"]) <= 33


def test_signing_keys_are_derived_once(monkeypatch: pytest.MonkeyPatch, seams: t.Any) -> None:
    from flask._accel import signing as _signing

    derived: list[t.Any] = []
    real = itsdangerous.Signer.derive_key

    def spy(self: itsdangerous.Signer, secret_key: t.Any = None) -> bytes:
        derived.append(secret_key)
        return real(self, secret_key)

    monkeypatch.setattr(itsdangerous.Signer, "derive_key", spy)
    seams.replace("derived_keys", {})
    for _ in range(3):
        serializer = _signing.SessionTokenSerializer(["a", "b"], salt="s")
        assert serializer.loads(serializer.dumps({"x": 1})) == {"x": 1}
        assert serializer.loads(serializer.dumps({"x": 1}, salt="t"), salt="t") == {"x": 1}
    stock = itsdangerous.TimestampSigner("b", salt="s").derive_key()
    assert len(derived) == 4  # a, b for "s" and b (and a, verifying) for "t"
    assert stock in seams.get("derived_keys").values()


def test_the_derived_key_memo_is_bounded(seams: t.Any) -> None:
    from flask._accel import signing as _signing

    keys: dict[t.Any, bytes] = {}
    seams.replace("derived_keys", keys)
    for n in range(600):
        _signing.KeyCachingSigner(f"k{n}").derive_key()
        assert 0 < len(keys) <= 257


@pytest.mark.needs_shortcut("session-signing")
def test_session_tokens_are_signed_and_read_directly(monkeypatch: pytest.MonkeyPatch, seams: t.Any) -> None:
    def forbidden(*args: t.Any, **kwargs: t.Any) -> t.NoReturn:
        raise AssertionError("ItsDangerous's own path was taken")


    loaded: list[bytes] = []
    real = seams.get("token_payload")

    def spy(self: t.Any, payload: bytes) -> t.Any:
        loaded.append(payload)
        return real(self, payload)

    monkeypatch.setattr(itsdangerous.URLSafeTimedSerializer, "dumps", forbidden)
    monkeypatch.setattr(itsdangerous.URLSafeTimedSerializer, "loads", forbidden)
    seams.replace("token_payload", spy)
    client = make_session_app_taken().test_client()
    client.get("/set/x")
    assert client.get("/get").data == b"x"
    assert len(loaded) == 1


def test_cookie_tails_are_made_once(seams: t.Any) -> None:
    from werkzeug.http import dump_cookie

    made: list[str] = []

    def spy(key: str, value: str = "", **kwargs: t.Any) -> str:
        made.append(value)
        return dump_cookie(key, value, **kwargs)

    seams.replace("dump_cookie", spy)
    seams.replace("cookie_tails", {})
    app = make_session_app_taken()
    client = app.test_client()
    headers = [client.get(f"/set/{v}").headers["Set-Cookie"] for v in "abc"]
    assert made == ["0"]
    for header in headers:
        value = header.split(";")[0].split("=", 1)[1]
        assert header == dump_cookie("session", value, path="/", httponly=True)


def test_the_cookie_tail_memo_is_bounded(seams: t.Any) -> None:
    tails: dict[t.Any, str] = {}
    seams.replace("cookie_tails", tails)
    attrs = dict(domain=None, secure=False, samesite=None, httponly=True, partitioned=False, expires=None)
    for n in range(100):
        header = sessions._token_cookie_header("s", "v.v", {**attrs, "path": f"/p{n}"}, 4093)
        assert header == f"s=v.v; HttpOnly; Path=/p{n}"
    assert len(tails) == 64
