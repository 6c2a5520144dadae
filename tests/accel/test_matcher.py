"""The precompiled matcher must decide every request exactly as Werkzeug's.

Each test builds the same rules on a stock Werkzeug ``Map`` and on our
``RuleMap`` and compares what matching gives (rule, values, or exception
with its details) through the matcher itself, a bound ``MapAdapter`` and
``flask.matching.match_directly``.

Corners of flask._matcher's precompiled walk, against Werkzeug's own
``StateMachineMatcher`` on the same rules.
"""

from __future__ import annotations

import random
import re
import typing as t
import uuid

import pytest
from werkzeug.exceptions import HTTPException
from werkzeug.exceptions import MethodNotAllowed
from werkzeug.routing import BaseConverter
from werkzeug.routing import Map
from werkzeug.routing import Rule
from werkzeug.routing.converters import ValidationError
from werkzeug.routing.exceptions import NoMatch
from werkzeug.routing.exceptions import RequestAliasRedirect
from werkzeug.routing.exceptions import RequestPath
from werkzeug.routing.exceptions import RequestRedirect
from werkzeug.routing.matcher import StateMachineMatcher

from flask._accel.matcher import FastMatcher
from flask.matching import RuleMap
from flask.matching import match_directly


Spec = t.Dict[str, t.Any]


METHODS = ("GET", "POST", "PUT")


class EvenConverter(BaseConverter):
    """Digits, but only even numbers are valid."""

    regex = r"\d+"

    def to_python(self, value: str) -> int:
        if int(value) % 2:
            raise ValidationError()
        return int(value)


class DottedConverter(BaseConverter):
    """Crosses slashes, and has a group of its own inside its regex."""

    regex = r"(?:[a-z]+)(\.[a-z]+)*(?:/[a-z]+)*?"
    part_isolating = False


class BrokenConverter(BaseConverter):
    regex = r"(unclosed"


CONVERTERS = {
    "even": EvenConverter,
    "dotted": DottedConverter,
    "broken": BrokenConverter,
}


class Pair(t.NamedTuple):
    stock: Map
    ours: Map
    ids: dict[int, int]


def make_pair(specs: list[Spec], **map_kwargs: t.Any) -> Pair:
    map_kwargs.setdefault("converters", CONVERTERS)
    stock = Map(**map_kwargs)
    ours = RuleMap(**map_kwargs)
    pair = Pair(stock, ours, {})
    add_rules(pair, specs)
    return pair


def add_rules(pair: Pair, specs: list[Spec]) -> None:
    start = len(pair.ids) // 2
    for k, spec in enumerate(specs, start):
        spec = dict(spec)
        path = spec.pop("rule")
        spec.setdefault("endpoint", f"e{k}")
        for url_map in (pair.stock, pair.ours):
            rule = Rule(path, **spec)
            url_map.add(rule)
            pair.ids[id(rule)] = k


def outcome(call: t.Callable[[], t.Any], ids: dict[int, int]) -> tuple[t.Any, ...]:
    """What a match gave, in a form comparable across the two maps."""
    try:
        rule, values = call()
    except NoMatch as e:
        return ("NoMatch", list(e.have_match_for), e.websocket_mismatch)
    except RequestPath as e:
        return ("RequestPath", e.path_info)
    except RequestAliasRedirect as e:
        return ("Alias", e.matched_values, e.endpoint)
    except RequestRedirect as e:
        return ("Redirect", e.new_url)
    except MethodNotAllowed as e:
        return ("405", e.valid_methods)
    except HTTPException as e:
        return (type(e).__name__,)
    except re.error as e:
        return ("re.error", str(e))
    return ("ok", ids[id(rule)], values)


class FakeRequest:
    def __init__(self, path: str, method: str) -> None:
        self.environ = {"PATH_INFO": path}
        self.method = method
        self.url_rule: t.Any = None
        self.view_args: t.Any = None
        self.routing_exception: t.Any = None


def direct_outcome(url_map: Map, path: str, method: str, ids: dict[int, int]) -> t.Any:
    request = FakeRequest(path, method)
    try:
        if not match_directly(url_map, request):  # type: ignore[arg-type]
            return "left to the adapter"
    except re.error as e:
        return ("re.error", str(e))
    if request.routing_exception is not None:
        e = request.routing_exception
        return (type(e).__name__, getattr(e, "valid_methods", None))
    return ("ok", ids[id(request.url_rule)], request.view_args)


def assert_same(
    pair: Pair,
    paths: t.Iterable[str],
    domains: t.Sequence[tuple[str, str | None]] = (("localhost", None),),
    websockets: t.Sequence[bool] = (False, True),
) -> int:
    """Compare both maps on every path, method, domain and websocket flag;
    return how many of the stock outcomes were successful matches."""
    matched = 0
    for server_name, subdomain in domains:
        for path in paths:
            for method in METHODS:
                for ws in websockets:
                    got = [
                        outcome(
                            lambda m=m: m.bind(server_name, subdomain=subdomain).match(
                                path, method, return_rule=True, websocket=ws
                            ),
                            pair.ids,
                        )
                        for m in (pair.stock, pair.ours)
                    ]
                    assert got[0] == got[1], (server_name, subdomain, path, method, ws)
                    matched += got[0][0] == "ok"
                    domain = subdomain if subdomain is not None else server_name
                    if not pair.stock.host_matching and subdomain is None:
                        domain = pair.stock.default_subdomain
                    got = [
                        outcome(
                            lambda m=m: m._matcher.match(domain, path, method, ws),
                            pair.ids,
                        )
                        for m in (pair.stock, pair.ours)
                    ]
                    assert got[0] == got[1], ("matcher", domain, path, method, ws)
            if subdomain is None:
                for method in METHODS:
                    got = [
                        direct_outcome(m, path, method, pair.ids)
                        for m in (pair.stock, pair.ours)
                    ]
                    assert got[0] == got[1], ("direct", path, method)
    assert isinstance(pair.ours._matcher, FastMatcher)
    assert pair.ours._matcher._compiled is not None
    return matched


@pytest.mark.needs_shortcut("url-matcher")
def test_rule_map_installs_the_fast_matcher_and_keeps_initial_rules() -> None:
    url_map = RuleMap([Rule("/a/<int:x>", endpoint="a"), Rule("/a/<y>", endpoint="b")])
    assert type(url_map._matcher) is FastMatcher
    assert url_map.bind("").match("/a/1") == ("a", {"x": 1})
    assert url_map.bind("").match("/a/z") == ("b", {"y": "z"})
    assert url_map._matcher._compiled is not None


@pytest.mark.needs_shortcut("url-matcher")
def test_static_dynamic_precedence_and_converters() -> None:
    specs: list[Spec] = [
        {"rule": "/page/static"},
        {"rule": "/page/<name>"},
        {"rule": "/page/<int:id>"},
        {"rule": "/page/<float:x>"},
        {"rule": "/page/<int(signed=True):s>/x"},
        {"rule": "/page/<int(fixed_digits=3):d>/fixed"},
        {"rule": "/page/<uuid:u>"},
        {"rule": "/page/<any(red, blue):colour>"},
        {"rule": "/v<int:major>.<int:minor>/info"},
        {"rule": "/v<name>/info"},
        {"rule": "/files/<path:p>"},
        {"rule": "/files/<path:p>/edit"},
        {"rule": "/files/<path:p>/"},
        {"rule": "/d/<dotted:dd>/end"},
        {"rule": "/d/<dotted:dd>"},
        {"rule": "/even/<even:n>"},
        {"rule": "/even/<int:n>/x"},
        {"rule": "/<a>/<b>/<c>"},
        {"rule": "/<path:everything>"},
    ]
    pair = make_pair(specs)
    u = str(uuid.UUID(int=12345))
    paths = [
        "", "/", "/page/static", "/page/abc", "/page/42", "/page/4.5", "/page/-3/x",
        "/page/3/x", "/page/007/fixed", "/page/7/fixed", f"/page/{u}", "/page/red",
        "/page/blue/", "/v1.2/info", "/vx/info", "/v1.2/info/", "/files/a",
        "/files/a/b/c",
        "/files/a/b/edit", "/files/a/b/", "/files/", "/d/ab.cd/ef/end", "/d/ab.cd.ef",
        "/d/ab/cd", "/even/4", "/even/5", "/even/5/x", "/x/y/z", "/x/y/z/", "/x//y",
        "/page//static", "/über/ß", "/a b/c", "/page/static/",
    ]
    assert assert_same(pair, paths) > 40


@pytest.mark.needs_shortcut("url-matcher")
def test_validation_error_is_a_no_match_without_backtracking() -> None:
    # Same weight, so the even rule is tried first and "/n/<x>" never is.
    pair = make_pair(
        [{"rule": "/n/<even:n>"}, {"rule": "/n/<x>"}, {"rule": "/i/<int:n>"}]
    )
    assert_same(pair, ["/n/2", "/n/3", "/n/abc", "/i/1"])
    with pytest.raises(NoMatch):
        pair.ours._matcher.match("", "/n/3", "GET", False)


@pytest.mark.parametrize("strict", [True, False])
@pytest.mark.parametrize("merge", [True, False])
@pytest.mark.needs_shortcut("url-matcher")
def test_slashes(strict: bool, merge: bool) -> None:
    specs: list[Spec] = [
        {"rule": "/dir/"},
        {"rule": "/file"},
        {"rule": "/both"},
        {"rule": "/both/", "methods": ["POST"]},
        {"rule": "/strict/", "strict_slashes": True},
        {"rule": "/loose/", "strict_slashes": False},
        {"rule": "/x/<int:n>/"},
        {"rule": "/y/<path:p>/"},
        {"rule": "/nomerge//a", "merge_slashes": False},
        {"rule": "/m/<a>/<b>"},
    ]
    pair = make_pair(specs, strict_slashes=strict, merge_slashes=merge)
    paths = [
        "/dir", "/dir/", "/dir//", "/file", "/file/", "//file", "/both", "/both/",
        "/strict", "/loose", "/loose/", "/x/1", "/x/1/", "/x//1", "/y/a/b", "/y/a/b/",
        "/y//a//b/", "/nomerge//a", "/nomerge/a", "/m//a///b", "/m/a/b", "///",
    ]
    assert_same(pair, paths)


@pytest.mark.needs_shortcut("url-matcher")
def test_methods_and_have_match_for() -> None:
    specs: list[Spec] = [
        {"rule": "/r", "methods": ["GET"]},
        {"rule": "/r", "methods": ["POST"]},
        {"rule": "/q/<int:n>", "methods": ["PUT"]},
        {"rule": "/q/<n>", "methods": ["POST", "DELETE"]},
        {"rule": "/w/", "methods": ["POST"]},
        {"rule": "/any"},
    ]
    pair = make_pair(specs)
    assert_same(pair, ["/r", "/q/1", "/q/x", "/w", "/w/", "/any", "/nothing"])
    with pytest.raises(NoMatch) as info:
        pair.ours._matcher.match("", "/q/1", "GET", False)
    assert info.value.have_match_for == {"PUT", "POST", "DELETE"}


@pytest.mark.needs_shortcut("url-matcher")
def test_host_matching() -> None:
    specs: list[Spec] = [
        {"rule": "/", "host": "example.com"},
        {"rule": "/", "host": "<user>.example.com"},
        {"rule": "/p/<int:n>", "host": "<user>.example.com"},
        {"rule": "/p/<int:n>", "host": "static.example.com"},
        {"rule": "/any"},
    ]
    pair = make_pair(specs, host_matching=True)
    domains = [
        ("example.com", None),
        ("bob.example.com", None),
        ("static.example.com", None),
        ("", None),
    ]
    assert assert_same(pair, ["/", "/p/1", "/p/x", "/any"], domains) > 5


@pytest.mark.needs_shortcut("url-matcher")
def test_subdomains() -> None:
    specs: list[Spec] = [
        {"rule": "/", "subdomain": "api"},
        {"rule": "/", "subdomain": "<tenant>"},
        {"rule": "/home"},
        {"rule": "/u/<int:n>", "subdomain": "<tenant>"},
    ]
    pair = make_pair(specs, default_subdomain="www")
    domains = [
        ("example.com", "api"),
        ("example.com", "acme"),
        ("example.com", "www"),
        ("example.com", None),
    ]
    assert_same(pair, ["/", "/home", "/u/3", "/u/x"], domains)


@pytest.mark.parametrize("redirect_defaults", [True, False])
@pytest.mark.needs_shortcut("url-matcher")
def test_defaults_and_aliases(redirect_defaults: bool) -> None:
    specs: list[Spec] = [
        {"rule": "/page/", "endpoint": "page", "defaults": {"n": 1}},
        {"rule": "/page/<int:n>", "endpoint": "page"},
        {"rule": "/old/<int:n>", "endpoint": "page", "alias": True},
        {"rule": "/lang", "defaults": {"lang": "en"}},
        {"rule": "/gone/<int:n>", "redirect_to": "/page/<n>"},
    ]
    pair = make_pair(specs, redirect_defaults=redirect_defaults)
    paths = ["/page/", "/page/1", "/page/2", "/old/5", "/lang", "/gone/3", "/page"]
    assert_same(pair, paths)


@pytest.mark.needs_shortcut("url-matcher")
def test_websocket_rules() -> None:
    specs: list[Spec] = [
        {"rule": "/ws", "websocket": True},
        {"rule": "/ws"},
        {"rule": "/only-ws/<int:n>", "websocket": True},
        {"rule": "/only-http/"},
        {"rule": "/sock/", "websocket": True},
    ]
    pair = make_pair(specs)
    paths = ["/ws", "/only-ws/1", "/only-ws/x", "/only-http", "/only-http/", "/sock"]
    assert_same(pair, paths)


@pytest.mark.needs_shortcut("url-matcher")
def test_invalid_converter_regex_fails_only_when_reached() -> None:
    pair = make_pair([{"rule": "/ok/<int:n>"}, {"rule": "/bad/<broken:b>"}])
    assert_same(pair, ["/ok/1", "/bad/x", "/elsewhere"])
    with pytest.raises(re.error):
        pair.ours._matcher.match("", "/bad/x", "GET", False)


@pytest.mark.needs_shortcut("url-matcher")
def test_rule_added_after_matching_started() -> None:
    pair = make_pair([{"rule": "/a/<x>"}, {"rule": "/b"}])
    paths = ["/a/1", "/b", "/a/1/", "/c/1"]
    assert_same(pair, paths)
    compiled = pair.ours._matcher._compiled
    add_rules(pair, [{"rule": "/a/<int:n>"}, {"rule": "/c/<int:n>"}])
    assert pair.ours._matcher._compiled is None
    # Before Map.update runs, both matchers use the unsorted tree.
    for path in paths:
        got = [
            outcome(lambda m=m: m._matcher.match("", path, "GET", False), pair.ids)
            for m in (pair.stock, pair.ours)
        ]
        assert got[0] == got[1]
    assert assert_same(pair, paths) > 0
    assert pair.ours._matcher._compiled is not compiled
    assert pair.ours.bind("").match("/a/1") == ("e2", {"n": 1})


@pytest.mark.needs_shortcut("url-matcher")
def test_merge_slashes_switched_on_the_map_later() -> None:
    pair = make_pair([{"rule": "/a/b"}, {"rule": "/a/<int:n>/"}], merge_slashes=False)
    assert_same(pair, ["/a//b", "/a//1", "/a/1"])
    pair.stock.merge_slashes = pair.ours.merge_slashes = True
    assert_same(pair, ["/a//b", "/a//1", "/a/1"])


def test_plain_werkzeug_matcher_api() -> None:
    ours = FastMatcher(True)
    stock = StateMachineMatcher(True)
    url_map = Map([Rule("/x/<int:n>", endpoint="x")])
    rule = next(iter(url_map.iter_rules()))
    for matcher in (ours, stock):
        matcher.add(rule)
        matcher.update()
    assert ours.match("", "/x/3", "GET", False) == stock.match("", "/x/3", "GET", False)


_STATIC = ["a", "b", "c", "v1", ""]


_DYNAMIC = [
    "<{v}>",
    "<int:{v}>",
    "<float:{v}>",
    "<path:{v}>",
    "<any(a,b):{v}>",
    "v<int:{v}>",
    "<even:{v}>",
    "<dotted:{v}>",
]


_PATH_BITS = ["a", "b", "c", "v1", "v2", "1", "2", "3", "2.5", "-4", "x.y", "", "a/b"]


def _random_specs(rng: random.Random) -> list[Spec]:
    specs: list[Spec] = []
    for _ in range(rng.randint(1, 14)):
        segments = []
        for k in range(rng.randint(0, 4)):
            if rng.random() < 0.5:
                segments.append(rng.choice(_STATIC))
            else:
                segments.append(rng.choice(_DYNAMIC).format(v=f"v{k}"))
        rule = "/" + "/".join(segments)
        if rng.random() < 0.3 and not rule.endswith("/"):
            rule += "/"
        spec: Spec = {"rule": rule}
        roll = rng.random()
        if roll < 0.15:
            spec["websocket"] = True
        elif roll < 0.45:
            spec["methods"] = rng.sample(METHODS, rng.randint(1, 2))
        if rng.random() < 0.2:
            spec["strict_slashes"] = rng.random() < 0.5
        if rng.random() < 0.1:
            spec["merge_slashes"] = False
        if rng.random() < 0.1:
            spec["defaults"] = {"extra": 1}
        specs.append(spec)
    return specs


def _random_paths(rng: random.Random) -> list[str]:
    paths = ["", "/"]
    for _ in range(25):
        path = "/" + "/".join(rng.choice(_PATH_BITS) for _ in range(rng.randint(0, 4)))
        if rng.random() < 0.2:
            path += "/"
        if rng.random() < 0.15:
            path = path.replace("/", "//", 1)
        paths.append(path)
    return paths


@pytest.mark.needs_shortcut("url-matcher")
def test_randomised_rule_sets() -> None:
    rng = random.Random(20240531)
    matched = 0
    for _ in range(120):
        kwargs = {
            "strict_slashes": rng.random() < 0.7,
            "merge_slashes": rng.random() < 0.7,
            "redirect_defaults": rng.random() < 0.5,
        }
        pair = make_pair(_random_specs(rng), **kwargs)
        paths = _random_paths(rng)
        matched += assert_same(pair, paths[:15])
        add_rules(pair, _random_specs(rng)[:3])
        matched += assert_same(pair, paths, websockets=(False,))
    # The generator must produce real matches, not only 404s.
    assert matched > 500


def _edges(node: t.Any) -> list[t.Any]:
    found = list(node.dynamic)
    for child in node.static.values():
        found += _edges(child)
    for edge in node.dynamic:
        found += _edges(edge.target)
    return found


@pytest.mark.needs_shortcut("url-matcher")
def test_patterns_are_compiled_when_first_reached() -> None:
    """Shortcut for start-up: ``update`` compiles no pattern; a match
    compiles only the edges it walks, and gives Werkzeug's answer."""
    pair = make_pair([
        {"rule": "/user/<int:uid>"},
        {"rule": "/post/<slug>/edit"},
        {"rule": "/files/<path:p>"},
    ])
    pair.ours.update()
    edges = _edges(pair.ours._matcher._compiled)
    assert len(edges) == 3
    assert all(e.match == e._first_match for e in edges)
    assert_same(pair, ["/user/7"], websockets=(False,))
    compiled = {e.part.content for e in edges if e.match != e._first_match}
    assert compiled == {next(e.part.content for e in edges if "user" in str(e.target.rules))}
    assert_same(pair, ["/user/8", "/post/x/edit", "/files/a/b", "/user/x"])
    assert all(e.match != e._first_match for e in edges)


def walk_outcome(url_map: Map, path: str, method: str = "GET") -> t.Any:
    try:
        rule, values = url_map.bind("x").match(path, method, return_rule=True)
        return ("ok", rule.rule, values)
    except Exception as e:  # the error is part of the answer
        return ("error", type(e), str(e))


class OddGroup(BaseConverter):
    # A named group Werkzeug's own numbering cannot read.
    regex = r"(?P<__werkzeug_x>a)b"


@pytest.mark.needs_shortcut("url-matcher")
def test_a_converter_with_an_odd_group_name_fails_as_werkzeug_fails() -> None:
    rules = lambda: [Rule("/o/<odd:v>", endpoint="o"), Rule("/o/<int:n>/<odd:v>", endpoint="p")]  # noqa: E731
    ours = RuleMap(rules(), converters={"odd": OddGroup})
    theirs = Map(rules(), converters={"odd": OddGroup})
    for path in ("/o/ab", "/o/1/ab", "/o/zz"):
        assert walk_outcome(ours, path) == walk_outcome(theirs, path)
    assert walk_outcome(ours, "/o/ab")[1] is ValueError


def edges(node: t.Any) -> t.Iterator[t.Any]:
    for edge in node.dynamic:
        yield edge
        yield from edges(edge.target)
    for child in node.static.values():
        yield from edges(child)


@pytest.mark.needs_shortcut("url-matcher")
def test_converter_groups_are_found_once_when_compiling() -> None:
    url_map = RuleMap(
        [Rule("/u/<int:a>", endpoint="a"), Rule("/u/<a>/<path:b>", endpoint="b"),
         Rule("/f/<a>.<b>", endpoint="c")]
    )
    url_map.update()
    found = list(edges(url_map._matcher._compiled))
    # Patterns compile when a request first reaches their edge (start-up);
    # the groups are found then, once, not on every match.
    assert found and all(edge.groups is None for edge in found)
    for path in ("/u/1", "/u/a/b/c", "/f/x.y"):
        assert walk_outcome(url_map, path)[0] == "ok"
    assert all(isinstance(edge.groups, tuple) for edge in found)
    first = [edge.groups for edge in found]
    for path in ("/u/2", "/u/b/c", "/f/y.z"):
        walk_outcome(url_map, path)
    assert [edge.groups for edge in found] == first
    assert all(a is b for a, b in zip(first, (edge.groups for edge in found)))
    assert sorted(len(edge.groups) for edge in found) == [1, 1, 1, 2]


@pytest.mark.parametrize("path", ["/f/x.y", "/u/1", "/u/a/b/c", "/u/a/", "/f/x.y.z"])
def test_values_come_in_converter_order(path: str) -> None:
    rules = lambda: [Rule("/u/<int:a>", endpoint="a"), Rule("/u/<a>/<path:b>", endpoint="b"),  # noqa: E731
                     Rule("/f/<a>.<b>", endpoint="c")]
    assert walk_outcome(RuleMap(rules()), path) == walk_outcome(Map(rules()), path)


def test_nodes_of_static_chains_step_without_recursing(seams: t.Any) -> None:
    url_map = RuleMap([Rule("/a/b/c/d/<x>", endpoint="deep"), Rule("/a/b/c/e", endpoint="e")])
    url_map.update()
    calls: list[int] = []
    real = seams.get("matcher_walk")

    def spy(node: t.Any, parts: t.Any, i: int, *rest: t.Any) -> t.Any:
        calls.append(i)
        return real(node, parts, i, *rest)

    seams.replace("matcher_walk", spy)
    rule, values = url_map._matcher.match("", "/a/b/c/d/z", "GET", False)
    assert (rule.endpoint, values) == ("deep", {"x": "z"})
    # One call from match, the static chain /a/b/c walked in its loop,
    # then the dynamic edge below /d.
    assert len(calls) <= 3


class Anything(BaseConverter):
    """A converter spanning slashes that may match a lone "/"."""

    regex = ".*"
    part_isolating = False


@pytest.mark.parametrize("path", ["/x/", "/x//", "/x///", "/x/a/", "/x/a//b", "/y//", "/y/a/"])
def test_converters_matching_a_lone_slash_match_as_werkzeug(path: str) -> None:
    rules = lambda: [  # noqa: E731
        Rule("/x/<any_:a>", endpoint="x"),
        Rule("/y/<any_:a>/", endpoint="y"),
        Rule("/y/<any_:a>/end", endpoint="y_end"),
    ]
    ours = RuleMap(rules(), converters={"any_": Anything})
    theirs = Map(rules(), converters={"any_": Anything})
    assert walk_outcome(ours, path) == walk_outcome(theirs, path)
