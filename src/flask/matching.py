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

from werkzeug.exceptions import BadHost
from werkzeug.exceptions import BadRequest
from werkzeug.exceptions import MethodNotAllowed
from werkzeug.exceptions import NotFound
from werkzeug.routing import Map
from werkzeug.routing import MapAdapter
from werkzeug.routing import Rule
from werkzeug.routing.exceptions import NoMatch
from werkzeug.sansio.utils import host_is_trusted

from ._matcher import FastMatcher

if t.TYPE_CHECKING:  # pragma: no cover
    from _typeshed.wsgi import WSGIEnvironment
    from werkzeug.routing import Rule

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
    if not _in_grammar(host):
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
    of ``host``: a value ``host_is_trusted`` refuses is read as empty."""
    if not host_is_trusted(host):
        return True
    try:
        host.lower().partition(":")[0].encode("idna")
    except UnicodeError:
        return False
    return True


class RuleMap(Map):
    """Werkzeug's ``Map`` with a precompiled matcher (see
    :mod:`flask._matcher`), counting added rules so that indexes built from
    them (see :func:`_static_rules`) know cheaply when to rebuild."""

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        # Werkzeug's __init__ has no hook for the matcher class and may
        # already have added rules, so take over the tree it built.
        self._matcher = FastMatcher.replacing(self._matcher)

    def add(self, rulefactory: t.Any) -> None:
        super().add(rulefactory)
        self.__dict__["_rules_added"] = self.__dict__.get("_rules_added", 0) + 1


class LazyBuilderRule(Rule):
    """Werkzeug's ``Rule``, with its two URL builders made on first use.

    Binding a rule compiles a builder function for ``url_for`` twice over
    (an AST, then ``compile``): 90% of ``add_url_rule``, which a request
    that is only matched never uses. Each builder is made by Werkzeug's own
    ``_compile_builder`` the first time the rule builds a URL that way.
    """

    def _compile_builder(
        self, append_unknown: bool = True
    ) -> t.Callable[..., tuple[str, str]]:
        name = "_build_unknown" if append_unknown else "_build"

        # Werkzeug binds the returned function to the rule, as a method.
        def build_first(rule: LazyBuilderRule, **values: t.Any) -> tuple[str, str]:
            made = super(LazyBuilderRule, rule)._compile_builder(append_unknown)
            bound: t.Callable[..., tuple[str, str]] = made.__get__(rule, None)
            # Later builds call Werkzeug's builder directly.
            rule.__dict__[name] = bound
            return bound(**values)

        return build_first


# What Werkzeug's bind_to_environ reads to find the server name, script
# root, subdomain and scheme of a binding (get_host, the websocket check,
# SCRIPT_NAME). The rest of an adapter is the request's own.
_BINDING_KEYS = (
    "HTTP_HOST",
    "SERVER_NAME",
    "SERVER_PORT",
    "wsgi.url_scheme",
    "HTTP_CONNECTION",
    "HTTP_UPGRADE",
    "SCRIPT_NAME",
)
_PER_REQUEST = frozenset({"path_info", "default_method", "query_args"})


def bind_request(
    url_map: Map, environ: WSGIEnvironment, server_name: str | None, subdomain: str | None
) -> MapAdapter | None:
    """``url_map.bind_to_environ(environ, server_name=..., subdomain=...)``,
    or ``None`` when the caller must call that itself.

    Werkzeug re-derives the host, scheme and script root on every call;
    that was 6% of a request that builds URLs. The part that depends on
    them is remembered per distinct set of inputs and only the request's
    path, method and query are filled in; ``tests/test_matching.py``
    compares the adapters with Werkzeug's. An inferred subdomain and maps
    that bind differently are left to the caller: Werkzeug's server-name
    warning names the caller's module, which apps filter on (``flask.app``).
    """
    cls = type(url_map)
    if (
        subdomain is None
        or cls.bind_to_environ is not Map.bind_to_environ
        or cls.bind is not Map.bind
    ):
        return None
    key = (server_name, subdomain, *[environ.get(k) for k in _BINDING_KEYS])
    bindings = url_map.__dict__.setdefault("_flask_bindings", {})
    shared = bindings.get(key)
    if shared is None:
        adapter = url_map.bind_to_environ(environ, server_name=server_name, subdomain=subdomain)
        if len(bindings) < 256:  # hosts come from clients: keep it bounded
            bindings[key] = {
                k: v for k, v in vars(adapter).items() if k not in _PER_REQUEST
            }
        return adapter
    adapter = MapAdapter.__new__(MapAdapter)
    fields = adapter.__dict__
    fields.update(shared)
    path = environ.get("PATH_INFO")
    fields["path_info"] = "/" if path is None else _wsgi_str(path)
    fields["default_method"] = environ["REQUEST_METHOD"]
    query = environ.get("QUERY_STRING")
    fields["query_args"] = None if query is None else _wsgi_str(query)
    return adapter


def _wsgi_str(value: str) -> str:
    # WSGI strings are latin-1 decoded bytes; URLs are UTF-8.
    return value.encode("latin1").decode(errors="replace")


def match_directly(url_map: Map, request: Request) -> bool:
    """Set ``request.url_rule`` and ``view_args`` (or ``routing_exception``)
    and return True; return False when the full adapter must decide."""
    environ = request.environ
    if "HTTP_UPGRADE" in environ:
        # Possibly a websocket upgrade, which changes what may match.
        return False
    url_map.update()
    path = environ.get("PATH_INFO") or ""
    if path:
        if not path.isascii():
            # WSGI gives the path as latin-1 decoded bytes; URLs are UTF-8.
            path = path.encode("latin1").decode(errors="replace")
        path = "/" + path.lstrip("/")
    domain = url_map.default_subdomain or ""
    method = request.method
    values: dict[str, t.Any]
    for rule in _static_rules(url_map, domain).get(path, ()):
        # The compiled matcher tries static transitions first, so a static
        # rule allowing the method wins, exactly as it would there.
        if rule.methods is None or method in rule.methods:
            if rule.alias and url_map.redirect_defaults:
                return False
            values = dict(rule.defaults) if rule.defaults else {}
            break
    else:
        try:
            # The matcher builds a dict (it declares a MutableMapping), and
            # Request.view_args is a dict in Flask's API.
            rule, values = url_map._matcher.match(domain, path, method, False)  # type: ignore[assignment]
        except NoMatch as e:
            if e.websocket_mismatch:
                return False
            if e.have_match_for:
                request.routing_exception = MethodNotAllowed(
                    valid_methods=list(e.have_match_for)
                )
            else:
                request.routing_exception = NotFound()
            return True
        except Exception:
            # Slash and alias redirects need the bound adapter to build a URL.
            return False
    if rule.redirect_to is not None or (
        url_map.redirect_defaults and len(url_map._rules_by_endpoint[rule.endpoint]) > 1
    ):
        return False
    request.url_rule = rule
    request.view_args = values
    return True


def _static_rules(url_map: Map, domain: str) -> dict[str, list[Rule]]:
    """Rules without variable parts, by exact path, in the map's order.

    A dict lookup is cheaper than any walk of the state machine for the
    most common requests, the ones for static paths. Rebuilt whenever rules
    are added.
    """
    cached = url_map.__dict__.get("_flask_static_rules")
    count = url_map.__dict__.get("_rules_added")
    if count is None:  # a plain Werkzeug map: count its rules (slower)
        count = len(url_map._rules)
    if cached is not None and cached[0] == count and cached[1] == domain:
        return cached[2]  # type: ignore[no-any-return]  # the slot holds what this function stored
    index: dict[str, list[Rule]] = {}
    for rule in url_map._rules:
        if not rule.arguments and not rule.websocket and rule.subdomain == domain:
            index.setdefault(rule.rule, []).append(rule)
    url_map.__dict__["_flask_static_rules"] = (count, domain, index)
    return index
