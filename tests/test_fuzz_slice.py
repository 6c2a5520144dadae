"""A fixed-seed slice of the differential fuzzer (fuzz/differential.py), and
the regressions it found, each under its own name.

The slice sends a few hundred seeded requests per variant to this package
and to Pallets Flask 3.1.3 (its venv built on first use; under CI it must
run) and expects every one of them sent, no difference outside
fuzz/known.py, no escaping exception and no 500 but the kitchen app's
raising view. It has no time limit: its size, not the clock, ends it. The
long differential run, thousands per variant over both transports, is
``make fuzz``. Where Pallets is plainly wrong
or crashes we differ on purpose; fuzz/known.py lists each such case with
its reason, and docs/fuzzing.md repeats them:

- host-outside-grammar: a Host header outside RFC 9110's grammar gets 400
  here (RFC 9112 section 3.2); Pallets reads it as an empty host and serves.
- port-out-of-range: on a Werkzeug that cannot build URLs with a port over
  65535 (before about 3.1.7), such a Host gets 400 here; Pallets serves
  some routes and 500s on the ones that build a URL.
- json-nested-too-deeply: a JSON body nested past the recursion limit is a
  500 (RecursionError) in Pallets, even with ``silent=True``; a 400 here.
"""

from __future__ import annotations

import json
import math
import os
import sys
import typing as t
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "fuzz"))

import differential  # noqa: E402
import generate  # noqa: E402
import known  # noqa: E402
import venvs  # noqa: E402

import flask  # noqa: E402

SLICE = 300  # requests per variant (seconds of work); `make fuzz` sends thousands
ASGI_SLICE = 100
SEED = 20261129
# The fuzzer stops at a time limit; the slice must end by its count alone.
NO_TIME_LIMIT = math.inf


def _require_pallets() -> None:
    try:
        venvs.pallets_python()
    except venvs.VenvError as e:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip(f"Pallets Flask venv unavailable: {e}")


@pytest.fixture(scope="module")
def report() -> differential.Report:
    _require_pallets()
    return differential.run(SLICE, SEED, time_limit=NO_TIME_LIMIT, log=lambda s: None)


def test_every_variant_ran_in_full(report: differential.Report) -> None:
    assert report.requests == {v: SLICE for v in differential.VARIANTS}


def test_no_difference_from_pallets(report: differential.Report) -> None:
    assert not report.failures, differential.summary(report, show=10)
    assert set(report.known) <= {k.id for k in known.KNOWN}


def test_asgi_transport_agrees_when_available() -> None:
    """Our side through ``app.asgi_app``, once the app has one."""
    _require_pallets()
    report = differential.run(ASGI_SLICE, SEED, time_limit=NO_TIME_LIMIT, transport="asgi", log=lambda s: None)
    if not hasattr(flask.Flask, "asgi_app"):
        assert report.skipped == "the app has no asgi_app"
        return
    assert report.skipped is None
    assert not report.failures, differential.summary(report, show=10)


def test_variants_match_the_kitchen_app() -> None:
    import kitchen

    assert kitchen.VARIANTS == differential.VARIANTS
    assert kitchen.SECRET_KEY == differential.SECRET_KEY


# -- the comparison itself ---------------------------------------------------------


def _answer(status: str, headers: list[list[str]], body: bytes = b"") -> dict[str, t.Any]:
    import base64

    return {"status": status, "headers": headers, "body": base64.b64encode(body).decode(), "exc": None}


def test_session_tokens_compare_by_payload() -> None:
    serializer = generate.session_serializer(differential.SECRET_KEY)
    old = generate.Generator(0, differential.SECRET_KEY).old  # signed 10 days back
    a = _answer("200 OK", [["Set-Cookie", f"session={serializer.dumps({'a': 1})}; HttpOnly; Path=/"]])
    b = _answer("200 OK", [["Set-Cookie", f"session={old.dumps({'a': 1})}; HttpOnly; Path=/"]])
    c = _answer("200 OK", [["Set-Cookie", f"session={serializer.dumps({'a': 2})}; HttpOnly; Path=/"]])
    assert a != b
    assert differential.same(a, b, code_only=False)
    assert not differential.same(a, c, code_only=False)


def test_dates_and_expiry_slack() -> None:
    a = _answer("200 OK", [["Date", "x"], ["Set-Cookie", "p=1; Expires=Thu, 01 Jan 2037 00:00:00 GMT"]])
    b = _answer("200 OK", [["Date", "y"], ["Set-Cookie", "p=1; Expires=Thu, 01 Jan 2037 00:00:03 GMT"]])
    c = _answer("200 OK", [["Date", "y"], ["Set-Cookie", "p=1; Expires=Thu, 01 Jan 2037 01:00:00 GMT"]])
    assert differential.same(a, b, code_only=False)
    assert not differential.same(a, c, code_only=False)


def test_findings_are_reported() -> None:
    report = differential.Report()
    env = {"PATH_INFO": "/", "HTTP_HOST": "localhost"}
    ok = _answer("200 OK", [])
    differential.check_one(report, "plain", 0, env, b"", ok, _answer("200 OK", [], b"x"), False)
    differential.check_one(report, "plain", 1, env, b"", ok, {**ok, "exc": "Traceback"}, False)
    differential.check_one(report, "plain", 2, env, b"", _answer("500 INTERNAL SERVER ERROR", []), ok, False)
    on_purpose = {**_answer("500 INTERNAL SERVER ERROR", []), "logged": differential.ON_PURPOSE}
    differential.check_one(report, "plain", 3, env, b"", on_purpose, on_purpose, False)
    bad_host = {"PATH_INFO": "/", "HTTP_HOST": "a b"}
    differential.check_one(report, "plain", 4, bad_host, b"", _answer("400 BAD REQUEST", []), ok, False)
    assert [f.kind for f in report.findings] == ["difference", "exception", "500"]
    assert report.known == {"host-outside-grammar": 1}
    # Over ASGI only the status code is compared.
    assert differential.same(_answer("200", []), _answer("200 OK", []), code_only=True)


def test_generator_is_seeded() -> None:
    def strip(env: dict[str, str]) -> dict[str, str]:
        return {k: v for k, v in env.items() if k != "HTTP_COOKIE"}  # signed "now"

    a = [generate.Generator(5, "k").request("plain") for _ in range(50)]
    b = [generate.Generator(5, "k").request("plain") for _ in range(50)]
    assert [(strip(e), body) for e, body in a] == [(strip(e), body) for e, body in b]


def test_asgi_scope_round_trips_through_asgiref() -> None:
    """fuzz/worker.py's environ -> scope, read back by asgiref's own
    scope -> environ conversion."""
    from asgiref.wsgi import WsgiToAsgiInstance

    import worker

    gen = generate.Generator(11, "k")
    for _ in range(200):
        strings, body = gen.request("plain")
        if not strings["QUERY_STRING"].isascii():
            continue  # asgiref decodes the query as ASCII
        environ = worker.full_environ(strings, body)
        scope = worker.asgi_scope(environ)
        instance = WsgiToAsgiInstance(None)  # type: ignore[no-untyped-call]
        instance.scope = scope
        back = instance.build_environ(scope, body)  # type: ignore[no-untyped-call]
        assert back["REQUEST_METHOD"] == strings["REQUEST_METHOD"]
        path = strings["PATH_INFO"].encode("latin-1")
        if b"\x00" not in path and path.decode("utf-8", "replace").encode() == path:
            assert back["PATH_INFO"] == strings["PATH_INFO"]
        assert back["QUERY_STRING"] == strings["QUERY_STRING"]
        assert back["SCRIPT_NAME"] == strings["SCRIPT_NAME"]
        for key, value in strings.items():
            if key.startswith("HTTP_") or key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                assert back[key] == value, key


# -- regressions found by the fuzzer ---------------------------------------------


def test_json_nested_too_deeply_is_400_not_500() -> None:
    """Found by the fuzzer (json-nested-too-deeply): '[' * 2000 made
    get_json raise RecursionError, a 500."""
    body = b"[" * 5000 + b"]" * 5000
    with pytest.raises(RecursionError):  # the independent answer: Python's parser
        json.loads(body)
    app = flask.Flask(__name__)

    @app.post("/strict")
    def strict() -> t.Any:
        return {"json": flask.request.get_json()}

    @app.post("/silent")
    def silent() -> t.Any:
        return {"json": flask.request.get_json(silent=True)}

    @app.post("/property")
    def prop() -> t.Any:
        return {"json": flask.request.json}

    client = app.test_client()
    headers = {"Content-Type": "application/json"}
    assert client.post("/strict", data=body, headers=headers).status_code == 400
    assert client.post("/property", data=body, headers=headers).status_code == 400
    response = client.post("/silent", data=body, headers=headers)
    assert (response.status_code, response.json) == (200, {"json": None})


def test_asgi_transport_against_asgiref_adapter() -> None:
    """The ASGI transport, driven through asgiref's WSGI-to-ASGI adapter
    around the WSGI app, gives the WSGI transport's answers."""
    from asgiref.wsgi import WsgiToAsgi

    import kitchen
    import worker

    app = kitchen.create_app("plain")

    class Shim:
        asgi_app = WsgiToAsgi(app.wsgi_app)  # type: ignore[no-untyped-call]

    gen = generate.Generator(3, kitchen.SECRET_KEY)
    compared = 0
    for _ in range(60):
        strings, body = gen.request("plain")
        path = strings["PATH_INFO"].encode("latin-1")
        if (
            path.decode("utf-8", "replace").encode() != path  # ASGI paths are text
            or "session" in strings["PATH_INFO"]
            or not strings["QUERY_STRING"].isascii()  # asgiref decodes it as ASCII
            or known.host_outside_grammar(strings.get("HTTP_HOST"))  # asgiref refuses it
        ):
            continue
        wsgi = worker.call_wsgi(app, worker.full_environ(strings, body))
        asgi = worker.call_asgi(Shim(), worker.full_environ(strings, body), body)
        assert asgi["status"] == wsgi["status"][:3], strings
        assert asgi["body"] == wsgi["body"], strings
        compared += 1
    assert compared > 30


def test_raw_non_utf8_query_bytes_stay_percent_encoded() -> None:
    """Found by the fuzzer (query-not-utf8): '?a=\\x80' sent raw made
    request.args raise UnicodeDecodeError, a 500."""
    from werkzeug.test import EnvironBuilder
    from werkzeug.wrappers import Request as WerkzeugRequest

    raw = EnvironBuilder("/p").get_environ()
    raw["QUERY_STRING"] = "a=\x80&b=caf\xc3\xa9&c=%ff"
    escaped = EnvironBuilder("/p").get_environ()
    escaped["QUERY_STRING"] = "a=%80&b=caf%C3%A9&c=%ff"
    # The independent answer: Werkzeug's parse of the escaped query.
    assert flask.Request(raw).args == WerkzeugRequest(escaped).args
    assert flask.Request(raw).full_path == "/p?a=%80&b=caf\u00e9&c=%ff"
    with pytest.raises(UnicodeDecodeError):  # what it replaces
        WerkzeugRequest(raw).args  # noqa: B018

    app = flask.Flask(__name__)

    @app.route("/")
    def index() -> t.Any:
        return {"args": flask.request.args.to_dict(), "full_path": flask.request.full_path}

    environ = EnvironBuilder("/").get_environ()
    environ["QUERY_STRING"] = "a=\x80"
    seen: list[str] = []
    body = b"".join(app(environ, lambda s, h, e=None: seen.append(s)))  # type: ignore[arg-type]
    assert seen == ["200 OK"]
    assert json.loads(body) == {"args": {"a": "%80"}, "full_path": "/?a=%80"}


@pytest.mark.parametrize(
    ("host", "config"),
    [("a..b", {}), ("a" * 300 + ".com", {}), ("evil.test", {"TRUSTED_HOSTS": ["good.test"]})],
)
def test_error_pages_build_urls_under_a_host_that_cannot_be_bound(host: str, config: dict[str, t.Any]) -> None:
    """Found by tests/test_properties.py on the blog app: its 400 page calls
    url_for, which failed (a 500) when the Host could not be bound."""
    app = flask.Flask(__name__)
    app.config.update(config)

    @app.route("/")
    def index() -> str:
        return "index"

    @app.errorhandler(400)
    def bad_request(e: Exception) -> tuple[str, int]:
        return f"back to {flask.url_for('index')}", 400

    response = app.test_client().get("/", headers={"Host": host})
    assert (response.status_code, response.data) == (400, b"back to /")
