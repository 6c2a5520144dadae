"""Documented differences from Pallets Flask 3.1.3.

A difference the fuzzer finds is either fixed in our package (with a named
regression test) or listed here, with the reason Pallets Flask is plainly
wrong or crashes. Each entry has a predicate over the request and both
answers; docs/fuzzing.md repeats the list.
"""

from __future__ import annotations

import re
import typing as t
from dataclasses import dataclass

Answer = t.Dict[str, t.Any]
Environ = t.Dict[str, str]

# The Host grammar, written out here from the RFCs rather than imported
# from flask.matching, so the two are independent: RFC 9110 section 7.2
# Host = uri-host [ ":" port ]; RFC 3986 section 3.2.2 reg-name =
# *( unreserved / pct-encoded / sub-delims ), IP-literal = "[" ... "]";
# port = *DIGIT. Characters from U+0080 up are let through to the IDNA
# check, which the fuzzer does not model (see below).
_UNRESERVED = r"A-Za-z0-9._~\-"
_SUB_DELIMS = "!$&'()*+,;="
_HOST = re.compile(
    r"(?:\[[0-9A-Fa-f:.]+\]|\[[vV][0-9A-Fa-f]+\.[" + _UNRESERVED + _SUB_DELIMS + r":]+\]"
    r"|(?:[" + _UNRESERVED + _SUB_DELIMS + r"\u0080-\U0010ffff]|%[0-9A-Fa-f]{2})*)"
    r"(?::[0-9]*)?"
)


def host_outside_grammar(host: str | None) -> bool:
    """Whether a Host value breaks RFC 9110's grammar, or is non-ASCII that
    no IDNA form exists for (a raw byte such as ``\\x8a``)."""
    if host is None:
        return False
    if _HOST.fullmatch(host) is None:
        return True
    if host.isascii():
        return False
    name = host.partition(":")[0]
    try:
        name = name.encode("latin-1").decode("utf-8")
    except UnicodeError:
        pass
    try:
        name.encode("idna")
    except UnicodeError:
        return True
    return False


@dataclass(frozen=True)
class Known:
    id: str
    reason: str
    matches: t.Callable[[Environ, Answer, Answer], bool]


def _status(answer: Answer) -> str:
    return str(answer.get("status", ""))[:3]


KNOWN: list[Known] = [
    Known(
        "host-outside-grammar",
        "A Host header outside RFC 9110's grammar (control characters, spaces,"
        " '/', '@', a non-numeric port, an unclosed IP literal, a bad"
        " percent-escape, a raw byte with no IDNA form) gets 400 Bad Request"
        " here, as RFC 9112 section 3.2 requires. Pallets Flask (Werkzeug"
        " 3.1.8+) reads such a value as an empty host and serves the request,"
        " building URLs like 'http:///path' (or answers"
        " 400 with its own message when the request fails for another reason).",
        lambda environ, ours, pallets: host_outside_grammar(environ.get("HTTP_HOST"))
        and _status(ours) == "400",
    ),
]


def _port_over_range(host: str | None) -> bool:
    if host is None or host.endswith("]"):
        return False
    port = host.rpartition(":")[2] if ":" in host else ""
    return port.isdigit() and int(port) > 65535


def _werkzeug_builds_port(port: str) -> bool:
    """Werkzeug's own answer: can it build a URL with this port? (Before
    about 3.1.7 urllib's port check made it raise ValueError.)"""
    from werkzeug.sansio.utils import get_current_url, get_host

    try:  # request.url's public path: the host as get_host reads it
        get_current_url("http", get_host("http", f"localhost:{port}", None), "", "/")
    except ValueError:
        return False
    return True


KNOWN.append(
    Known(
        "port-out-of-range",
        "On a Werkzeug that cannot build URLs with a port over 65535 (3.1.0"
        " to about 3.1.6), a Host such as 'localhost:99999' gets 400 Bad"
        " Request here. Pallets Flask serves what does not build a URL and"
        " answers 500 (ValueError: Port out of range) on request.url, a"
        " redirect or an absolute url_for. Newer Werkzeugs build such URLs,"
        " and both answer alike there.",
        lambda environ, ours, pallets: _port_over_range(environ.get("HTTP_HOST"))
        and not _werkzeug_builds_port("99999")
        and _status(ours) == "400",
    )
)


KNOWN.append(
    Known(
        "json-nested-too-deeply",
        "A JSON body nested deeper than Python's recursion limit (such as"
        " '[' * 2000) makes Pallets Flask's request.get_json() raise"
        " RecursionError, a 500 even with silent=True. Here it is malformed"
        " input like any other: 400 Bad Request, or None with silent=True.",
        lambda environ, ours, pallets: _status(pallets) == "500"
        and "RecursionError" in (pallets.get("logged") or "")
        and _status(ours)[:1] in ("2", "4"),
    )
)

KNOWN.append(
    Known(
        "query-not-utf8",
        "A query string with raw bytes that are not UTF-8 (a client sending"
        " '?a=\\x80' unescaped; WSGI servers pass it through) makes"
        " request.args and request.full_path raise UnicodeDecodeError in"
        " Werkzeug's strict decode: a 500 in Pallets Flask, or an exception"
        " escaping the WSGI callable when read inside a streamed response. Here such bytes"
        " stay percent-encoded ('%80'), as Werkzeug already keeps escaped"
        " ones and as request.url shows them.",
        lambda environ, ours, pallets: (
            _status(pallets) == "500" and "UnicodeDecodeError" in (pallets.get("logged") or "")
            # in a streamed body, the error escapes the WSGI callable
            or "UnicodeDecodeError" in (pallets.get("exc") or "")
        )
        and not environ.get("QUERY_STRING", "").isascii()
        and (
            _status(ours)[:1] in ("2", "3", "4")
            # the view after the hook that read request.args raised by design
            or "ValueError('on purpose')" in (ours.get("logged") or "")
        ),
    )
)


KNOWN.append(
    Known(
        "asgi-server-rejects",
        "Over ASGI only: a request whose body framing an HTTP server refuses"
        " (a Content-Length that is not digits, a transfer coding other than"
        " chunked, or both headers) never reaches the app: uvicorn, hypercorn"
        " and granian answer 400 (or 501) themselves. Under WSGI Werkzeug"
        " reads such a request leniently, so the two transports cannot be"
        " compared on it; the fuzzer's ASGI transport models the server.",
        lambda environ, ours, pallets: bool(ours.get("undeliverable")),
    )
)


KNOWN.append(
    Known(
        "asgi-chunked-body-delivered",
        "Over ASGI only: a chunked request body is always de-chunked and"
        " delivered by the server. Under WSGI, a server that passes it on"
        " without setting wsgi.input_terminated (the fuzzer's WSGI side models"
        " one) leaves Werkzeug reading an empty body, with Pallets Flask and"
        " here alike. Over ASGI the app gets the body the client sent.",
        lambda environ, ours, pallets: bool(ours.get("dechunked")),
    )
)


def classify(environ: Environ, ours: Answer, pallets: Answer) -> str | None:
    """The id of the documented difference this is, or ``None``."""
    for known in KNOWN:
        if known.matches(environ, ours, pallets):
            return known.id
    return None
