"""Routing shortcuts (see :mod:`flask._accel` for the gate).

``Map.bind_to_environ`` re-derives the server name, scheme and script root
on every request; it was 15% of a hello-world request's profile. For the
common set-up (no host or subdomain matching, no trusted-hosts check) the
only inputs to matching are the path and the method, so
:func:`match_directly` asks the map's compiled matcher directly (a
:class:`~flask._accel.matcher.FastMatcher`). Anything unusual (redirects,
alias rules, websockets) is left to the full adapter, which then decides
exactly as Werkzeug always does.
"""

from __future__ import annotations

import operator
import typing as t

from werkzeug.exceptions import MethodNotAllowed
from werkzeug.exceptions import NotFound
from werkzeug.routing import Map
from werkzeug.routing import MapAdapter
from werkzeug.routing import Rule
from werkzeug.routing.exceptions import NoMatch
from werkzeug.routing.matcher import StateMachineMatcher

from . import enabled
from .matcher import FastMatcher

if t.TYPE_CHECKING:  # pragma: no cover
    from _typeshed.wsgi import WSGIEnvironment

    from ..wrappers import Request

#: Werkzeug's rules by endpoint (a private dict of the map).
rules_by_endpoint = operator.attrgetter("_rules_by_endpoint")


class RuleMap(Map):
    """Werkzeug's ``Map`` with a precompiled matcher (see
    :mod:`flask._accel.matcher`), counting added rules so that indexes built from
    them (see :func:`_static_rules`) know cheaply when to rebuild."""

    #: Whether this map's matcher is a FastMatcher that match_directly
    #: may call (the ``url-matcher`` shortcut).
    direct = False

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        if enabled("url-matcher"):
            # Werkzeug's __init__ has no hook for the matcher class and may
            # already have added rules, so take over the tree it built.
            self._matcher = FastMatcher.replacing(self._matcher)
            self.direct = True

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
        if not enabled("lazy-url-builder"):
            return super()._compile_builder(append_unknown)
        return _build_on_first_use(append_unknown)


def _build_on_first_use(append_unknown: bool) -> t.Callable[..., tuple[str, str]]:
    name = "_build_unknown" if append_unknown else "_build"

    # Werkzeug binds the returned function to the rule, as a method.
    def build_first(rule: Rule, **values: t.Any) -> tuple[str, str]:
        made = Rule._compile_builder(rule, append_unknown)
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
        or not enabled("bind-cache")
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
    direct = getattr(url_map, "direct", None)  # None: a plain Werkzeug map
    if direct is False or (direct is None and not enabled("url-matcher")):
        return False
    environ = request.environ
    if "HTTP_UPGRADE" in environ:
        # Possibly a websocket upgrade, which changes what may match.
        return False
    path = environ.get("PATH_INFO") or ""
    if path:
        if not path.isascii():
            # WSGI gives the path as latin-1 decoded bytes; URLs are UTF-8.
            path = path.encode("latin1").decode(errors="replace")
        path = "/" + path.lstrip("/")
    domain = url_map.default_subdomain or ""
    method = request.method
    for rule, methods, plain in _static_rules(url_map, domain).get(path, ()):
        # The compiled matcher tries static transitions first, so a static
        # rule allowing the method wins, exactly as it would there.
        if methods is None or method in methods:
            if not plain:
                return False
            request.url_rule = rule
            request.view_args = dict(rule.defaults) if rule.defaults else {}
            return True
    url_map.update()
    try:
        # The matcher builds a dict (it declares a MutableMapping), and
        # Request.view_args is a dict in Flask's API.
        rule, values = url_map._matcher.match(domain, path, method, False)
    except NoMatch as e:
        if e.websocket_mismatch:
            return False
        if e.have_match_for:
            request.routing_exception = MethodNotAllowed(valid_methods=list(e.have_match_for))
        else:
            request.routing_exception = NotFound()
        return True
    except Exception:
        # Slash and alias redirects need the bound adapter to build a URL.
        return False
    if not _plain_rule(url_map, rule):
        return False
    request.url_rule = rule
    request.view_args = values  # type: ignore[assignment]
    return True


def _plain_rule(url_map: Map, rule: Rule) -> bool:
    """Whether a match of ``rule`` is answered as is: no redirect to
    another URL (``redirect_to``, or a canonical rule for its defaults)."""
    return rule.redirect_to is None and not (
        url_map.redirect_defaults
        and (rule.alias or len(rules_by_endpoint(url_map)[rule.endpoint]) > 1)
    )


def _static_rules(
    url_map: Map, domain: str
) -> dict[str, list[tuple[Rule, t.AbstractSet[str] | None, bool]]]:
    """Rules without variable parts, by exact path, in the map's order, with
    their methods and whether a match is answered as is (:func:`_plain_rule`).

    A dict lookup is cheaper than any walk of the state machine for the
    most common requests, the ones for static paths. Rebuilt whenever rules
    are added.
    """
    cached = url_map.__dict__.get("_flask_static_rules")
    count = url_map.__dict__.get("_rules_added")
    if count is None:  # a plain Werkzeug map: count its rules (slower)
        count = len(list(url_map.iter_rules()))
    redirects = url_map.redirect_defaults
    if cached is not None and cached[0] == count and cached[1] == domain and cached[3] is redirects:
        return cached[2]  # type: ignore[no-any-return]  # the slot holds what this function stored
    url_map.update()  # sorts the rules by endpoint, which _plain_rule reads
    index: dict[str, list[tuple[Rule, t.AbstractSet[str] | None, bool]]] = {}
    for rule in url_map.iter_rules():
        if not rule.arguments and not rule.websocket and rule.subdomain == domain:
            index.setdefault(rule.rule, []).append((rule, rule.methods, _plain_rule(url_map, rule)))
    url_map.__dict__["_flask_static_rules"] = (count, domain, index, redirects)
    return index


# -- self-checks (run once by the gate) ---------------------------------------


def check_matcher() -> str | None:
    """The matcher's tree and a rule's converters are where FastMatcher
    expects them, and it answers as Werkzeug's adapter does."""
    url_map = Map([Rule("/", endpoint="root"), Rule("/u/<int:n>", endpoint="u")])
    matcher = getattr(url_map, "_matcher", None)
    if not isinstance(matcher, StateMachineMatcher) or not hasattr(matcher, "_root"):
        return "Map._matcher is not a StateMachineMatcher with a _root tree"
    if not isinstance(getattr(url_map, "_rules_by_endpoint", None), dict):
        return "Map._rules_by_endpoint is not a dict"
    fast = FastMatcher.replacing(matcher)
    url_map.update()
    fast.update()
    want = url_map.bind("x").match("/u/7")
    rule, values = fast.match("", "/u/7", "GET", False)
    if (rule.endpoint, dict(values)) != want:
        return f"FastMatcher gave {(rule.endpoint, values)!r}, Werkzeug {want!r}"
    # How repeated slashes are merged changed within Werkzeug 3.1 (3.1.7
    # merges any run; 3.1.0 merged pairs): FastMatcher merges as 3.1.7 does.
    merging = Map([Rule("/m/a/b", endpoint="m")], merge_slashes=True)
    stock_matcher = merging._matcher
    fast = FastMatcher.replacing(stock_matcher)
    merging.update()
    fast.update()
    for path in ("/m//a///b", "/m///a/b"):
        if _outcome(stock_matcher.match, path) != _outcome(fast.match, path):
            return f"FastMatcher merges the slashes of {path!r} unlike this Werkzeug"
    return None


def _outcome(match: t.Callable[..., t.Any], path: str) -> tuple[str, str]:
    try:
        rule, values = match("", path, "GET", False)
    except Exception as e:  # a redirect or a miss is an answer too
        return type(e).__name__, repr(getattr(e, "path_info", None) or getattr(e, "args", ()))
    return rule.endpoint, repr(dict(values))


def check_lazy_builder() -> str | None:
    """Rule.compile still makes its two builders through
    ``_compile_builder``, and the lazily made builder builds what
    Werkzeug's own does."""
    if "_compile_builder" not in Rule.compile.__code__.co_names:
        return "Rule.compile no longer calls _compile_builder"
    stock = Map([Rule("/u/<int:n>", endpoint="u")])
    rule = next(stock.iter_rules())
    fields = vars(rule)
    if not (callable(fields.get("_build")) and callable(fields.get("_build_unknown"))):
        return "a bound Rule has no _build and _build_unknown builders"
    want = rule._build_unknown(n=3, q="a b")
    got = _build_on_first_use(True)(rule, n=3, q="a b")
    if got != want:
        return f"built {got!r}, Werkzeug {want!r}"
    return None


def check_bind_cache() -> str | None:
    """A MapAdapter's per-request fields are the ones bind_request fills."""
    url_map = Map([Rule("/", endpoint="root")])
    adapter = url_map.bind("x", path_info="/p", default_method="GET", query_args="a=1")
    fields = vars(adapter)
    missing = _PER_REQUEST - fields.keys()
    if missing:
        return f"MapAdapter has no {sorted(missing)}"
    return None
