"""Tests for the tagged JSON format used by session cookies."""

from __future__ import annotations

import json
from datetime import datetime
from datetime import timezone
from uuid import UUID

import pytest
from markupsafe import Markup

from flask.json.tag import JSONTag
from flask.json.tag import PassDict
from flask.json.tag import TagDateTime
from flask.json.tag import TaggedJSONSerializer


@pytest.fixture
def s():
    return TaggedJSONSerializer()


@pytest.mark.parametrize(
    ("value", "wire"),
    [
        ((1, 2), '{" t":[1,2]}'),
        (b"hi", '{" b":"aGk="}'),
        (Markup("<i>x</i>"), '{" m":"<i>x</i>"}'),
        (UUID(int=255), '{" u":"000000000000000000000000000000ff"}'),
        (
            datetime(2021, 3, 4, 5, 6, 7, tzinfo=timezone.utc),
            '{" d":"Thu, 04 Mar 2021 05:06:07 GMT"}',
        ),
        ({" u": 1}, '{" di":{" u__":1}}'),
        ({"plain": [1, "a"]}, '{"plain":[1,"a"]}'),
    ],
)
def test_wire_format(s, value, wire):
    # The exact encoding is what existing Flask session cookies contain.
    assert s.dumps(value) == wire
    assert s.loads(wire) == value


def test_nested_roundtrip(s):
    value = {
        "t": (b"\x00", [UUID(int=1), {"k": (1,)}]),
        "m": Markup("&amp;"),
        " t": {" b": "not bytes"},
    }
    again = s.loads(s.dumps(value))
    assert again == value
    assert isinstance(again["t"], tuple)
    assert isinstance(again["m"], Markup)


def test_loads_decodes_cookie_made_elsewhere(s):
    wire = json.dumps({"_flashes": {" t": [{" t": ["message", "Hi"]}]}})
    assert s.loads(wire) == {"_flashes": ((("message", "Hi")),)}


def test_html_objects_become_markup(s):
    class Widget:
        def __html__(self):
            return "<w>"

    assert s.loads(s.dumps(Widget())) == Markup("<w>")


def test_unknown_types_pass_through_tag(s):
    marker = object()
    assert s.tag(marker) is marker


def test_register_duplicate_and_force(s):
    class Other(JSONTag):
        key = " t"

    with pytest.raises(KeyError, match="Tag ' t' is already registered."):
        s.register(Other)
    s.register(Other, force=True, index=0)
    assert isinstance(s.tags[" t"], Other)
    assert s.order[0] is s.tags[" t"]


def test_register_keyless_tags_do_not_collide(s):
    before = len(s.tags)
    s.register(PassDict)
    assert len(s.tags) == before


def test_register_order(s):
    class A(JSONTag):
        key = " A"

    class B(JSONTag):
        key = " B"

    s.register(A, index=1)
    assert isinstance(s.order[1], A)
    s.register(B)
    assert isinstance(s.order[-1], B)


def test_custom_tag_precedes_builtin(s):
    class Naive(JSONTag):
        __slots__ = ()
        key = " nd"

        def check(self, value):
            return isinstance(value, datetime) and value.tzinfo is None

        def to_json(self, value):
            return value.isoformat()

        def to_python(self, value):
            return datetime.fromisoformat(value)

    s.register(Naive, index=0)
    naive = datetime(2020, 1, 1, 12, 30, 15, 123)
    assert s.dumps(naive) == '{" nd":"2020-01-01T12:30:15.000123"}'
    assert s.loads(s.dumps(naive)) == naive


def test_base_tag_is_abstract():
    tag = JSONTag(None)  # type: ignore[arg-type]
    for method in (tag.check, tag.to_json, tag.to_python):
        with pytest.raises(NotImplementedError):
            method(1)


def test_default_tags_list():
    assert TagDateTime in TaggedJSONSerializer.default_tags
    assert TaggedJSONSerializer.default_tags.index(
        PassDict
    ) > TaggedJSONSerializer.default_tags.index(
        next(c for c in TaggedJSONSerializer.default_tags if c.key == " di")
    )


def test_dumps_in_app_uses_the_providers_settings_compactly():
    import json

    from flask import Flask
    from flask.json.provider import DefaultJSONProvider

    app = Flask(__name__)
    s = TaggedJSONSerializer()
    value = {"b": 1, "a": ["\u00e9", (1, 2)]}
    with app.app_context():
        assert s.dumps(value) == json.dumps(s.tag(value), separators=(",", ":"), sort_keys=True)
        app.json.sort_keys = False
        app.json.ensure_ascii = False
        assert s.dumps(value) == '{"b":1,"a":["\u00e9",{" t":[1,2]}]}'

    class Shouting(DefaultJSONProvider):
        def dumps(self, obj, **kwargs):
            return super().dumps(obj, **kwargs).upper()

    app.json = Shouting(app)
    with app.app_context():
        assert s.dumps({"a": "x"}) == '{"A":"X"}'


STOCK_VALUES = [
    {"visits": 2, "user": "ann", "ok": True, "none": None, "ratio": 0.5},
    {" t": "looks tagged"},
    {"nested": {" di": {"x": 1}}, "items": [1, (2, 3), b"raw", {"a": [None]}]},
    [{"a": 1}, [2, [3]], "s"],
    {"m": __import__("markupsafe").Markup("<b>"), "u": __import__("uuid").UUID(int=1)},
    {"when": __import__("datetime").datetime(2024, 5, 1, tzinfo=__import__("datetime").timezone.utc)},
    "plain",
    7,
]


@pytest.mark.parametrize("value", STOCK_VALUES, ids=repr)
def test_stock_shortcut_tags_like_the_tags(value):
    s = TaggedJSONSerializer()
    assert s._tag_stock(value) == s.tag(value)
    assert s.loads(s.dumps(value)) == value


def test_custom_tags_turn_the_shortcut_off():
    class Shout(JSONTag):
        key = " s"

        def check(self, value):
            return isinstance(value, str)

        def to_json(self, value):
            return value.upper()

        def to_python(self, value):
            return value.lower()

    registered = TaggedJSONSerializer()
    registered.register(Shout, index=0)
    assert registered.dumps({"a": "x"}) == '{"a":{" s":"X"}}'

    edited = TaggedJSONSerializer()
    edited.order.insert(0, Shout(edited))  # without register()
    assert edited.dumps(["x"]) == '[{" s":"X"}]'
