"""The direct body, form and content-type paths give Werkzeug's results.

Each case is run through our Request and through Werkzeug's own Request
class on the same environ, and the outcomes compared; a second set of
tests checks the direct paths are the ones taken.

The edges of ``flask._accel.body``: odd Content-Length values, bodies at the
size limits, streams that return less or more than asked, and the bounds
of the content-type memo. Each outcome is compared with Werkzeug's own
``Request`` on the same environ; the tests that a path is taken spy on our
own module's functions.
"""

from __future__ import annotations

import io
import typing as t
from urllib.parse import parse_qsl

import pytest
from werkzeug.exceptions import ClientDisconnected
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request as WerkzeugRequest

from flask import Flask
from flask._accel import body as _body
from flask.wrappers import Request


def environ_for(
    body: bytes, content_type: str | None = None, length: str | None = None, **extra: t.Any
) -> dict[str, t.Any]:
    env = EnvironBuilder(method="POST", data=body).get_environ()
    env["wsgi.input"] = io.BytesIO(body)
    env.pop("CONTENT_TYPE", None)
    if content_type is not None:
        env["CONTENT_TYPE"] = content_type
    env["CONTENT_LENGTH"] = str(len(body)) if length is None else length
    env.update(extra)
    return env


def outcome(fn: t.Callable[[], t.Any]) -> t.Any:
    try:
        return ("ok", fn())
    except Exception as e:  # the exception type is part of the result
        return ("error", type(e))


def both(
    body: bytes, read: t.Callable[[t.Any], t.Any], **kw: t.Any
) -> tuple[t.Any, t.Any]:
    ours = Request(environ_for(body, **kw))
    theirs = WerkzeugRequest(environ_for(body, **kw))
    ours.max_content_length = theirs.max_content_length = 100
    return outcome(lambda: read(ours)), outcome(lambda: read(theirs))


FORMS = [
    b"name=Alice+Smith&email=alice%40example.org&age=31",
    b"a=1&a=2&b=&c",
    b"&&x=1&&",
    b"=value&key=",
    b"k%20ey=v%2Bal+ue&plus=a+b+c&first+name=x",
    b"bad=%zz&pct=%",
    b"utf=%C3%A9t%C3%A9&raw=\xc3\xa9",
    b"invalid=%ff%fe",
    b"undecodable=\xff",
    b"semi=a;b=c",
    b"",
]


@pytest.mark.parametrize("body", FORMS)
def test_form_matches_werkzeug(body: bytes) -> None:
    def read(r: t.Any) -> t.Any:
        return (list(r.form.items(multi=True)), list(r.files), r.stream.read())

    ours, theirs = both(body, read, content_type="application/x-www-form-urlencoded")
    assert ours == theirs


@pytest.mark.parametrize("body", [f.decode("latin1") for f in FORMS[:-3]])
def test_parse_urlencoded_is_parse_qsl(body: str) -> None:
    expected = parse_qsl(body, keep_blank_values=True, errors="werkzeug.url_quote")
    assert _body.parse_urlencoded(body) == expected


@pytest.mark.parametrize(
    ("body", "length"),
    [
        (b'{"a": 1}', None),
        (b"", None),
        (b"short", "10"),  # the client sent less than it announced
        (b"x" * 200, None),  # over max_content_length
        (b"abcdef", "3"),  # more sent than announced: only 3 are read
        (b"abc", "+3"),  # not a plain number: Werkzeug decides
        (b"abc", "-1"),
    ],
)
def test_get_data_matches_werkzeug(body: bytes, length: str | None) -> None:
    def read(r: t.Any) -> t.Any:
        return (r.get_data(), r.get_data(as_text=True), r.stream.read())

    ours, theirs = both(body, read, length=length, content_type="application/json")
    assert ours == theirs


def test_get_data_uncached_then_stream_empty() -> None:
    def read(r: t.Any) -> t.Any:
        return (r.get_data(cache=False), r.get_data(), r.stream.read())

    ours, theirs = both(b"payload", read)
    assert ours == theirs == ("ok", (b"payload", b"", b""))


def test_form_after_get_data_uses_cached_bytes() -> None:
    def read(r: t.Any) -> t.Any:
        return (r.get_data(), r.form.to_dict())

    ours, theirs = both(b"a=1&b=2", read, content_type="application/x-www-form-urlencoded")
    assert ours == theirs == ("ok", (b"a=1&b=2", {"a": "1", "b": "2"}))


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "Application/JSON; charset=UTF-8",
        'multipart/form-data; boundary="abc"',
        "text/plain;format=flowed",
        "",
    ],
)
def test_content_type_matches_werkzeug(content_type: str) -> None:
    def read(r: t.Any) -> t.Any:
        return (r.mimetype, r.mimetype_params, r.is_json)

    for _ in range(2):  # second time round from the remembered parse
        ours, theirs = both(b"", read, content_type=content_type)
        assert ours == theirs


def test_mimetype_params_are_a_fresh_dict() -> None:
    env = environ_for(b"", content_type="text/plain; charset=latin-1")
    Request(env).mimetype_params["charset"] = "changed"
    assert Request(env).mimetype_params == {"charset": "latin-1"}


def test_read_body_errors() -> None:
    env = environ_for(b"abc", length="5")
    with pytest.raises(ClientDisconnected):
        _body.read_body(env, 5, None)
    with pytest.raises(RequestEntityTooLarge):
        _body.read_body(env, 5, 4)

    class Failing(io.RawIOBase):
        def read(self, size: int = -1) -> bytes:
            raise OSError("connection reset")

    with pytest.raises(ClientDisconnected):
        _body.read_body({"wsgi.input": Failing()}, 5, None)


def test_read_body_keeps_reading_short_chunks() -> None:
    class Trickle(io.RawIOBase):
        def __init__(self, data: bytes) -> None:
            self.data = data

        def read(self, size: int = -1) -> bytes:
            chunk, self.data = self.data[:2], self.data[2:]
            return chunk

    assert _body.read_body({"wsgi.input": Trickle(b"abcdefg")}, 7, None) == b"abcdefg"


@pytest.mark.parametrize(
    "extra",
    [
        {"wsgi.input_terminated": True},
        {"HTTP_TRANSFER_ENCODING": "chunked"},
        {"CONTENT_LENGTH": str(_body.SMALL_BODY + 1)},
        {"CONTENT_LENGTH": "1e3"},
    ],
)
def test_unusual_bodies_are_left_to_werkzeug(extra: dict[str, t.Any]) -> None:
    env = environ_for(b"x", **extra)
    assert _body.small_body_length(env) is None


@pytest.mark.needs_shortcut("small-body")
def test_direct_paths_are_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(*args: t.Any, **kwargs: t.Any) -> t.NoReturn:
        raise AssertionError("Werkzeug's stream was used")

    monkeypatch.setattr("werkzeug.wrappers.request.get_input_stream", forbidden)
    r = Request(environ_for(b"a=1", content_type="application/x-www-form-urlencoded"))
    assert r.form["a"] == "1"
    r = Request(environ_for(b'{"a": 1}', content_type="application/json"))
    assert r.get_json() == {"a": 1}


def test_through_the_app() -> None:
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = 50

    @app.post("/form")
    def form() -> dict[str, t.Any]:
        return {"form": request_form()}

    def request_form() -> dict[str, str]:
        from flask import request

        return request.form.to_dict()

    client = app.test_client()
    assert client.post("/form", data={"a": "b c"}).json == {"form": {"a": "b c"}}
    assert client.post("/form", data={"a": "x" * 60}).status_code == 413
    assert client.post("/form", data=b"\xff", content_type="application/x-www-form-urlencoded").json == {"form": {}}


def test_custom_parser_class_is_honoured() -> None:
    from werkzeug.formparser import FormDataParser

    class Parser(FormDataParser):
        def parse(self, *args: t.Any, **kwargs: t.Any) -> t.Any:
            stream, form, files = super().parse(*args, **kwargs)
            # The storage class the parser made (Werkzeug 3.2 deprecates self.cls).
            return stream, type(form)([("parsed_by", "custom")]), files

    class MyRequest(Request):
        form_data_parser_class = Parser

    r = MyRequest(environ_for(b"a=1", content_type="application/x-www-form-urlencoded"))
    assert r.form.to_dict() == {"parsed_by": "custom"}


def test_plain_cookie_headers_parse_as_werkzeug_parses_them() -> None:
    import random

    from werkzeug.datastructures import MultiDict
    from werkzeug.sansio.http import parse_cookie

    rng = random.Random(11)
    alphabet = ["a", "b", "Z", "0", "=", ";", " ", " ", "\t", '"', "\\", "\u00e9", "-", ".", "%"]
    fast = 0
    for _ in range(20000):
        raw = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 16)))
        pairs = _body.parse_plain_cookies(raw)
        if pairs is None:
            continue
        fast += 1
        expected = parse_cookie(raw)  # its own storage class: cls is deprecated in 3.2
        assert list(MultiDict(pairs).items(multi=True)) == list(expected.items(multi=True)), raw
    assert fast > 5000  # the shortcut is really exercised


@pytest.mark.parametrize(
    ("raw", "plain"),
    [
        ("session=abc.def-_1; theme=dark", True),
        (" a = 1 ;; b", True),
        ('q="quoted"', False),
        ("a=b c", False),
        ("=orphan", False),
    ],
)
def test_request_cookies(raw: str, plain: bool) -> None:
    from werkzeug.sansio.http import parse_cookie

    env = environ_for(b"", HTTP_COOKIE=raw)
    assert (_body.parse_plain_cookies(raw) is not None) is plain
    assert Request(env).cookies == parse_cookie(raw)


def environ(body: bytes, length: t.Any, stream: t.Any = None) -> dict[str, t.Any]:
    env = EnvironBuilder(method="POST").get_environ()
    env["wsgi.input"] = io.BytesIO(body) if stream is None else stream
    env["CONTENT_TYPE"] = "application/octet-stream"
    env["CONTENT_LENGTH"] = length
    return env


def outcome_limits(request: WerkzeugRequest, max_content_length: int | None = None) -> t.Any:
    request.max_content_length = max_content_length
    try:
        return ("ok", request.get_data())
    except Exception as e:  # the error class is part of the answer
        return ("error", type(e))


def compare(
    body: bytes, length: t.Any, max_content_length: int | None = None,
    stream: t.Callable[[], t.Any] | None = None,
) -> t.Any:
    ours = outcome_limits(Request(environ(body, length, stream and stream())), max_content_length)
    theirs = outcome_limits(
        WerkzeugRequest(environ(body, length, stream and stream())), max_content_length
    )
    assert ours == theirs
    return ours


@pytest.mark.parametrize(
    "length",
    ["0", "1", "2", "5", "05", "+5", "-1", " 5", "5 ", "５", "٥", "1e2", "", "x",
     "9" * 7, "1" * 5000, 5, 5.0, None],
)
def test_odd_content_lengths_match_werkzeug(length: t.Any) -> None:
    compare(b"hello world", length)


@pytest.mark.parametrize("size", [0, 1, 2, 3, 99, 100, 101])
def test_bodies_at_the_size_limit_match_werkzeug(size: int) -> None:
    compare(b"x" * size, str(size), max_content_length=100)


@pytest.mark.parametrize("size", [0, 1, 2, 7])
def test_every_small_length_reads_the_whole_body(size: int) -> None:
    data = bytes(range(size))
    assert compare(data, str(size)) == ("ok", data)


class Chunks:
    """A WSGI input (only ``read``, as PEP 3333 requires) that answers each
    read with the next of fixed chunks, whatever size was asked for."""

    def __init__(self, *chunks: bytes) -> None:
        self.chunks = list(chunks)

    def read(self, size: int = -1) -> bytes:
        return self.chunks.pop(0) if self.chunks else b""


@pytest.mark.parametrize("chunks", [(b"abc", b"defg"), (b"a", b"bcdefg"), (b"abcdef", b"g")])
def test_streams_answering_in_pieces_match_werkzeug(chunks: tuple[bytes, ...]) -> None:
    assert compare(b"", "7", stream=lambda: Chunks(*chunks)) == ("ok", b"abcdefg")


@pytest.mark.parametrize("chunks", [(b"abcdefghij",), (b"abc", b"defghij")])
@pytest.mark.needs_shortcut("small-body")
def test_a_stream_answering_more_than_asked_is_cut_at_the_length(
    chunks: tuple[bytes, ...],
) -> None:
    # A known difference: Werkzeug's LimitedStream keeps what a (broken)
    # input returns beyond its limit; the body is Content-Length bytes
    # (RFC 9112, section 6.2), so the direct read cuts it there.
    env = environ(b"", "7", Chunks(*chunks))
    assert Request(env).get_data() == b"abcdefg"
    assert WerkzeugRequest(environ(b"", "7", Chunks(*chunks))).get_data() == b"abcdefghij"


@pytest.mark.needs_shortcut("small-body")
def test_a_stream_answering_more_than_asked_is_cut_through_the_app() -> None:
    import flask

    app = flask.Flask(__name__)

    @app.post("/")
    def echo() -> bytes:
        return flask.request.get_data()

    env = environ(b"", "4", Chunks(b"ab", b"cdEXTRA"))
    statuses: list[str] = []
    body = b"".join(app(env, lambda s, h: statuses.append(s)))
    assert (statuses, body) == (["200 OK"], b"abcd")


def spy_reads(seams: t.Any) -> list[int]:
    calls: list[int] = []
    real = seams.get("read_body")

    def counting(environ: t.Any, length: int, limit: int | None) -> bytes:
        calls.append(length)
        return real(environ, length, limit)

    seams.replace("read_body", counting)
    return calls


@pytest.mark.needs_shortcut("small-body")
def test_the_direct_read_covers_exactly_werkzeugs_one_chunk(
    seams: t.Any,
) -> None:
    # Werkzeug's LimitedStream.readall reads 64 KiB per step.
    calls = spy_reads(seams)
    for size in (0, 1, 64 * 1024, 64 * 1024 + 1, 100 * 1024):
        data = bytes(i % 251 for i in range(size))
        assert compare(data, str(size)) == ("ok", data)
    assert calls == [0, 1, 64 * 1024]


def test_content_types_are_parsed_once(seams: t.Any) -> None:
    from werkzeug.http import parse_options_header

    calls: list[str] = []

    def counting(value: str) -> t.Any:
        calls.append(value)
        return parse_options_header(value)

    seams.replace("parse_options_header", counting)
    seams.replace("content_types", {})
    for _ in range(3):
        assert _body.parse_content_type("text/x-once; a=1") == parse_options_header(
            "text/x-once; a=1"
        )
    assert calls == ["text/x-once; a=1"]


def test_the_content_type_memo_is_bounded(seams: t.Any) -> None:
    memo: dict[str, t.Any] = {}
    seams.replace("content_types", memo)
    for i in range(1000):
        _body.parse_content_type(f"text/x-{i}")
    assert len(memo) == 256  # at most 256 values, the first ones seen
    memo.clear()
    longest = "text/plain; x=" + "a" * (255 - len("text/plain; x="))
    _body.parse_content_type(longest)
    _body.parse_content_type(longest + "a")  # 256 characters: not kept
    assert list(memo) == [longest]
