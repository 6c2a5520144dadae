"""Matching a request to a URL rule without binding a ``MapAdapter``.

``Map.bind_to_environ`` re-derives the server name, scheme and script root
on every request; it was 15% of a hello-world request's profile. For the
common set-up (no host or subdomain matching, no trusted-hosts check) the
only inputs to matching are the path and the method, so this module asks
Werkzeug's compiled matcher directly. Anything unusual (redirects, alias
rules, websockets) is left to the full adapter, which then decides exactly
as Werkzeug always does. URL building stays in :mod:`flask.routing`.
"""

from __future__ import annotations

import re
import typing as t
from functools import lru_cache

from werkzeug.exceptions import BadHost
from werkzeug.exceptions import BadRequest
from werkzeug.sansio.utils import get_current_url
from werkzeug.sansio.utils import get_host

# The matching and binding shortcuts live behind the shortcut gate.
from ._accel.routing import LazyBuilderRule as LazyBuilderRule
from ._accel.routing import RuleMap as RuleMap
from ._accel.routing import bind_request as bind_request
from ._accel.routing import match_directly as match_directly


if t.TYPE_CHECKING:  # pragma: no cover
    from .wrappers import Request


# Host headers already seen to be well formed (bounded, see below).
_valid_hosts: set[str] = set()

# RFC 9110 section 7.2: Host = uri-host [ ":" port ], with RFC 3986's
# reg-name (unreserved, sub-delims, pct-encoded; so "_" and "~" are fine),
# IPv4 or IP-literal, and port = *DIGIT (empty, leading zeros and values
# over 65535 included). Non-ASCII is checked separately (see below).
_REG_NAME = r"(?:[A-Za-z0-9\-._~!$&'()*+,;=\x80-\U0010ffff]|%[0-9A-Fa-f]{2})*"
_IP_LITERAL = r"\[(?:[0-9A-Fa-f:.]+|[vV][0-9A-Fa-f]+\.[A-Za-z0-9\-._~!$&'()*+,;=:]+)\]"
_HOST_GRAMMAR = re.compile(rf"(?:{_IP_LITERAL}|{_REG_NAME})(?::[0-9]*)?")


def reject_invalid_host(request: Request, config: t.Mapping[str, t.Any]) -> bool:
    """Give a request whose Host header is malformed a 400 and return True.

    Two rules, checked once per distinct host: a value outside the Host
    grammar is refused (RFC 9112 section 3.2; Werkzeug would treat it as
    empty), and a host that Werkzeug's binding could not IDNA-encode gets
    the ``BadHost`` that binding raises, here rather than at the first
    ``url_for``. When the app's ``SERVER_NAME`` is set, binding uses it
    instead of the request's host (read only for a host not seen before).
    """
    host = request.environ.get("HTTP_HOST")
    if host is None or host in _valid_hosts:
        return False
    if not _in_grammar(host) or not _port_usable(host):
        request.routing_exception = BadRequest("The Host header is invalid.")
        return True
    if not _binds(host):
        if config["SERVER_NAME"] is not None:
            return False  # not remembered: another app may bind by host
        request.routing_exception = BadHost()
        return True
    if len(_valid_hosts) >= 1024:
        _valid_hosts.clear()
    _valid_hosts.add(host)
    return False


def _port_usable(host: str) -> bool:
    """Whether this Werkzeug can build URLs with the host's port: before
    Werkzeug 3.1.7 (or so) a port over 65535 made ``request.url`` and
    redirects raise ``ValueError``, a 500; those Werkzeugs get a 400."""
    port = host.rpartition(":")[2] if not host.endswith("]") else ""
    if not port.isdigit() or int(port) <= 65535:
        return True
    return _builds_any_port()


@lru_cache(maxsize=None)
def _builds_any_port() -> bool:
    try:
        get_current_url("http", get_host("http", "localhost:99999", None), "", "/")
    except ValueError:
        return False
    return True


def _in_grammar(host: str) -> bool:
    if _HOST_GRAMMAR.fullmatch(host) is None:
        return False
    if host.isascii():
        return True
    # A WSGI server hands over the raw bytes as latin-1; an international
    # name is acceptable when its IDNA form is.
    name = host.partition(":")[0]  # a reg-name has no ":"
    try:
        name = name.encode("latin-1").decode("utf-8")
    except UnicodeError:
        pass
    try:
        name.encode("idna")
    except UnicodeError:
        return False
    return True


def _binds(host: str) -> bool:
    """Whether ``Map.bind`` accepts the name Werkzeug's ``get_host`` makes
    of ``host`` (which differs between Werkzeug versions)."""
    name = get_host("http", host, None)
    if not name:
        return True
    try:
        name.lower().partition(":")[0].encode("idna")
    except UnicodeError:
        return False
    return True
