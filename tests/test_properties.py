"""Properties without an oracle (issue 10, point 3), checked with hypothesis
over the fuzzer's request space (fuzz/generate.py) on the example blog app
and on every variant of the kitchen-sink app (fuzz/kitchen.py):

- no response is a 500 unless a view raised;
- malformed input gets a 4xx (a Host outside the grammar, malformed JSON,
  a body over ``MAX_CONTENT_LENGTH``, a converter that does not match);
- a tampered or foreign session cookie gives an empty session;
- static files and ``send_from_directory`` never serve a file from outside
  their folder.

Runs are derandomized, so ``make test`` sees the same examples every time.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import typing as t
from pathlib import Path
from urllib.parse import unquote_to_bytes

import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from itsdangerous import BadSignature

import flask

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "fuzz"))
sys.path.insert(0, str(ROOT / "examples" / "blog"))

import generate  # noqa: E402
import kitchen  # noqa: E402
import known  # noqa: E402
import worker  # noqa: E402

# Werkzeug warns when a Host is not under SERVER_NAME: expected here.
pytestmark = pytest.mark.filterwarnings("ignore:Current server name:UserWarning")

SETTINGS = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=60,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
# The whole-request properties: each example is a full request on a big app.
WIDE = settings(SETTINGS, max_examples=40)

# -- the request space -------------------------------------------------------------

_segment = st.one_of(
    st.text(min_size=0, max_size=20).map(lambda s: s.encode("utf-8", "surrogatepass")),
    st.binary(max_size=20),
    st.sampled_from([b"..", b".", b"%2e%2e", b"%00", b"%2F", b"a\x00b", b"%ff", b"\\", b""]),
)


@st.composite
def raw_paths(draw: st.DrawFn, shapes: t.Sequence[str]) -> bytes:
    shape = draw(st.sampled_from(shapes))
    out = b""
    for i, part in enumerate(shape.split("{")):
        if i == 0:
            out += part.encode()
            continue
        _, _, rest = part.partition("}")
        out += draw(_segment).replace(b"?", b"%3F").replace(b"#", b"%23") + rest.encode()
    prefix = draw(st.sampled_from([b"", b"", b"/", b"/./", b"/../"]))
    return prefix + out


@st.composite
def requests(draw: st.DrawFn, shapes: t.Sequence[str] = generate.PATHS) -> tuple[dict[str, str], bytes]:
    raw = draw(raw_paths(shapes))
    query = draw(st.binary(max_size=40)).replace(b"#", b"")
    environ: dict[str, str] = {
        "REQUEST_METHOD": draw(st.sampled_from(sorted(set(generate.METHODS)))),
        "SCRIPT_NAME": draw(st.sampled_from(["", "", "/prefix"])),
        "PATH_INFO": unquote_to_bytes(raw).decode("latin-1"),
        "QUERY_STRING": query.decode("latin-1"),
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.url_scheme": draw(st.sampled_from(["http", "https"])),
    }
    host = draw(st.one_of(st.sampled_from(generate.HOSTS), st.text(max_size=30)))
    if host is not None:
        environ["HTTP_HOST"] = host.encode("utf-8", "surrogatepass").decode("latin-1")
    headers = {
        "HTTP_COOKIE": st.text(max_size=60),
        "HTTP_ACCEPT": st.sampled_from(generate.ACCEPTS),
        "CONTENT_TYPE": st.one_of(st.sampled_from(generate.CONTENT_TYPES), st.text(max_size=40)),
        "CONTENT_LENGTH": st.one_of(st.integers(-3, 400).map(str), st.text(max_size=6)),
        "HTTP_TRANSFER_ENCODING": st.sampled_from(["chunked", "gzip", ""]),
        "HTTP_X_FORWARDED_FOR": st.text(max_size=30),
    }
    for key, strategy in headers.items():
        if draw(st.booleans()):
            environ[key] = draw(strategy).encode("utf-8", "surrogatepass").decode("latin-1")
    body = draw(st.one_of(st.binary(max_size=300), st.sampled_from([
        b'{"a": 1}', b"{", b"[" * 3000, b"a=1&b=%zz", generate.Generator(0, "k").multipart(),
    ])))
    return environ, body


def call(app: flask.Flask, environ: dict[str, str], body: bytes) -> dict[str, t.Any]:
    """The app's answer to a raw request; an escaping exception fails."""
    raised: list[BaseException] = []

    def record(sender: t.Any, exception: BaseException, **extra: t.Any) -> None:
        raised.append(exception)

    with flask.got_request_exception.connected_to(record, app):
        answer = worker.call_wsgi(app, worker.full_environ(environ, body))
    answer["raised"] = raised
    answer["code"] = int(answer["status"][:3])
    return answer


# -- the apps ------------------------------------------------------------------------

_KITCHENS: dict[str, flask.Flask] = {}


@pytest.fixture(scope="module", autouse=True)
def _drop_kitchens() -> t.Iterator[None]:
    yield
    # A request_finished receiver anywhere keeps every app off the direct
    # path, which tests/accel/test_plain.py checks is taken.
    for app in _KITCHENS.values():
        receiver = app.extensions.get("fuzz_on_finished")
        if receiver is not None:
            # From every sender: blinker keeps it in .receivers otherwise.
            flask.request_finished.disconnect(receiver)
    _KITCHENS.clear()


def kitchen_app(variant: str) -> flask.Flask:
    if variant not in _KITCHENS:
        app = kitchen.create_app(variant)
        app.logger.disabled = True
        _KITCHENS[variant] = app
    return _KITCHENS[variant]


@pytest.fixture(scope="module")
def blog() -> t.Iterator[flask.Flask]:
    from blog import create_app  # type: ignore[import-not-found]

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"SECRET_KEY": "test", "DATABASE": os.path.join(tmp, "blog.sqlite3")})
        app.logger.disabled = True
        yield app


BLOG_PATHS = [
    "/", "/?page={}", "/posts/{}", "/posts/new", "/posts/{}/edit", "/posts/{}/delete",
    "/auth/login", "/auth/register", "/auth/logout", "/api/posts", "/api/posts/{}",
    "/api/posts?page={}", "/health", "/static/{}", "/{}",
]


def _on_purpose(answer: dict[str, t.Any]) -> bool:
    return any(isinstance(e, ValueError) and str(e) == "on purpose" for e in answer["raised"])


# -- no 500 unless a view raised -----------------------------------------------------


@pytest.mark.parametrize("variant", kitchen.VARIANTS)
def test_kitchen_never_500_unless_a_view_raised(variant: str) -> None:
    app = kitchen_app(variant)

    @WIDE
    @given(requests())
    def check(request: tuple[dict[str, str], bytes]) -> None:
        answer = call(app, *request)
        assert answer["code"] < 500 or _on_purpose(answer), (request, answer["raised"])

    check()


def test_blog_never_500(blog: flask.Flask) -> None:
    @settings(WIDE, max_examples=120)
    @given(requests(BLOG_PATHS))
    def check(request: tuple[dict[str, str], bytes]) -> None:
        answer = call(blog, *request)
        assert answer["code"] < 500, (request, answer["raised"])

    check()


# -- malformed input gets a 4xx ------------------------------------------------------


@SETTINGS
@given(requests(), st.text(min_size=1, max_size=20))
def test_host_outside_grammar_is_400(request: tuple[dict[str, str], bytes], host: str) -> None:
    environ, body = request
    host = host.encode("utf-8", "surrogatepass").decode("latin-1")
    if not known.host_outside_grammar(host):
        host = host + " "  # a space is never in the grammar
    environ["HTTP_HOST"] = host
    assert call(kitchen_app("plain"), environ, body)["code"] == 400


def _malformed_json(data: bytes) -> bool:
    try:
        json.loads(data)
    except (ValueError, RecursionError):
        return True
    return False


@SETTINGS
@given(st.one_of(st.binary(max_size=60), st.text(max_size=60).map(str.encode)).filter(_malformed_json))
def test_malformed_json_is_400(data: bytes) -> None:
    environ = {
        "REQUEST_METHOD": "POST", "PATH_INFO": "/json", "SERVER_NAME": "localhost",
        "SERVER_PORT": "80", "wsgi.url_scheme": "http", "HTTP_HOST": "localhost",
        "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(data)),
    }
    assert call(kitchen_app("plain"), environ, data)["code"] == 400
    environ["PATH_INFO"] = "/json-silent"
    answer = call(kitchen_app("plain"), environ, data)
    assert (answer["code"], json.loads(answer["body"])) == (200, {"json": None})


@SETTINGS
@given(
    st.integers(kitchen.MAX_CONTENT_LENGTH + 1, kitchen.MAX_CONTENT_LENGTH * 2),
    st.sampled_from(["/data", "/form", "/json", "/max-length"]),
    st.sampled_from(["application/x-www-form-urlencoded", "multipart/form-data; boundary=b",
                     "application/json", "application/octet-stream"]),
)
def test_body_over_max_content_length_is_413(size: int, path: str, content_type: str) -> None:
    # With a declared length. A chunked body (no length) is cut at the
    # limit by Werkzeug's LimitedStream, in Pallets Flask too; see
    # docs/fuzzing.md.
    environ = {
        "REQUEST_METHOD": "POST", "PATH_INFO": path, "SERVER_NAME": "localhost",
        "SERVER_PORT": "80", "wsgi.url_scheme": "http", "HTTP_HOST": "localhost",
        "CONTENT_TYPE": content_type, "CONTENT_LENGTH": str(size),
    }
    expected = 415 if path == "/json" and content_type != "application/json" else 413
    assert call(kitchen_app("plain"), environ, b"x" * size)["code"] == expected


@SETTINGS
@given(st.sampled_from(["/int/{}", "/uuid/{}", "/float/{}", "/any/{}"]), st.text(min_size=1, max_size=10))
def test_converter_mismatch_is_404(shape: str, value: str) -> None:
    import uuid

    def matches(kind: str) -> bool:
        try:
            if kind == "int":
                return value.isdigit() and value.isascii()
            if kind == "uuid":
                uuid.UUID(value)
                return True
            if kind == "float":
                float(value)
                return True
        except ValueError:
            return False
        return value in ("red", "green")

    kind = shape.split("/")[1]
    if "/" in value or matches(kind):
        return
    environ = {
        "REQUEST_METHOD": "GET", "PATH_INFO": shape.format(value).encode().decode("latin-1"),
        "SERVER_NAME": "localhost", "SERVER_PORT": "80", "wsgi.url_scheme": "http",
        "HTTP_HOST": "localhost",
    }
    assert call(kitchen_app("plain"), environ, b"")["code"] in (404, 308)


# -- sessions --------------------------------------------------------------------------


def _session_of(app: flask.Flask, cookie: str) -> t.Any:
    environ = {
        "REQUEST_METHOD": "GET", "PATH_INFO": "/session/get", "SERVER_NAME": "localhost",
        "SERVER_PORT": "80", "wsgi.url_scheme": "http", "HTTP_HOST": "localhost",
        "HTTP_COOKIE": cookie,
    }
    answer = call(app, environ, b"")
    assert answer["code"] == 200
    return json.loads(answer["body"])["session"]


@SETTINGS
@given(
    st.dictionaries(st.text(max_size=5), st.one_of(st.integers(), st.text(max_size=8)), max_size=3),
    st.integers(0, 10_000),
    st.sampled_from("ABCDEFabcdef0123456789-_."),
)
def test_tampered_session_cookie_gives_empty_session(payload: dict[str, t.Any], where: int, char: str) -> None:
    serializer = generate.session_serializer(kitchen.SECRET_KEY)
    token = serializer.dumps(payload)
    i = where % len(token)
    tampered = token[:i] + char + token[i + 1:]
    try:  # the independent answer: does ItsDangerous still accept it?
        accepted = serializer.loads(tampered)
    except BadSignature:
        accepted = None
    session = _session_of(kitchen_app("plain"), f"session={tampered}")
    if accepted is None:
        assert session == {}
    else:
        assert session == accepted


@SETTINGS
@given(
    st.dictionaries(st.text(max_size=5), st.integers(), min_size=1, max_size=3),
    st.text(min_size=1, max_size=20).filter(lambda k: k != kitchen.SECRET_KEY),
)
def test_foreign_session_cookie_gives_empty_session(payload: dict[str, t.Any], key: str) -> None:
    token = generate.session_serializer(key).dumps(payload)
    assert _session_of(kitchen_app("plain"), f"session={token}") == {}


@SETTINGS
@given(st.text(max_size=80))
def test_junk_session_cookie_gives_empty_session(junk: str) -> None:
    value = junk.encode("utf-8", "surrogatepass").decode("latin-1").replace(";", "")
    serializer = generate.session_serializer(kitchen.SECRET_KEY)
    try:
        serializer.loads(value)
    except Exception:
        pass
    else:
        return  # hypothesis will not forge a signature, but be exact
    assert _session_of(kitchen_app("plain"), f"session={value}") == {}


# -- files stay inside their folder ----------------------------------------------------

STATIC = Path(kitchen.HERE) / "static"
INSIDE = {p.read_bytes() for p in STATIC.rglob("*") if p.is_file()}

_traversal = st.lists(
    st.sampled_from([
        "..", ".", "sub", "hello.txt", "deep.json", "outside.txt", "kitchen.py", "%2e%2e",
        "..%2f", "%2f", "\\..", "..\\", "", "static", "fuzz", "etc", "passwd", "\x00", "C:",
        "//", "~", "%252e%252e",
    ]),
    min_size=1, max_size=6,
).map("/".join)


@SETTINGS
@given(st.sampled_from(["/static/", "/files/"]), _traversal, st.sampled_from(["", "/"]))
def test_files_never_served_from_outside_their_folder(prefix: str, name: str, lead: str) -> None:
    raw = (prefix + lead + name).encode()
    environ = {
        "REQUEST_METHOD": "GET", "PATH_INFO": unquote_to_bytes(raw).decode("latin-1"),
        "SERVER_NAME": "localhost", "SERVER_PORT": "80", "wsgi.url_scheme": "http",
        "HTTP_HOST": "localhost",
    }
    answer = call(kitchen_app("plain"), environ, b"")
    if answer["code"] == 200:
        assert answer["body"] in INSIDE, raw
    else:
        assert answer["code"] in (301, 302, 308, 400, 404, 405), (raw, answer["status"])


def test_static_folder_serves_its_files() -> None:
    # The property above must be able to fail: files inside are served.
    for path in ("/static/hello.txt", "/files/sub/deep.json"):
        environ = {
            "REQUEST_METHOD": "GET", "PATH_INFO": path, "SERVER_NAME": "localhost",
            "SERVER_PORT": "80", "wsgi.url_scheme": "http", "HTTP_HOST": "localhost",
        }
        answer = call(kitchen_app("plain"), environ, b"")
        assert answer["code"] == 200 and answer["body"] in INSIDE
    assert (Path(kitchen.HERE) / "outside.txt").read_bytes() not in INSIDE
