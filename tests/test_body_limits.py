"""The edges of ``flask._accel.body``: odd Content-Length values, bodies at the
size limits, streams that return less or more than asked, and the bounds
of the content-type memo. Each outcome is compared with Werkzeug's own
``Request`` on the same environ; the tests that a path is taken spy on our
own module's functions."""

from __future__ import annotations

import io
import typing as t

import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request as WerkzeugRequest

from flask._accel import body as _body
from flask.wrappers import Request


def environ(body: bytes, length: t.Any, stream: t.Any = None) -> dict[str, t.Any]:
    env = EnvironBuilder(method="POST").get_environ()
    env["wsgi.input"] = io.BytesIO(body) if stream is None else stream
    env["CONTENT_TYPE"] = "application/octet-stream"
    env["CONTENT_LENGTH"] = length
    return env


def outcome(request: WerkzeugRequest, max_content_length: int | None = None) -> t.Any:
    request.max_content_length = max_content_length
    try:
        return ("ok", request.get_data())
    except Exception as e:  # the error class is part of the answer
        return ("error", type(e))


def compare(
    body: bytes, length: t.Any, max_content_length: int | None = None,
    stream: t.Callable[[], t.Any] | None = None,
) -> t.Any:
    ours = outcome(Request(environ(body, length, stream and stream())), max_content_length)
    theirs = outcome(
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


def spy_reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real = _body.read_body

    def counting(environ: t.Any, length: int, limit: int | None) -> bytes:
        calls.append(length)
        return real(environ, length, limit)

    monkeypatch.setattr(_body, "read_body", counting)
    return calls


@pytest.mark.needs_shortcut("small-body")
def test_the_direct_read_covers_exactly_werkzeugs_one_chunk(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Werkzeug's LimitedStream.readall reads 64 KiB per step.
    calls = spy_reads(monkeypatch)
    for size in (0, 1, 64 * 1024, 64 * 1024 + 1, 100 * 1024):
        data = bytes(i % 251 for i in range(size))
        assert compare(data, str(size)) == ("ok", data)
    assert calls == [0, 1, 64 * 1024]


def test_content_types_are_parsed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from werkzeug.http import parse_options_header

    calls: list[str] = []

    def counting(value: str) -> t.Any:
        calls.append(value)
        return parse_options_header(value)

    monkeypatch.setattr(_body, "parse_options_header", counting)
    monkeypatch.setattr(_body, "_content_types", {})
    for _ in range(3):
        assert _body.parse_content_type("text/x-once; a=1") == parse_options_header(
            "text/x-once; a=1"
        )
    assert calls == ["text/x-once; a=1"]


def test_the_content_type_memo_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    memo: dict[str, t.Any] = {}
    monkeypatch.setattr(_body, "_content_types", memo)
    for i in range(1000):
        _body.parse_content_type(f"text/x-{i}")
    assert len(memo) == 256  # at most 256 values, the first ones seen
    memo.clear()
    longest = "text/plain; x=" + "a" * (255 - len("text/plain; x="))
    _body.parse_content_type(longest)
    _body.parse_content_type(longest + "a")  # 256 characters: not kept
    assert list(memo) == [longest]
