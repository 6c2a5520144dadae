"""Tests for flask.json and flask.json.provider, using a small fake app."""

from __future__ import annotations

import dataclasses
import decimal
import io
import types
import uuid
from datetime import date
from datetime import datetime
from datetime import timedelta
from datetime import timezone

import pytest
from werkzeug.wrappers import Response

from flask import json as fjson
from flask.globals import _cv_app
from flask.json.provider import DefaultJSONProvider
from flask.json.provider import JSONProvider


class FakeApp:
    response_class = Response

    def __init__(self, debug: bool = False) -> None:
        self.debug = debug
        self.json = DefaultJSONProvider(self)


@pytest.fixture
def app():
    return FakeApp()


@pytest.fixture
def active(app):
    token = _cv_app.set(types.SimpleNamespace(app=app))  # type: ignore[arg-type]
    yield app
    _cv_app.reset(token)


@dataclasses.dataclass
class Point:
    x: int
    y: int


class Html:
    def __html__(self) -> str:
        return "<b>hi</b>"


def test_default_conversions():
    d = DefaultJSONProvider.default
    assert d(date(2000, 1, 2)) == "Sun, 02 Jan 2000 00:00:00 GMT"
    aware = datetime(2000, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=2)))
    assert d(aware) == "Sun, 02 Jan 2000 01:04:05 GMT"
    assert d(decimal.Decimal("1.50")) == "1.50"
    u = uuid.UUID(int=7)
    assert d(u) == str(u)
    assert d(Point(1, 2)) == {"x": 1, "y": 2}
    assert d(Html()) == "<b>hi</b>"
    with pytest.raises(TypeError, match="Object of type object is not JSON serializable"):
        d(object())
    # A dataclass type itself is not an instance to convert.
    with pytest.raises(TypeError):
        d(Point)


def test_outside_app_context_uses_stdlib():
    assert fjson.dumps({"b": 1, "a": decimal.Decimal("2")}) == '{"b": 1, "a": "2"}'
    assert fjson.loads(b'{"a": [1]}') == {"a": [1]}
    buf = io.StringIO()
    fjson.dump({"k": Html()}, buf)
    buf.seek(0)
    assert fjson.load(buf) == {"k": "<b>hi</b>"}


def test_inside_app_context_uses_provider(active):
    # The provider sorts keys; stdlib alone would not.
    assert fjson.dumps({"b": 1, "a": 2}) == '{"a": 2, "b": 1}'
    active.json.ensure_ascii = False
    assert fjson.dumps("\u2603") == '"\u2603"'
    active.json.ensure_ascii = True
    assert fjson.dumps("\u2603") == '"\\u2603"'
    assert fjson.dumps({"b": 1, "a": 2}, sort_keys=False) == '{"b": 1, "a": 2}'


def test_custom_provider_is_followed(active):
    class Shouting(JSONProvider):
        def dumps(self, obj, **kwargs):
            return "LOUD"

        def loads(self, s, **kwargs):
            return "parsed:" + (s if isinstance(s, str) else s.decode())

    active.json = Shouting(active)
    assert fjson.dumps(1) == "LOUD"
    assert fjson.loads("x") == "parsed:x"
    buf = io.StringIO()
    fjson.dump(1, buf)
    assert buf.getvalue() == "LOUD"
    assert fjson.load(io.StringIO("y")) == "parsed:y"
    rv = fjson.jsonify(1)
    assert rv.get_data(as_text=True) == "LOUD"
    assert rv.mimetype == "application/json"


def test_instance_default_override(app):
    app.json.default = lambda o: "custom"
    assert app.json.dumps(object()) == '"custom"'
    assert DefaultJSONProvider(app).dumps(Html()) == '"<b>hi</b>"'


def test_response_argument_shapes(app):
    def body(rv):
        return app.json.loads(rv.get_data())

    assert body(app.json.response(5)) == 5
    assert body(app.json.response(1, 2)) == [1, 2]
    assert body(app.json.response(a=1)) == {"a": 1}
    assert body(app.json.response()) is None
    with pytest.raises(TypeError, match="either args or kwargs, not both"):
        app.json.response(1, a=2)


def test_response_compact_and_debug(app):
    rv = app.json.response({"b": 1, "a": [1, 2]})
    assert rv.get_data(as_text=True) == '{"a":[1,2],"b":1}\n'
    assert rv.mimetype == "application/json"

    app.debug = True
    pretty = app.json.response({"a": 1, "b": 2}).get_data(as_text=True)
    assert pretty == '{\n  "a": 1,\n  "b": 2\n}\n'

    app.json.compact = True
    assert app.json.response({"a": 1}).get_data(as_text=True) == '{"a":1}\n'

    app.debug = False
    app.json.compact = False
    assert app.json.response({"a": 1}).get_data(as_text=True) == '{\n  "a": 1\n}\n'


def test_custom_mimetype(app):
    app.json.mimetype = "application/vnd.api+json"
    assert app.json.response([]).mimetype == "application/vnd.api+json"


def test_jsonify_needs_app_context():
    with pytest.raises(RuntimeError, match="application context"):
        fjson.jsonify(1)


def test_jsonify_kwargs(active):
    rv = fjson.jsonify(name="x", when=date(2020, 5, 17))
    assert fjson.loads(rv.data) == {
        "name": "x",
        "when": "Sun, 17 May 2020 00:00:00 GMT",
    }


def test_base_provider_is_abstract(app):
    base = JSONProvider(app)
    with pytest.raises(NotImplementedError):
        base.dumps(1)
    with pytest.raises(NotImplementedError):
        base.loads("1")


def test_provider_holds_app_weakly():
    import gc
    import weakref

    app = FakeApp()
    ref = weakref.ref(app)
    provider = app.json
    del app
    gc.collect()
    assert ref() is None
    assert provider.dumps([1]) == "[1]"
