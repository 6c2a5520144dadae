"""Seeded generation of raw WSGI requests for the differential fuzzer.

``Generator(seed).request(variant)`` gives ``(environ, body)``: the WSGI
strings a server would hand over (``PATH_INFO`` percent-decoded, as latin-1
text; headers as ``HTTP_*``) and the raw body bytes. The same seed gives the
same requests, apart from the timestamps inside freshly signed session
cookies, which the comparison does not look at.
"""

from __future__ import annotations

import hashlib
import json
import random
import string
import time
import typing as t
from urllib.parse import quote_from_bytes
from urllib.parse import unquote_to_bytes

from itsdangerous import TimestampSigner
from itsdangerous import URLSafeTimedSerializer
from known import host_outside_grammar

Environ = t.Dict[str, str]
T = t.TypeVar("T")

METHODS = (
    ["GET"] * 30 + ["POST"] * 20 + ["HEAD"] * 4 + ["OPTIONS"] * 4
    + ["PUT"] * 3 + ["DELETE"] * 3 + ["PATCH"] * 3
    + ["get", "post", "Get", "PROPFIND", "FOO", "TRACE", "CONNECT", "M-SEARCH"]
)

# Route shapes of fuzz/kitchen.py; "{}" takes a generated segment.
PATHS = [
    "/", "/bytes", "/dict", "/list", "/jsonify", "/tuple", "/response", "/methods",
    "/post-only", "/int/{int}", "/signed/{int}", "/float/{float}", "/uuid/{uuid}",
    "/str/{seg}", "/path/{seg}/{seg}", "/any/{colour}", "/slash/", "/slash",
    "/defaults/", "/defaults/{int}", "/args", "/request", "/data", "/json",
    "/json-silent", "/json-force", "/form", "/values", "/stream", "/template",
    "/url_for", "/redirect", "/redirect-external", "/abort/{code}", "/teapot",
    "/raise/value-error", "/session/set", "/session/get", "/session/clear",
    "/session/permanent", "/flash", "/flashes", "/g", "/after-this",
    "/files/{file}", "/static/{file}", "/conditional", "/cookie-echo", "/max-length",
    "/items", "/bp/", "/bp", "/bp/{int}", "/bp/{seg}", "/finished-count",
    "/default-name", "/nope", "/{seg}",
]

FILES = [
    "hello.txt", "sub/deep.json", "../outside.txt", "..%2foutside.txt", "sub/../hello.txt",
    "/etc/passwd", "sub", "sub/", "missing.txt", "hello.txt/", ".", "%2e%2e/kitchen.py",
    "..\\outside.txt", "hello.txt%00.png", "C:\\windows", "sub//deep.json",
]

HOSTS: list[str | None] = [
    "localhost", "localhost", "localhost:5000", "127.0.0.1:8080", "example.test",
    "api.example.test", "API.Example.Test", "www.example.test", "other.test",
    "example.test:80", "api.example.test:8080", None, "", "my_service", "my_service:8000",
    "localhost:", "localhost:0080", "localhost:99999", "a..b", "a" * 64 + ".test",
    "a b", "a/b", "a@b", "localhost:http", "[::1]", "[::1]:8080", "[::1", "x%41.test",
    "b\u00c3\u00bccher.test", "\u008a", "host\x00.test", ".example.test", "example.test.",
]

CONTENT_TYPES = [
    "application/json", "application/json; charset=utf-8", "application/json; charset=latin-1",
    "application/vnd.api+json", "application/x-www-form-urlencoded",
    "application/x-www-form-urlencoded; charset=utf-8", "multipart/form-data",
    "multipart/form-data; boundary=", "multipart/form-data; boundary=\"quoted b\"",
    "text/plain", "text/plain; charset=\"utf-8\"; q=\"x;y\"", "application/octet-stream",
    "", ";;;", "application/json;;", "text/html; charset", "APPLICATION/JSON",
]

ACCEPTS = [
    "*/*", "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8", "application/json",
    "text/*;q=0.5, application/json;q=bad", ";", "a/b/c", "",
]

# Views that change state kept between requests (fuzz/kitchen.py).
STATEFUL = ("session", "flash", "finished")

SEGMENT_CHARS = string.ascii_letters + string.digits + "-._~!$&'()*+,;=:@ "


def session_serializer(secret_key: str) -> URLSafeTimedSerializer:
    """ItsDangerous's serializer set up as Flask's cookie sessions use it."""
    return URLSafeTimedSerializer(
        secret_key,
        salt="cookie-session",
        signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha1},
    )


class _DatedSigner(TimestampSigner):
    """A signer whose clock is set back, for expired session tokens."""

    offset = -10 * 24 * 3600

    def get_timestamp(self) -> int:
        return int(time.time()) + self.offset


class Generator:
    """Random requests for one run; every choice comes from ``seed``."""

    def __init__(self, seed: int, secret_key: str) -> None:
        self.rng = random.Random(seed)
        self.serializer = session_serializer(secret_key)
        self.foreign = session_serializer("some other key")
        self.old = URLSafeTimedSerializer(
            secret_key,
            salt="cookie-session",
            signer=_DatedSigner,
            signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha1},
        )

    # -- pieces ---------------------------------------------------------------

    def choice(self, seq: t.Sequence[T]) -> T:
        return seq[self.rng.randrange(len(seq))]

    def segment(self) -> bytes:
        r = self.rng.random()
        if r < 0.5:
            n = self.rng.randint(1, 12)
            return "".join(self.choice(SEGMENT_CHARS) for _ in range(n)).encode()
        if r < 0.65:
            return self.choice(["caf\u00e9", "\u2603", "\u65e5\u672c", "\U0001f600"]).encode()
        if r < 0.75:
            return self.choice([b"\xff\xfe", b"\xc3", b"a\x00b", b"%", b"%zz", b"..", b"."])
        if r < 0.85:
            return str(self.rng.randint(-10**6, 10**20)).encode()
        return self.choice([b"", b"a" * 300, b"index.html", b"%2F", b"a/b"])

    def fill(self, shape: str) -> bytes:
        out = b""
        for i, part in enumerate(shape.split("{")):
            if i == 0:
                out += part.encode()
                continue
            kind, _, rest = part.partition("}")
            out += self.value(kind) + rest.encode()
        return out

    def value(self, kind: str) -> bytes:
        rng = self.rng
        if kind == "int":
            return self.choice([b"0", b"1", b"42", b"-1", b"007", b"99999999999999999999", b"1.5", b"\xd9\xa3", b"x"])
        if kind == "float":
            return self.choice([b"1.5", b"0.0", b"-2.5", b"1", b"1e5", b"nan", b"inf", b".5"])
        if kind == "uuid":
            return self.choice([
                b"12345678-1234-5678-1234-567812345678", b"12345678123456781234567812345678",
                b"12345678-1234-5678-1234-56781234567", b"ABCDEFAB-1234-5678-1234-567812345678",
            ])
        if kind == "colour":
            return self.choice([b"red", b"green", b"blue", b"RED"])
        if kind == "code":
            return str(self.choice([400, 401, 403, 404, 405, 409, 410, 413, 418, 429, 200, 500, 999])).encode()
        if kind == "file":
            return self.choice(FILES).encode()
        if rng.random() < 0.1:
            return self.choice([b"static", b"bp", b"files", b"session"])
        return self.segment()

    def raw_path(self) -> bytes:
        rng = self.rng
        path = self.fill(self.choice(PATHS))
        r = rng.random()
        if r < 0.08:
            path = path.replace(b"/", b"//", 1)
        elif r < 0.14:
            path = path + self.choice([b"/", b"/.", b"/..", b"/./x", b"/../"])
        elif r < 0.18:
            path = self.choice([b"/./", b"/../", b"//"]) + path.lstrip(b"/")
        elif r < 0.22:
            path = path + b"%00"
        elif r < 0.26 and len(path) > 1:
            # Percent-encode one byte, as some clients do needlessly.
            i = rng.randrange(1, len(path))
            path = path[:i] + b"%" + f"{path[i]:02X}".encode() + path[i + 1:]
        elif r < 0.28:
            path = path.upper()
        return path

    def query(self) -> bytes:
        rng = self.rng
        if rng.random() < 0.5:
            return b""
        parts = []
        for _ in range(rng.randint(1, 5)):
            key = self.choice([b"x", b"v", b"a", b"m", b"k", b"perm", b"stop", b"", b"caf%C3%A9", b"%zz"])
            val = self.choice([
                b"1", b"", b"a+b", b"%20", b"%ff", b"%", b"%E2%98%83", b"<b>", b"before", b"x=y",
                b"\x80", b"caf\xc3\xa9",  # raw bytes, as a careless client sends them
            ])
            parts.append(key + (b"" if rng.random() < 0.1 else b"=" + val))
        sep = b"&" if rng.random() < 0.9 else b";"
        return sep.join(parts)

    def cookie(self, variant: str) -> str | None:
        rng = self.rng
        r = rng.random()
        if r < 0.35:
            return None
        payloads: list[dict[str, t.Any]] = [
            {"count": rng.randint(0, 5)},
            {"count": 1, "x": "caf\u00e9", "_permanent": True},
            {"_flashes": [{" t": ["message", "hello"]}]},
            {"_fresh": True, "k": [1, 2, {"n": None}]},
            {},
        ]
        payload = self.choice(payloads)
        kind = rng.random()
        if kind < 0.45:
            token = self.serializer.dumps(payload)
        elif kind < 0.55:
            token = self.old.dumps(payload)
        elif kind < 0.65:
            token = self.foreign.dumps(payload)
        elif kind < 0.8:
            token = self.serializer.dumps(payload)
            i = rng.randrange(len(token))
            token = token[:i] + self.choice("Aa0_-.") + token[i + 1:]
        else:
            token = self.choice(["junk", "", "..", "e30.AAAA.BBBB", "\u00e9t\u00e9", "a" * 5000, ".eJy.x.y"])
        name = "sid" if variant == "custom_session" and rng.random() < 0.5 else "session"
        value = token if name == "session" else self.choice(["s1", "s2", "s99", "", token])
        extra = self.choice(["", "; other=1", "; a=b; a=c", '; q="quoted;value"', "; bad", ";;", "; =x"])
        if rng.random() < 0.05:
            return self.choice(["=", ";", "session", "session=; session=x", "\u00ff=\u00ff"])
        return f"{name}={value}{extra}"

    def body(self, content_type: str) -> bytes:
        rng = self.rng
        r = rng.random()
        if r < 0.03:
            return b"x" * rng.choice([64 * 1024 + 1, 70000, 200000])
        if "json" in content_type.lower() or r < 0.15:
            good = json.dumps(self.choice([
                {"a": 1, "b": [True, None, 1.5]}, [1, 2, 3], "str", 12, None,
                {"\u00e9": "\u2603", "nested": {"deep": [{}]}},
            ])).encode()
            return self.choice([
                good, good, good[: max(1, len(good) // 2)], good + b"garbage", b"{", b"",
                b"NaN", b"[1,]", b"\xef\xbb\xbf" + good, b"\xff\xfe{}", b'{"a": "\xff"}',
                b"1" * 5000, b"[" * 2000 + b"]" * 2000,
            ])
        if "urlencoded" in content_type or r < 0.3:
            return self.choice([
                b"a=1&b=2&a=3", b"name=caf%C3%A9&x=%ff", b"&&&", b"=", b"a", b"%zz=1",
                b"k=" + b"v" * 1000, b"a=1;b=2", b"a+b=c+d",
            ])
        if "multipart" in content_type or r < 0.5:
            return self.multipart()
        return bytes(rng.randrange(256) for _ in range(rng.randint(0, 64)))

    def multipart(self) -> bytes:
        rng = self.rng
        b = b"fuzzboundary"
        parts = [
            b'--' + b + b'\r\nContent-Disposition: form-data; name="field"\r\n\r\nvalue\r\n',
            b'--' + b + b'\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n'
            b"Content-Type: text/plain\r\n\r\nfile content\r\n",
            b'--' + b + b'\r\nContent-Disposition: form-data; name="caf\xc3\xa9"\r\n\r\n\xe2\x98\x83\r\n',
        ]
        body = b"".join(parts[: rng.randint(0, 3)]) + b"--" + b + b"--\r\n"
        r = rng.random()
        if r < 0.15:
            body = body[: rng.randrange(max(1, len(body)))]  # truncated
        elif r < 0.25:
            body = body.replace(b"\r\n\r\n", b"\r\n", 1)  # headers never end
        elif r < 0.3:
            body = body.replace(b"form-data", b"attachment")
        elif r < 0.35:
            body = b"--" + b + b"\r\n" + b"X-Header: " + b"h" * 9000 + b"\r\n\r\nv\r\n--" + b + b"--\r\n"
        return body

    # -- a request ------------------------------------------------------------

    def request(self, variant: str) -> tuple[Environ, bytes]:
        rng = self.rng
        method = self.choice(METHODS)
        raw = self.raw_path()
        query = self.query()
        environ: Environ = {
            "REQUEST_METHOD": method,
            "SCRIPT_NAME": "/prefix" if rng.random() < 0.05 else "",
            "PATH_INFO": unquote_to_bytes(raw).decode("latin-1"),
            "QUERY_STRING": query.decode("latin-1"),
            "RAW_URI": (raw + (b"?" + query if query else b"")).decode("latin-1"),
            "SERVER_NAME": "localhost",
            "SERVER_PORT": "80",
            "SERVER_PROTOCOL": self.choice(["HTTP/1.1"] * 9 + ["HTTP/1.0"]),
            "REMOTE_ADDR": "127.0.0.1",
            "wsgi.url_scheme": "https" if rng.random() < 0.1 else "http",
        }
        host: str | None
        if variant == "subdomains" and rng.random() < 0.6:
            host = self.choice(["example.test", "api.example.test", "www.example.test", "other.test", "api.example.test:80"])
        else:
            host = self.choice(HOSTS)
        if any(w in environ["PATH_INFO"].lower() for w in STATEFUL):
            # A bad Host or raw query bytes are documented differences
            # (fuzz/known.py): the view runs on one side only, and state
            # kept between requests would differ from then on.
            if host_outside_grammar(host):
                host = "localhost"
            if not environ["QUERY_STRING"].isascii():
                environ["QUERY_STRING"] = quote_from_bytes(query, safe="=&;+%")
                environ["RAW_URI"] = environ["RAW_URI"].split("?")[0] + "?" + environ["QUERY_STRING"]
        if host is not None:
            environ["HTTP_HOST"] = host
        cookie = self.cookie(variant)
        if cookie is not None:
            environ["HTTP_COOKIE"] = cookie
        if rng.random() < 0.5:
            environ["HTTP_ACCEPT"] = self.choice(ACCEPTS)
        if rng.random() < 0.1:
            environ["HTTP_X_FORWARDED_FOR"] = self.choice(["10.0.0.1", "1.2.3.4, 5.6.7.8", "", "garbage, ,"])
            environ["HTTP_X_FORWARDED_PROTO"] = self.choice(["https", "http", "ftp"])
            environ["HTTP_X_FORWARDED_HOST"] = self.choice(["proxy.test", "a b"])
        if rng.random() < 0.05:
            environ["HTTP_IF_NONE_MATCH"] = self.choice(['"fixed-etag"', "*", "W/\"x\"", "garbage"])
        if rng.random() < 0.03:
            environ["HTTP_RANGE"] = self.choice(["bytes=0-3", "bytes=5-", "bytes=-2", "bytes=9-1", "lines=1-2"])
        body = b""
        if method.upper() in ("POST", "PUT", "PATCH", "DELETE") or rng.random() < 0.05:
            content_type = self.choice(CONTENT_TYPES)
            if content_type.startswith("multipart/form-data") and rng.random() < 0.7:
                content_type = "multipart/form-data; boundary=fuzzboundary"
            body = self.body(content_type)
            if rng.random() < 0.9:
                environ["CONTENT_TYPE"] = content_type
            self.length(environ, body)
        elif rng.random() < 0.05:
            environ["CONTENT_LENGTH"] = self.choice(["0", "-1", "abc", "5"])
        return environ, body

    def length(self, environ: Environ, body: bytes) -> None:
        rng = self.rng
        r = rng.random()
        n = len(body)
        if r < 0.7:
            environ["CONTENT_LENGTH"] = str(n)
        elif r < 0.75:
            environ["CONTENT_LENGTH"] = str(max(0, n - rng.randint(1, 10)))
        elif r < 0.8:
            environ["CONTENT_LENGTH"] = str(n + rng.randint(1, 100))
        elif r < 0.84:
            environ["CONTENT_LENGTH"] = self.choice(["-1", "-100", "abc", " 5", "5 ", "1e3", "+5", ""])
        elif r < 0.92:
            environ["HTTP_TRANSFER_ENCODING"] = self.choice(["chunked", "gzip, chunked", "identity"])
            if rng.random() < 0.7:
                environ["wsgi.input_terminated"] = "1"
        # else: no length at all


def quote_path(raw: bytes) -> str:
    """The request target's path as printable text, for reports."""
    return quote_from_bytes(raw, safe="/%:@!$&'()*+,;=-._~")
