"""Session tokens must stay interchangeable with ItsDangerous's own."""

from __future__ import annotations

import hashlib
import time

import pytest
from itsdangerous import BadSignature
from itsdangerous import SignatureExpired
from itsdangerous import URLSafeTimedSerializer

from flask._accel.signing import SessionTokenSerializer
from flask.json.tag import TaggedJSONSerializer

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
