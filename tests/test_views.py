"""Tests for flask.views."""

from __future__ import annotations

import pytest

import flask
from flask.views import MethodView
from flask.views import View


@pytest.fixture
def app():
    app = flask.Flask("views_app")
    app.config["TESTING"] = True
    return app


# -- class-level behaviour (no app needed) -----------------------------------


def test_as_view_copies_class_attributes():
    class Report(View):
        """Monthly report."""

        methods = ["GET", "PUT"]
        provide_automatic_options = False

        def dispatch_request(self):
            return "r"

    fn = Report.as_view("report")
    assert fn.__name__ == "report"
    assert fn.__doc__ == "Monthly report."
    assert fn.__module__ == __name__
    assert fn.view_class is Report
    assert fn.methods == ["GET", "PUT"]
    assert fn.provide_automatic_options is False


def test_decorators_see_named_function_and_result_keeps_attributes():
    seen = []

    def tag(f):
        seen.append(f.__name__)

        def inner(**kw):
            return f"<{f(**kw)}>"

        return inner

    class Tagged(View):
        decorators = [tag, tag]

        def dispatch_request(self):
            return "x"

    fn = Tagged.as_view("tagged")
    assert seen == ["tagged", "inner"]
    assert fn.__name__ == "tagged"
    assert fn.view_class is Tagged


def test_method_view_infers_methods():
    class Reader(MethodView):
        def get(self):
            return "g"

    class Writer(Reader):
        def post(self):
            return "p"

    class Fixed(Writer):
        methods = ["GET"]

    class Custom(MethodView):
        methods = ["PROPFIND"]

    class CustomChild(Custom):
        def put(self):
            return "u"

    class Nothing(MethodView):
        pass

    assert Reader.methods == {"GET"}
    assert Writer.methods == {"GET", "POST"}
    assert Fixed.methods == ["GET"]
    assert CustomChild.methods == {"PROPFIND", "PUT"}
    assert Nothing.methods is None


# -- through an app ----------------------------------------------------------


def test_view_receives_url_values_and_ctor_args(app):
    class Greeter(View):
        def __init__(self, greeting):
            self.greeting = greeting

        def dispatch_request(self, name):
            return f"{self.greeting}, {name}"

    app.add_url_rule("/hi/<name>", view_func=Greeter.as_view("hi", "Hello"))
    assert app.test_client().get("/hi/Ann").data == b"Hello, Ann"


def test_init_every_request_and_view_class_swap(app):
    made = []

    class Counter(View):
        def __init__(self):
            made.append(self)

        def dispatch_request(self):
            return type(self).__name__

    class Replacement(Counter):
        pass

    class Once(Counter):
        init_every_request = False

    fn = Counter.as_view("each")
    app.add_url_rule("/each", view_func=fn)
    once = Once.as_view("once")
    app.add_url_rule("/once", view_func=once)
    assert len(made) == 1  # Once was built by as_view

    client = app.test_client()
    client.get("/each")
    client.get("/each")
    assert len(made) == 3
    client.get("/once")
    client.get("/once")
    assert len(made) == 3

    fn.view_class = Replacement
    assert client.get("/each").data == b"Replacement"


def test_method_view_dispatch(app):
    class Item(MethodView):
        def get(self, key):
            return flask.Response(f"get {key}", headers={"X-M": flask.request.method})

        def delete(self, key):
            return f"deleted {key}"

    app.add_url_rule("/item/<key>", view_func=Item.as_view("item"))
    client = app.test_client()
    assert client.get("/item/a").data == b"get a"
    head = client.head("/item/a")
    assert head.data == b"" and head.headers["X-M"] == "HEAD"
    assert client.delete("/item/a").data == b"deleted a"
    assert client.post("/item/a").status_code == 405
    allowed = set(client.options("/item/a").allow)
    assert allowed == {"GET", "HEAD", "DELETE", "OPTIONS"}


def test_method_view_missing_handler_asserts(app):
    class OnlyGet(MethodView):
        methods = ["GET", "POST"]

        def get(self):
            return "g"

    app.add_url_rule("/", view_func=OnlyGet.as_view("index"))
    with pytest.raises(AssertionError, match="Unimplemented method 'POST'"):
        app.test_client().post("/")


def test_async_method_handler(app):
    pytest.importorskip("asgiref")

    class Slow(MethodView):
        async def get(self):
            return "async ok"

    app.add_url_rule("/", view_func=Slow.as_view("index"))
    assert app.test_client().get("/").data == b"async ok"
