"""``flask._accel.signing`` claims the very tokens ItsDangerous makes, byte for
byte, and the same verdicts on the tokens it is given. These tests hold it
to that against ``URLSafeTimedSerializer`` itself, on seeded random
payloads around the compression threshold, key rotation and timestamps
from the past and the future."""

from __future__ import annotations

import hashlib
import random
import string
import time
import typing as t

import pytest
from itsdangerous import BadData
from itsdangerous import BadSignature
from itsdangerous import URLSafeTimedSerializer

import flask
from flask._accel.signing import SessionTokenSerializer
from flask.json.tag import TaggedJSONSerializer
from flask.sessions import SecureCookieSessionInterface

NOW = 1_700_000_000
SETTINGS: dict[str, t.Any] = dict(
    salt="cookie-session",
    serializer=TaggedJSONSerializer(),
    signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha1},
)


@pytest.fixture(autouse=True)
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
def test_tokens_are_byte_identical_on_random_payloads(keys: list[t.Any]) -> None:
    rng = random.Random(1)
    ours = SessionTokenSerializer(keys, **SETTINGS)
    stock = URLSafeTimedSerializer(keys, **SETTINGS)
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


def test_tokens_at_the_compression_threshold_are_byte_identical() -> None:
    # ItsDangerous compresses only when that saves more than one byte:
    # walk a payload through the sizes where the choice flips.
    ours = SessionTokenSerializer(["k"], **SETTINGS)
    stock = URLSafeTimedSerializer(["k"], **SETTINGS)
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
def test_verdicts_on_token_age_match_itsdangerous(
    offset: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A token stamped ``offset`` seconds before now (negative: in the
    # future), read with max_age=60.
    stock = URLSafeTimedSerializer(["k"], **SETTINGS)
    monkeypatch.setattr(time, "time", lambda: NOW - offset + 0.5)
    token = stock.dumps({"a": 1})
    monkeypatch.setattr(time, "time", lambda: NOW + 0.5)
    ours = SessionTokenSerializer(["k"], **SETTINGS)

    def verdict(serializer: URLSafeTimedSerializer) -> object:
        try:
            return serializer.loads(token, max_age=60)
        except BadData as e:
            return (type(e), str(e))

    assert verdict(ours) == verdict(stock)


def test_a_session_cookie_dated_in_the_future_is_ignored(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = flask.Flask(__name__)
    app.secret_key = "k"

    @app.route("/")
    def index() -> str:
        return repr(dict(flask.session))

    stock = URLSafeTimedSerializer(["k"], **SETTINGS)
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
def test_verdicts_on_malformed_tokens_match_itsdangerous(token: str) -> None:
    ours = SessionTokenSerializer(["k"], **SETTINGS)
    stock = URLSafeTimedSerializer(["k"], **SETTINGS)

    def verdict(serializer: URLSafeTimedSerializer) -> object:
        try:
            return serializer.loads(token, max_age=60)
        except BadSignature:
            # The session interface treats every BadSignature alike.
            return "bad signature"
        except BadData as e:
            return type(e)

    assert verdict(ours) == verdict(stock)


def test_resigned_tampered_tokens_match_itsdangerous() -> None:
    # Tokens with a valid signature over a malformed timestamp or payload:
    # only the checks after the signature can tell them apart.
    from itsdangerous import Signer

    signer = Signer("k", salt="cookie-session", key_derivation="hmac", digest_method=hashlib.sha1)
    ours = SessionTokenSerializer(["k"], **SETTINGS)
    stock = URLSafeTimedSerializer(["k"], **SETTINGS)
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


def test_the_session_interface_signs_as_itsdangerous_does() -> None:
    app = flask.Flask(__name__)
    app.secret_key = "new"
    app.config["SECRET_KEY_FALLBACKS"] = ["oldest", "old"]
    interface = SecureCookieSessionInterface()
    ours = interface.get_signing_serializer(app)
    assert ours is not None
    stock = URLSafeTimedSerializer(["oldest", "old", "new"], **SETTINGS)
    rng = random.Random(3)
    for _ in range(200):
        payload = random_payload(rng)
        assert ours.dumps(payload) == stock.dumps(payload)
    for key in ("oldest", "old", "new"):
        assert ours.loads(URLSafeTimedSerializer([key], **SETTINGS).dumps({"k": key})) == {"k": key}


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
def test_other_digests_give_itsdangerous_tokens(digest: t.Any) -> None:
    settings = dict(SETTINGS, signer_kwargs={"key_derivation": "hmac", "digest_method": digest})
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


def test_other_salts_are_read_with_itsdangerous() -> None:
    ours = SessionTokenSerializer(["k"], **SETTINGS)
    stock = URLSafeTimedSerializer(["k"], **SETTINGS)
    token = stock.dumps({"a": 1}, salt="elsewhere")
    assert ours.loads(token, salt="elsewhere") == {"a": 1}
    assert ours.loads(token, max_age=10, salt="elsewhere") == {"a": 1}
    with pytest.raises(BadSignature):
        ours.loads(token)


@pytest.mark.parametrize("payload", [b"!!!", b"a", b".a", b".bm90LXpsaWI", b"bm90LWpzb24"])
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

    ours = SessionTokenSerializer(["k"], **SETTINGS)
    stock = URLSafeTimedSerializer(["k"], **SETTINGS)
    assert chain(ours._load_token_payload) == chain(stock.load_payload)


@pytest.mark.parametrize("text", ['{"a": 1}', '{"a": "\u00e9"}'])
@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "utf-32", "latin-1"])
def test_payload_encodings_are_read_as_itsdangerous_reads_them(text: str, encoding: str) -> None:
    # JSON is text to ItsDangerous: UTF-8 only, although json.loads would
    # guess UTF-16 and UTF-32 from bytes.
    import base64

    payload = base64.urlsafe_b64encode(text.encode(encoding)).rstrip(b"=")
    ours = SessionTokenSerializer(["k"], **SETTINGS)
    stock = URLSafeTimedSerializer(["k"], **SETTINGS)

    def verdict(load: t.Callable[[bytes], t.Any]) -> t.Any:
        try:
            return load(payload)
        except BadData as e:
            return type(e)

    assert verdict(ours._load_token_payload) == verdict(stock.load_payload)
