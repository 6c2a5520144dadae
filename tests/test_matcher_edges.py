"""Corners of flask._matcher's precompiled walk, against Werkzeug's own
``StateMachineMatcher`` on the same rules."""

from __future__ import annotations

import typing as t

import pytest
from werkzeug.routing import BaseConverter
from werkzeug.routing import Map
from werkzeug.routing import Rule

from flask._accel import matcher as _matcher
from flask.matching import RuleMap


def outcome(url_map: Map, path: str, method: str = "GET") -> t.Any:
    try:
        rule, values = url_map.bind("x").match(path, method, return_rule=True)
        return ("ok", rule.rule, values)
    except Exception as e:  # the error is part of the answer
        return ("error", type(e), str(e))


class OddGroup(BaseConverter):
    # A named group Werkzeug's own numbering cannot read.
    regex = r"(?P<__werkzeug_x>a)b"


def test_a_converter_with_an_odd_group_name_fails_as_werkzeug_fails() -> None:
    rules = lambda: [Rule("/o/<odd:v>", endpoint="o"), Rule("/o/<int:n>/<odd:v>", endpoint="p")]  # noqa: E731
    ours = RuleMap(rules(), converters={"odd": OddGroup})
    theirs = Map(rules(), converters={"odd": OddGroup})
    for path in ("/o/ab", "/o/1/ab", "/o/zz"):
        assert outcome(ours, path) == outcome(theirs, path)
    assert outcome(ours, "/o/ab")[1] is ValueError


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
        assert outcome(url_map, path)[0] == "ok"
    assert all(isinstance(edge.groups, tuple) for edge in found)
    first = [edge.groups for edge in found]
    for path in ("/u/2", "/u/b/c", "/f/y.z"):
        outcome(url_map, path)
    assert [edge.groups for edge in found] == first
    assert all(a is b for a, b in zip(first, (edge.groups for edge in found)))
    assert sorted(len(edge.groups) for edge in found) == [1, 1, 1, 2]


@pytest.mark.parametrize("path", ["/f/x.y", "/u/1", "/u/a/b/c", "/u/a/", "/f/x.y.z"])
def test_values_come_in_converter_order(path: str) -> None:
    rules = lambda: [Rule("/u/<int:a>", endpoint="a"), Rule("/u/<a>/<path:b>", endpoint="b"),  # noqa: E731
                     Rule("/f/<a>.<b>", endpoint="c")]
    assert outcome(RuleMap(rules()), path) == outcome(Map(rules()), path)


def test_nodes_of_static_chains_step_without_recursing(monkeypatch: pytest.MonkeyPatch) -> None:
    url_map = RuleMap([Rule("/a/b/c/d/<x>", endpoint="deep"), Rule("/a/b/c/e", endpoint="e")])
    url_map.update()
    calls: list[int] = []
    real = _matcher._walk

    def spy(node: t.Any, parts: t.Any, i: int, *rest: t.Any) -> t.Any:
        calls.append(i)
        return real(node, parts, i, *rest)

    monkeypatch.setattr(_matcher, "_walk", spy)
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
    assert outcome(ours, path) == outcome(theirs, path)
