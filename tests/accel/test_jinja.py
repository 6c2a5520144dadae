"""The rendering speed-ups in flask.templating give stock Jinja's results.

Every template here is rendered by our environment and by a plain
``jinja2.Environment`` set up the same way; the outputs (and, for
``generate``, the very chunks) must match. Other tests check that the fast
paths are really taken, so dropping one fails here.
"""

from __future__ import annotations

import enum
import functools
import json
import typing as t

import itsdangerous
import jinja2
import pytest
from jinja2 import DictLoader
from jinja2 import pass_context
from jinja2 import pass_environment
from jinja2 import pass_eval_context
from jinja2.runtime import Context
from markupsafe import Markup
from markupsafe import escape
from werkzeug.test import EnvironBuilder

import flask
from flask import sessions
from flask import templating
from flask._accel import jinja as accel_jinja


class Html:
    def __html__(self) -> str:
        return "<i>html</i>"


class StrSub(str):
    pass


class MarkupSub(Markup):
    pass


class Color(enum.IntEnum):
    RED = 1


class Obj:
    name = "<obj>"

    def method(self, x: object) -> str:
        return f"m({x})"


@pass_context
def ctx_func(context: Context, arg: object = "") -> str:
    return f"ctx:{context.get('who')}:{arg}"


@pass_eval_context
def eval_func(eval_ctx: object, arg: object = "") -> str:
    return f"eval:{eval_ctx.autoescape}:{arg}"  # type: ignore[attr-defined]


@pass_environment
def env_func(environment: jinja2.Environment, arg: object = "") -> str:
    return f"env:{type(environment).__mro__[-2].__name__}:{arg}"


class CallableWithContext:
    @pass_context
    def __call__(self, context: Context) -> str:
        return f"callable:{context.get('who')}"


def stops() -> str:
    raise StopIteration


def wrapped_plain(x: object) -> str:
    return f"w<{x}>"


@functools.wraps(wrapped_plain)
def decorated(x: object) -> str:
    return wrapped_plain(x)


TEMPLATES = {
    "base.html": (
        "<title>{% block title %}Base &{% endblock %}</title>"
        "<h1>{{ self.title() }}</h1>{% block body %}{% endblock %}"
        "{% block foot %}<foot {{ who }}>{% endblock %}"
    ),
    "child.html": (
        '{% extends "base.html" %}{% block title %}Child <{{ who }}>{% endblock %}'
        "{% block body %}{% for row in rows %}"
        '<tr class="{{ loop.cycle("odd", "even") }}">{{ row.id }}|{{ row.name }}'
        "|{{ row.missing }}|{{ row.items }}|{{ loop.index }}</tr>\n"
        "{% else %}empty{% endfor %}{% endblock %}"
        "{% block foot %}[{{ super() }}]{% endblock %}"
    ),
    "grandchild.html": (
        '{% extends "child.html" %}{% block title %}{{ super() }}+GC{% endblock %}'
    ),
    "macros.html": (
        "{% macro field(name, value='', type='text') -%}"
        '<input type="{{ type }}" name="{{ name }}" value="{{ value }}">'
        "{%- endmacro %}"
        "{% macro wrap(tag) %}<{{ tag }}>{{ caller(tag) }}</{{ tag }}>{% endmacro %}"
    ),
    "uses_macros.html": (
        '{% import "macros.html" as m %}{% from "macros.html" import wrap %}'
        "{{ m.field('q', value=who) }}"
        "{% call(t) wrap('div') %}inside {{ t }} {{ who }}{% endcall %}"
        "{% set ns = namespace(total=0) %}{% for r in rows %}"
        "{% set ns.total = ns.total + r.id %}{% endfor %}total={{ ns.total }}"
        "{% set captured %}cap <{{ who }}>{% endset %}[{{ captured }}]"
        "{% filter upper %}up {{ who }}{% endfilter %}"
        '{% include "inc.html" %}'
    ),
    "inc.html": "<inc {{ who }} {{ rows|length }}>",
    "calls.html": (
        "{{ ctx_func('a') }}|{{ eval_func('b') }}|{{ env_func('c') }}|"
        "{{ callable_obj() }}|{{ obj.method(who) }}|{{ stops() }}|"
        "{{ decorated(who) }}|{{ range(3)|list }}|{{ dict(a=1) }}|"
        "{% for x in [1, 2] %}{{ ctx_func(x) }}{% set who = 'loop' %}"
        "{{ ctx_func(x) }}{% endfor %}|{{ lipsum is defined }}"
    ),
    "values.html": (
        "{% for v in values %}[{{ v }}]{% endfor %}"
        "{{ nothing }}|{{ nothing is defined }}|{{ markup }}|{{ markup ~ who }}"
        "|{{ who|e }}|{{ who|safe }}|{{ 1 + 2 }}|{{ 'lit<' }}"
        "{% autoescape false %}{{ who }}{{ markup }}{% endautoescape %}"
        "{% autoescape true %}{{ who }}{% endautoescape %}"
    ),
    "recursive.html": (
        "{% for item in tree recursive %}<li>{{ item.name }}"
        "{% if item.children %}<ul>{{ loop(item.children) }}</ul>{% endif %}"
        "</li>{% endfor %}"
    ),
    "dynamic_extends.html": (
        "{% if parent %}{% extends parent %}{% endif %}"
        "outside {{ who }}{% block title %}dyn {{ who }}{% endblock %}"
    ),
    "required.html": "a{% block body required %}{% endblock %}b",
}


CONTEXT = {
    "who": "<Ann & 'Bob'>",
    "rows": [
        {"id": 1, "name": "a<b", "email": "x@y"},
        {"id": 2, "name": Markup("<b>safe</b>"), "email": "z"},
    ],
    "obj": Obj(),
    "markup": Markup("<em>m</em>"),
    "tree": [
        {"name": "root<", "children": [{"name": "leaf", "children": []}]},
        {"name": "solo", "children": []},
    ],
    "parent": "base.html",
    "values": [
        "plain & <tag>",
        StrSub("sub<"),
        Markup("<b>"),
        MarkupSub("<i>"),
        Html(),
        0,
        -12,
        10**30,
        True,
        False,
        1.5,
        None,
        Color.RED,
        b"bytes<",
        ["<l>"],
    ],
}


FUNCTIONS = {
    "ctx_func": ctx_func,
    "eval_func": eval_func,
    "env_func": env_func,
    "callable_obj": CallableWithContext(),
    "stops": stops,
    "decorated": decorated,
}


def make_pair(
    autoescape: object = True, **options: object
) -> tuple[templating.Environment, jinja2.Environment]:
    app = flask.Flask(__name__)
    ours = templating.Environment(
        app, loader=DictLoader(TEMPLATES), autoescape=autoescape, **options
    )
    stock = jinja2.Environment(
        loader=DictLoader(TEMPLATES), autoescape=autoescape, **options
    )
    for env in (ours, stock):
        env.globals.update(FUNCTIONS)
    return ours, stock


def both(ours: jinja2.Environment, stock: jinja2.Environment, name: str, **extra: object):
    context = {**CONTEXT, **extra}
    a = ours.get_template(name)
    b = stock.get_template(name)
    return (a.render(context), b.render(context)), (
        list(a.generate(context)),
        list(b.generate(context)),
    )


NAMES = sorted(set(TEMPLATES) - {"required.html"})


@pytest.mark.parametrize("autoescape", [True, False])
@pytest.mark.parametrize("name", NAMES)
def test_render_and_generate_match_stock_jinja(name: str, autoescape: bool) -> None:
    ours, stock = make_pair(autoescape)
    (mine, theirs), (my_chunks, their_chunks) = both(ours, stock, name)
    assert mine == theirs
    # Streams keep Jinja's own chunks, types included.
    assert my_chunks == their_chunks
    assert [type(c) for c in my_chunks] == [type(c) for c in their_chunks]


def test_dynamic_extends_without_parent_matches() -> None:
    ours, stock = make_pair()
    (mine, theirs), (a, b) = both(ours, stock, "dynamic_extends.html", parent=None)
    assert mine == theirs and a == b
    assert "outside" in mine


def test_select_autoescape_and_finalize_match() -> None:
    ours, stock = make_pair(
        jinja2.select_autoescape(["html"]), finalize=lambda v: "" if v is None else v
    )
    for name in NAMES:
        (mine, theirs), (a, b) = both(ours, stock, name)
        assert mine == theirs and a == b


def test_pass_context_finalize_matches() -> None:
    @pass_context
    def finalize(context: Context, value: object) -> object:
        return f"{str(context.get('who'))[:2]}:{value}"

    ours, stock = make_pair(finalize=finalize)
    for name in NAMES:
        (mine, theirs), _ = both(ours, stock, name)
        assert mine == theirs


def test_string_templates_and_template_globals_match() -> None:
    ours, stock = make_pair()
    source = (
        "{{ who }} {{ extra }} {{ ctx_func() }}"
        "{% for i in range(2) %}{{ i }},{{ i }}{% endfor %}"
    )
    # Template globals shadow environment globals; render values win.
    a = ours.from_string(source, globals={"extra": "<x>", "who": "g"})
    b = stock.from_string(source, globals={"extra": "<x>", "who": "g"})
    assert a.render() == b.render()
    assert a.render(who="<w>") == b.render(who="<w>")
    ctx_a, ctx_b = a.new_context({"v": 1}), b.new_context({"v": 1})
    assert ctx_a.parent == ctx_b.parent
    assert list(ctx_a.parent) == list(ctx_b.parent)
    assert ctx_a.globals_keys == ctx_b.globals_keys
    shared_a = a.new_context({"v": 1}, shared=True)
    assert shared_a.parent == {"v": 1}
    local_a = a.new_context({"v": 1}, locals={"l_0_x": 2})
    local_b = b.new_context({"v": 1}, locals={"l_0_x": 2})
    assert local_a.parent == local_b.parent


def test_required_block_error_matches() -> None:
    ours, stock = make_pair()
    for env in (ours, stock):
        with pytest.raises(jinja2.TemplateRuntimeError, match="Required block 'body'"):
            env.get_template("required.html").render(CONTEXT)


def test_error_line_numbers_match() -> None:
    source = "line1\n{% for r in rows %}\n{{ r.id }}x{{ r.id // 0 }}y\n{% endfor %}"
    ours, stock = make_pair()
    lines = []
    for env in (ours, stock):
        with pytest.raises(ZeroDivisionError) as info:
            env.from_string(source).render(rows=[{"id": 1}])
        frames = [
            tb.tb_lineno
            for tb in _walk(info.value.__traceback__)
            if tb.tb_frame.f_code.co_filename == "<template>"
        ]
        lines.append(frames)
    assert lines[0] == lines[1] == [3]


def _walk(tb):  # type: ignore[no-untyped-def]
    while tb is not None:
        yield tb
        tb = tb.tb_next


def test_undefined_classes_match() -> None:
    for undefined in (jinja2.Undefined, jinja2.ChainableUndefined, jinja2.DebugUndefined):
        ours, stock = make_pair(undefined=undefined)
        (mine, theirs), _ = both(ours, stock, "values.html")
        assert mine == theirs
    ours, stock = make_pair(undefined=jinja2.StrictUndefined)
    for env in (ours, stock):
        with pytest.raises(jinja2.UndefinedError):
            env.from_string("a{{ nothing }}b").render()


def test_async_environment_matches() -> None:
    ours, stock = make_pair(enable_async=True)
    for name in ("child.html", "uses_macros.html", "values.html"):
        (mine, theirs), _ = both(ours, stock, name)
        assert mine == theirs


ESCAPE_VALUES = [
    "",
    "plain",
    "<a href='x'>&\"</a>",
    StrSub("<sub>"),
    Markup("<b>&amp;</b>"),
    MarkupSub("<i>"),
    Html(),
    0,
    -5,
    10**40,
    True,
    False,
    3.25,
    float("nan"),
    None,
    Color.RED,
    b"<bytes>",
    jinja2.Undefined(name="u"),
    jinja2.DebugUndefined(name="u"),
    ["<list>"],
]


@pytest.mark.parametrize("value", ESCAPE_VALUES, ids=repr)
def test_escape_matches_markupsafe(value: object) -> None:
    expected = escape(value)
    got = accel_jinja._escape(value)
    assert got == expected
    assert type(got) is type(expected) is Markup
    assert accel_jinja._escape_text(value) == str(expected)


@pytest.mark.needs_shortcut("joined-template-output", "markup-escape")
def test_compiled_templates_use_fast_escape() -> None:
    ours, stock = make_pair()
    for template in (
        ours.get_template("child.html"),
        ours.from_string("{{ x }}"),
        ours.template_class.from_code(
            ours, ours.compile("{{ x }}"), ours.make_globals(None), None
        ),
    ):
        assert template.root_render_func.__globals__["escape"] is accel_jinja._escape
    stock_globals = stock.from_string("{{ x }}").root_render_func.__globals__
    assert stock_globals["escape"] is escape


@pytest.mark.needs_shortcut("joined-template-output")
def test_render_joins_output_nodes(seams: t.Any) -> None:
    calls = []

    class Recorder(accel_jinja._JoinedOutput):
        __slots__ = ()

        @staticmethod
        def extend(items):  # type: ignore[no-untyped-def]
            calls.append(len(items))
            return "".join(items)

    seams.replace("joined_output", Recorder())
    ours, stock = make_pair()
    template = ours.get_template("child.html")
    assert template.render(CONTEXT) == stock.get_template("child.html").render(CONTEXT)
    assert calls and max(calls) >= 5
    # Streaming never takes the joined form.
    calls.clear()
    list(template.generate(CONTEXT))
    assert calls == []
    source = ours.compile(TEMPLATES["child.html"], raw=True)
    assert "_flask_join.extend((" in source and "_flask_join.escape(" in source


@pytest.mark.needs_shortcut("joined-template-output")
def test_context_call_fast_path_is_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    ours, _ = make_pair()
    assert ours.context_class is accel_jinja._Context
    slow = []
    original = Context.call

    def spy(self, obj, *args, **kwargs):  # type: ignore[no-untyped-def]
        slow.append(obj)
        return original(self, obj, *args, **kwargs)

    monkeypatch.setattr(Context, "call", spy)
    ours.globals["plain"] = lambda x: f"p{x}"
    out = ours.from_string(
        "{{ plain(1) }}{{ obj.method(2) }}{% for i in [3] %}{{ plain(i) }}{% endfor %}"
        "{{ ctx_func() }}"
    ).render(obj=Obj(), who="w")
    assert out == "p1m(2)p3ctx:w:"
    # Only the pass_context function went through Jinja's own call.
    assert slow == [ctx_func]


def test_context_call_matches_stock_call() -> None:
    ours, stock = make_pair()
    def marked_later(x: object) -> str:
        return f"ml{x}"

    # Jinja looks at ``obj.__call__``, which a function's __dict__ can shadow.
    marked_later.__call__ = pass_context(  # type: ignore[attr-defined]
        lambda ctx, x: f"called{x}"
    )
    targets = [
        (
            lambda *a, **k: (a, sorted(k.items())),
            ("a",),
            {"k": 1, "_loop_vars": {}, "_block_vars": {}},
        ),
        (Obj().method, ("x",), {}),
        (ctx_func, ("y",), {"_loop_vars": {"who": "loopvar"}}),
        (ctx_func, ("y",), {"_block_vars": {"who": "blockvar"}}),
        (eval_func, (), {}),
        (env_func, (), {}),
        (CallableWithContext(), (), {}),
        (decorated, ("d",), {}),
        (marked_later, (1,), {}),
        (len, ("abc",), {}),
        (stops, (), {}),
        (functools.partial(ctx_func), (), {}),
    ]
    context_ours = ours.from_string("").new_context({"who": "w"})
    context_stock = stock.from_string("").new_context({"who": "w"})
    for func, args, kwargs in targets:
        a = _outcome(context_ours.call, func, *args, **dict(kwargs))
        b = _outcome(context_stock.call, func, *args, **dict(kwargs))
        if isinstance(b, jinja2.Undefined):
            assert type(a) is type(b) and a._undefined_hint == b._undefined_hint
        else:
            assert a == b, func


def _outcome(call, *args, **kwargs):  # type: ignore[no-untyped-def]
    try:
        return call(*args, **kwargs)
    except Exception as e:
        return (type(e), str(e))


def test_user_context_and_template_classes_are_honoured() -> None:
    made = []

    class MyContext(Context):
        def call(self, obj, *args, **kwargs):  # type: ignore[no-untyped-def]
            made.append("call")
            return super().call(obj, *args, **kwargs)

    class MyTemplate(jinja2.Template):
        pass

    class MyEnv(templating.Environment):
        context_class = MyContext
        template_class = MyTemplate

    app = flask.Flask(__name__)
    env = MyEnv(app, loader=DictLoader(TEMPLATES), autoescape=True)
    env.globals.update(FUNCTIONS)
    stock = jinja2.Environment(loader=DictLoader(TEMPLATES), autoescape=True)
    stock.globals.update(FUNCTIONS)
    template = env.get_template("calls.html")
    assert type(template) is MyTemplate
    assert template.render(CONTEXT) == stock.get_template("calls.html").render(CONTEXT)
    assert made
    assert isinstance(template.new_context({}), MyContext)

    # Set on an instance, as Jinja's docs allow.
    env2, _ = make_pair()
    env2.template_class = MyTemplate
    assert type(env2.from_string("x")) is MyTemplate
    assert env2.from_string("{{ v }}").render(v="<") == "&lt;"


def test_custom_concat_turns_joining_off() -> None:
    class ListConcatEnv(templating.Environment):
        @staticmethod
        def concat(chunks):  # type: ignore[no-untyped-def,override]
            return "|".join(chunks)

    app = flask.Flask(__name__)
    env = ListConcatEnv(app, loader=DictLoader(TEMPLATES))
    assert env.from_string("a{{ x }}b").render(x=1) == "a|1|b"


def test_render_template_through_app_matches(app: flask.Flask) -> None:
    app.jinja_loader = DictLoader(TEMPLATES)  # type: ignore[assignment]
    stock = jinja2.Environment(loader=DictLoader(TEMPLATES), autoescape=True)
    stock.globals.update(FUNCTIONS)
    app.jinja_env.globals.update(FUNCTIONS)
    with app.test_request_context():
        got = flask.render_template("child.html", **CONTEXT)
        streamed = "".join(flask.stream_template("child.html", **CONTEXT))
    expected = stock.get_template("child.html").render(CONTEXT)
    assert got == streamed == expected


def test_extensions_match() -> None:
    source = (
        "{% trans who=who %}Hello {{ who }}!{% endtrans %}"
        "{% trans count=2 %}{{ count }} item{% pluralize %}"
        "{{ count }} items{% endtrans %}"
        "{{ _('<raw>') }}{% set items = [] %}{% do items.append(who) %}{{ items }}"
        "{% for i in range(5) %}{% if i == 3 %}{% break %}{% endif %}"
        "{% if i == 1 %}{% continue %}{% endif %}<{{ i }}>{% endfor %}"
    )
    exts = ["jinja2.ext.i18n", "jinja2.ext.do", "jinja2.ext.loopcontrols"]
    ours, stock = make_pair(extensions=exts)
    for env in (ours, stock):
        env.install_null_translations(newstyle=True)  # type: ignore[attr-defined]
    a, b = ours.from_string(source), stock.from_string(source)
    assert a.render(who="<w>") == b.render(who="<w>")
    assert list(a.generate(who="<w>")) == list(b.generate(who="<w>"))


Answer = tuple[str, list[tuple[str, str]], bytes]


def call(app: t.Any, path: str, method: str = "GET", **kw: t.Any) -> Answer:
    environ = EnvironBuilder(path=path, method=method, **kw).get_environ()
    seen: list[t.Any] = []
    body = b"".join(app(environ, lambda s, h, e=None: seen.append((s, list(h)))))
    return seen[0][0], seen[0][1], body


def make_session_app() -> flask.Flask:
    app = flask.Flask(__name__)
    app.secret_key = "shortcuts"

    @app.route("/set/<v>")
    def set_value(v: str) -> str:
        flask.session["v"] = v
        return "ok"

    @app.route("/get")
    def get_value() -> str:
        return str(flask.session.get("v"))

    return app


def test_dict_keys_are_read_without_trying_attributes(monkeypatch: pytest.MonkeyPatch) -> None:
    tried: list[str] = []
    real = jinja2.Environment.getattr

    def spy(self: jinja2.Environment, obj: t.Any, attribute: str) -> t.Any:
        tried.append(attribute)
        return real(self, obj, attribute)

    monkeypatch.setattr(jinja2.Environment, "getattr", spy)
    app = flask.Flask(__name__)
    source = "{{ row.name }}|{{ row.missing }}|{{ row.items }}|{{ obj.real }}|{{ obj.nothing }}"

    class Obj:
        real = "attr"

    context = {"row": {"name": "<n>", "items": 1}, "obj": Obj()}
    with app.app_context():
        ours = flask.render_template_string(source, **context)
    tried_ours = list(tried)
    stock = jinja2.Environment(autoescape=True).from_string(source).render(context)
    assert ours == stock
    # Dict keys and found attributes never reach Jinja's own lookup.
    assert tried_ours == ["nothing"]


@pytest.mark.needs_shortcut("joined-template-output")
def test_contexts_are_set_up_from_plain_dicts(seams: t.Any) -> None:
    merged: list[int] = []
    keyed: list[int] = []
    real_merge, real_keys = seams.get("merge_maps"), seams.get("keys_of_maps")

    def merge(maps: t.Any) -> t.Any:
        merged.append(len(maps))
        return real_merge(maps)

    def keys(maps: t.Any) -> t.Any:
        keyed.append(len(maps))
        return real_keys(maps)

    seams.replace("merge_maps", merge)
    seams.replace("keys_of_maps", keys)
    app = flask.Flask(__name__)
    app.jinja_env.globals["site"] = "S"
    with app.test_request_context("/"):
        out = flask.render_template_string(
            "{{ site }}{{ who }}{% set site = 'local' %}{{ site }}{{ self._TemplateReference__context.parent|length > 3 }}",
            who="<w>",
        )
    assert out == "S&lt;w&gt;localTrue"
    assert merged and keyed


@pytest.mark.parametrize("n_maps", [1, 2, 3, 4])
def test_merged_maps_equal_the_chainmap(n_maps: int) -> None:
    from collections import ChainMap

    maps = [{"k": i, f"only{i}": i, "shared": i * 10} for i in range(n_maps)]
    chain = ChainMap(*maps)
    assert accel_jinja._merge_maps(maps) == dict(chain)
    assert list(accel_jinja._merge_maps(maps)) == list(dict(chain))
    assert accel_jinja._keys_of_maps(maps) == set(chain)


def test_other_mappings_keep_jinjas_context_setup() -> None:
    from collections import ChainMap

    class Mine(ChainMap):  # type: ignore[type-arg]
        pass

    assert accel_jinja._dict_maps(ChainMap({}, {})) is not None
    assert accel_jinja._dict_maps(Mine({}, {})) is None
    assert accel_jinja._dict_maps(ChainMap({}, Mine())) is None
    assert accel_jinja._dict_maps({"a": 1}) is None


def test_cookie_values_that_need_quoting_go_through_set_cookie() -> None:
    # A subclass may sign with any serializer; a value that is not a plain
    # token must be written (quoted) exactly as dump_cookie writes it.
    from werkzeug.http import dump_cookie

    class Plain(sessions.SecureCookieSessionInterface):
        def get_signing_serializer(self, app: flask.Flask) -> t.Any:
            return itsdangerous.Serializer("k", serializer=json)

    app = make_session_app()
    app.session_interface = Plain()
    client = app.test_client()
    header = client.get("/set/a b").headers["Set-Cookie"]
    value = itsdangerous.Serializer("k", serializer=json).dumps({"v": "a b"})
    assert header == dump_cookie("session", value, path="/", httponly=True)
    assert header.startswith('session="')
    assert client.get("/get").data == b"a b"


@pytest.mark.needs_shortcut("markup-escape")
def test_common_values_are_escaped_without_markupsafes_escape(
    seams: t.Any,
) -> None:
    from markupsafe import Markup
    from markupsafe import escape

    slow: list[t.Any] = []

    def spy(value: t.Any) -> Markup:
        slow.append(value)
        return escape(value)

    seams.replace("stock_escape", spy)
    values: list[t.Any] = ["<a & 'b'>", "", 0, -12, 10**30, Markup("<b>"), 1.5, None]
    slow_escape, slow_text = [], []
    for value in values:
        slow.clear()
        got = accel_jinja._escape(value)
        slow_escape.append(bool(slow))
        assert got == escape(value) and type(got) is Markup
        slow.clear()
        text = accel_jinja._escape_text(value)
        slow_text.append(bool(slow))
        assert text == str(escape(value))
    # str, int and Markup are escaped directly; _escape_text leaves Markup
    # (already safe, but its own __html__ may differ) to MarkupSafe.
    assert slow_escape == [False] * 6 + [True, True]
    assert slow_text == [False] * 5 + [True, True, True]


@pytest.mark.needs_shortcut("markup-escape")
def test_fast_escape_only_replaces_markupsafes_own(seams: t.Any) -> None:
    from markupsafe import escape

    def other(value: t.Any) -> str:
        return "other"

    namespace: dict[str, t.Any] = {"escape": other}
    accel_jinja._install_fast_escape(namespace)
    assert namespace == {"escape": other}
    namespace = {}
    accel_jinja._install_fast_escape(namespace)
    assert namespace == {}
    namespace = {"escape": escape}
    accel_jinja._install_fast_escape(namespace)
    assert namespace == {"escape": accel_jinja._escape}
    # A MarkupSafe without the inner escaping function keeps its escape.
    seams.replace("markup_escape", None)  # the markup-escape shortcut off
    namespace = {"escape": escape}
    accel_jinja._install_fast_escape(namespace)
    assert namespace == {"escape": escape}


@pytest.mark.parametrize(
    ("source", "joined"),
    [
        ("{{ a }}", False),
        *(pytest.param(source, True, marks=pytest.mark.needs_shortcut("joined-template-output"))
          for source in ("x{{ a }}", "{{ a }}{{ b }}", "<p>{{ a }}</p>")),
    ],
)
def test_output_of_two_or_more_pieces_is_joined(source: str, joined: bool) -> None:
    app = flask.Flask(__name__)
    env = app.jinja_env
    code = env.compile(source, raw=True)
    assert ("_flask_join.extend((" in code) is joined
    # A single piece is yielded as Jinja yields it.
    assert ("yield _flask_join" in code) is joined
    context = {"a": "<1>", "b": 2}
    assert env.from_string(source).render(context) == jinja2.Environment(
        autoescape=True
    ).from_string(source).render(context)


@pytest.mark.needs_shortcut("joined-template-output")
def test_decorated_plain_functions_take_the_direct_call(monkeypatch: pytest.MonkeyPatch) -> None:
    import functools

    from jinja2.runtime import Context

    def plain(x: t.Any) -> str:
        return f"p{x}"

    @functools.wraps(plain)
    def wrapped(x: t.Any) -> str:  # a __dict__ with __wrapped__, no marker
        return plain(x)

    slow: list[t.Any] = []
    real = Context.call

    def spy(self: Context, obj: t.Any, *args: t.Any, **kwargs: t.Any) -> t.Any:
        slow.append(obj)
        return real(self, obj, *args, **kwargs)

    monkeypatch.setattr(Context, "call", spy)
    app = flask.Flask(__name__)
    app.jinja_env.globals["wrapped"] = wrapped
    with app.app_context():
        out = flask.render_template_string("{{ wrapped(1) }}{% for i in [2] %}{{ wrapped(i) }}{% endfor %}")
    assert out == "p1p2"
    assert slow == []


def test_the_direct_call_stays_out_of_the_debuggers_traceback() -> None:
    # Werkzeug's debugger hides frames that set __traceback_hide__, as
    # Jinja's own Context.call does.
    from werkzeug.debug.tbtools import DebugTraceback

    def fails() -> str:
        raise LookupError("from the template")

    def frames(env: jinja2.Environment) -> list[str]:
        env.globals["fails"] = fails
        with pytest.raises(LookupError) as info:
            env.from_string("{{ fails() }}").render()
        return [
            frame.name for frame in DebugTraceback(info.value).all_frames
            if "jinja2" in frame.filename or frame.filename.endswith(("templating.py", "_accel/jinja.py"))
        ]

    app = flask.Flask(__name__)
    ours, stock = frames(app.jinja_env), frames(jinja2.Environment())
    assert ours == stock
    assert "call" not in ours


@pytest.mark.parametrize("flag", [True, False])
def test_autoescape_decided_at_render_time_matches_jinja(flag: bool) -> None:
    source = "{% autoescape flag %}<{{ x }}|{{ y }}>{% endautoescape %}"
    app = flask.Flask(__name__)
    context = {"flag": flag, "x": "<b>", "y": 3}
    ours = app.jinja_env.from_string(source)
    stock = jinja2.Environment(autoescape=True).from_string(source)
    assert ours.render(context) == stock.render(context)
    assert list(ours.generate(context)) == list(stock.generate(context))


def test_streamed_templates_get_the_same_context_and_signals_as_rendered_ones() -> None:
    app = flask.Flask(__name__)

    @app.context_processor
    def extra() -> dict[str, str]:
        return {"extra": "from a context processor"}

    seen: list[tuple[str, str]] = []

    def before(sender: flask.Flask, template: t.Any, context: dict[str, t.Any], **kw: t.Any) -> None:
        seen.append(("before", context["extra"]))

    def after(sender: flask.Flask, template: t.Any, context: dict[str, t.Any], **kw: t.Any) -> None:
        seen.append(("after", context["extra"]))

    source = "{{ extra }}|{{ request.path }}|{{ v }}"
    with flask.before_render_template.connected_to(before, app), flask.template_rendered.connected_to(after, app):
        with app.test_request_context("/here"):
            rendered = flask.render_template_string(source, v=1)
            streamed = "".join(flask.stream_template_string(source, v=1))
    assert rendered == streamed == "from a context processor|/here|1"
    assert seen == [("before", "from a context processor"), ("after", "from a context processor")] * 2
