"""Template rendering shortcuts (see :mod:`flask._accel` for the gate).

Measured on the benchmark's ``rows.html`` (20-row loop, base template,
``url_for`` per row), ``template.render`` alone: 254 us with Jinja's stock
generator/context/template classes, 119 us with the ones below; the
``template`` scenario went from 3,500 to 6,250 req/s (Pallets Flask:
2,250). Each piece replaces a piece of Jinja or MarkupSafe only where the
stock object would have been used, and ``tests/accel/test_jinja.py``
checks it against the stock result.
"""

from __future__ import annotations

import typing as t
from collections import ChainMap
from types import FunctionType
from types import MethodType

import markupsafe
from jinja2 import Environment as _JinjaEnvironment
from jinja2 import Template
from jinja2 import nodes
from jinja2.compiler import CodeGenerator
from jinja2.compiler import Frame
from jinja2.runtime import Context
from jinja2.utils import internalcode
from markupsafe import Markup

from . import enabled

# MarkupSafe's C (or pure Python) escaping of a plain ``str``, without the
# ``Markup.__new__`` round trip. Absent in a MarkupSafe that moved it: then
# compiled templates keep the stock ``escape``.
_escape_inner: t.Callable[[str], str] | None = getattr(markupsafe, "_escape_inner", None)
# _escape_inner while the markup-escape shortcut is on, else None (set at
# the end of this module, once its self-check can run).
_inner: t.Callable[[str], str] | None = None

_stock_escape = markupsafe.escape
_new_str = str.__new__


def _escape(s: t.Any, /) -> Markup:
    """``markupsafe.escape`` with shortcuts for the types templates print
    most. Stock ``escape`` goes through a Python-level ``Markup.__new__``
    with a ``hasattr``: 444 ns -> 199 ns for a short ``str``, 570 -> 258 ns
    for an ``int``. Every ``{{ }}`` of an autoescaped template calls it.
    """
    cls = type(s)
    if cls is str and _inner is not None:
        return _new_str(Markup, _inner(s))
    if cls is int:
        # Digits and "-" never need escaping; ``str.__new__`` calls ``str``.
        return _new_str(Markup, s)
    if cls is Markup:
        # What ``Markup(s.__html__())`` amounts to: an equal copy.
        return _new_str(Markup, s)
    return _stock_escape(s)


def _escape_text(s: t.Any, /) -> str:
    """The text ``markupsafe.escape(s)`` holds, for a piece about to be
    joined into a plain ``str``: no ``Markup`` is made (56 ns against
    ``_escape``'s 199 ns for a short ``str``).
    """
    cls = type(s)
    if cls is str and _inner is not None:
        return _inner(s)
    if cls is int:
        return str(s)
    return _stock_escape(s)


def _install_fast_escape(namespace: t.MutableMapping[str, t.Any]) -> None:
    # Compiled templates look ``escape`` up as a module global.
    if _inner is not None and namespace.get("escape") is _stock_escape:
        namespace["escape"] = _escape


def _dict_maps(mapping: t.Mapping[str, t.Any] | None) -> list[dict[str, t.Any]] | None:
    """The maps of a ``ChainMap`` of plain dicts (what ``make_globals``
    builds), else None."""
    if type(mapping) is not ChainMap:
        return None
    maps = mapping.maps
    for m in maps:
        if type(m) is not dict:
            return None
    return maps  # type: ignore[return-value]  # each map is a dict: checked above


def _merge_maps(maps: list[dict[str, t.Any]]) -> dict[str, t.Any]:
    # ``dict(chain)`` in C: same keys, order and winning values as
    # ChainMap's Python-level ``__iter__``/``__getitem__``.
    if len(maps) == 2:
        return {**maps[1], **maps[0]}
    merged: dict[str, t.Any] = {}
    for m in reversed(maps):
        merged.update(m)
    return merged


def _keys_of_maps(maps: list[dict[str, t.Any]]) -> set[str]:
    if len(maps) == 2:
        return {*maps[1], *maps[0]}
    return set().union(*maps)


class _JoinedOutput:
    """Set as ``context._flask_join`` while ``Template.render`` runs. The
    code ``_CodeGenerator`` emits then takes it for an output buffer: its
    ``buf.extend((a, b, ...))`` yields one joined chunk, its
    ``buf.append(a)`` yields ``a``.
    """

    __slots__ = ()
    extend = staticmethod("".join)
    escape = staticmethod(_escape_text)

    @staticmethod
    def append(item: str) -> str:
        return item


_JOINED = _JoinedOutput()


class _CodeGenerator(CodeGenerator):
    """Jinja's code generator; in root and block functions each ``Output``
    node (the text and ``{{ }}`` between two statements) is emitted twice:
    the stock yield per piece, and one yield of the joined pieces, taken
    when ``render`` (which joins everything anyway) set the context's
    ``_flask_join``. Each yield travels through every ``yield from`` of the
    ``extends``/block chain; ``rows.html`` makes 12 per row, 3 frames deep.
    Joined: 1 per row, 145 us -> 118 us per render together with
    ``_escape_text`` (see ``_Template.render``). ``generate()`` and streams
    keep Jinja's chunks, ``Markup`` pieces and all.
    """

    _flask_joining = False

    def write_commons(self) -> None:
        super().write_commons()
        # A stock context, or one not made by ``render``, reads None.
        self.writeline("_flask_join = getattr(context, '_flask_join', None)")

    def visit_Output(self, node: nodes.Output, frame: Frame) -> None:
        # Only generator code (a root or block function) yields; outputs
        # under an unresolved ``extends`` keep the stock guard.
        if frame.buffer is not None or frame.require_output_check or len(node.nodes) < 2:
            super().visit_Output(node, frame)
            return
        self.writeline("if _flask_join is not None:")
        self.indent()
        frame.buffer = "yield _flask_join"
        self._flask_joining = True
        try:
            super().visit_Output(node, frame)
        finally:
            frame.buffer = None
            self._flask_joining = False
        self.outdent()
        self.writeline("else:")
        self.indent()
        super().visit_Output(node, frame)
        self.outdent()

    def _output_child_pre(self, node: nodes.Expr, frame: Frame, finalize: t.Any) -> None:
        # The joined chunk is a plain ``str``: escaped pieces need not be
        # ``Markup`` on the way. The volatile (``{% autoescape %}``) and
        # non-escaping forms stay stock.
        ctx = frame.eval_ctx
        if not (self._flask_joining and ctx.autoescape and not ctx.volatile):
            super()._output_child_pre(node, frame, finalize)
            return
        self.write("_flask_join.escape(")
        if finalize.src is not None:
            self.write(finalize.src)


class _Context(Context):
    """Jinja's context with a cheaper ``call`` for plain functions and
    methods, and cheaper setup when the globals are a plain ``ChainMap``.
    """

    _flask_join: _JoinedOutput | None = None

    def __init__(
        self,
        environment: _JinjaEnvironment,
        parent: dict[str, t.Any],
        name: str | None,
        blocks: dict[str, t.Callable[[Context], t.Iterator[str]]],
        globals: t.MutableMapping[str, t.Any] | None = None,
    ) -> None:
        maps = _dict_maps(globals)
        if maps is None:
            super().__init__(environment, parent, name, blocks, globals)
            return
        # ``set(ChainMap)`` walks it in Python; with ``dict(chain)`` in
        # ``new_context`` that made context setup 9.9 us, now 2.5 us.
        super().__init__(environment, parent, name, blocks)
        self.globals_keys = _keys_of_maps(maps)

    @internalcode
    def call(self, obj: t.Any, /, *args: t.Any, **kwargs: t.Any) -> t.Any:
        """Call ``obj`` as ``Context.call`` does. A plain function, or a
        method of one, whose ``__dict__`` holds no ``jinja_pass_arg``
        marker (or ``__call__``) gets nothing injected, so the marker
        probing is skipped: 1.09 us -> 0.33 us per call of a function,
        1.55 -> 0.35 us of a method (``url_for``, ``loop.cycle``).
        """
        if __debug__:
            __traceback_hide__ = True  # noqa: F841
        cls = type(obj)
        func = obj.__func__ if cls is MethodType else obj
        if type(func) is not FunctionType:
            return super().call(obj, *args, **kwargs)
        attrs = func.__dict__
        if attrs and ("jinja_pass_arg" in attrs or "__call__" in attrs):
            return super().call(obj, *args, **kwargs)
        kwargs.pop("_block_vars", None)
        kwargs.pop("_loop_vars", None)
        try:
            return obj(*args, **kwargs)
        except StopIteration:
            return self.environment.undefined(
                "value was undefined because a callable raised a"
                " StopIteration exception"
            )


class _Template(Template):
    """Jinja's template, with the faster ``escape`` in its compiled code and
    a cheaper context setup.
    """

    def render(self, *args: t.Any, **kwargs: t.Any) -> str:
        """Render as ``Template.render`` does, letting code compiled by
        ``_CodeGenerator`` yield one chunk per output node."""
        env = self.environment
        if env.is_async or env.concat is not _JinjaEnvironment.concat:
            return super().render(*args, **kwargs)
        ctx = self.new_context(dict(*args, **kwargs))
        if isinstance(ctx, _Context):
            ctx._flask_join = _JOINED
        try:
            return env.concat(self.root_render_func(ctx))
        except Exception:
            env.handle_exception()

    @classmethod
    def from_code(
        cls,
        environment: _JinjaEnvironment,
        code: t.Any,
        globals: t.MutableMapping[str, t.Any],
        uptodate: t.Callable[[], bool] | None = None,
    ) -> Template:
        rv = super().from_code(environment, code, globals, uptodate)
        _install_fast_escape(rv.root_render_func.__globals__)
        return rv

    @classmethod
    def from_module_dict(
        cls,
        environment: _JinjaEnvironment,
        module_dict: t.MutableMapping[str, t.Any],
        globals: t.MutableMapping[str, t.Any],
    ) -> Template:
        _install_fast_escape(module_dict)
        return super().from_module_dict(environment, module_dict, globals)

    def new_context(
        self,
        vars: dict[str, t.Any] | None = None,
        shared: bool = False,
        locals: t.Mapping[str, t.Any] | None = None,
    ) -> Context:
        g = self.globals
        maps = None if shared or locals else _dict_maps(g)
        if maps is None:
            return super().new_context(vars, shared, locals)
        # Jinja builds the parent with ``dict(globals, **vars)``; see
        # ``_merge_maps`` for why not straight from the ChainMap.
        parent = _merge_maps(maps)
        if vars:
            parent.update(**vars)
        env = self.environment
        return env.context_class(env, parent, self.name, self.blocks, globals=g)


def use_fast_rendering(env: _JinjaEnvironment) -> None:
    """Give ``env`` the faster generator, context and template classes
    where its class kept Jinja's stock ones and the shortcuts are on."""
    if not enabled("joined-template-output"):
        return
    cls = type(env)
    if cls.code_generator_class is CodeGenerator:
        env.code_generator_class = _CodeGenerator
    if cls.context_class is Context:
        env.context_class = _Context
    if cls.template_class is Template:
        env.template_class = _Template


# -- self-checks (run once by the gate) ---------------------------------------

_PROBE = (
    "{% for x in xs %}<li>{{ x }}</li>{% endfor %}{{ y|safe }}"
    "{% autoescape false %}{{ z }}{% endautoescape %}{% block b %}{{ f(1) }}{% endblock %}"
)


def check_escape() -> str | None:
    """MarkupSafe's inner escape gives what ``markupsafe.escape`` holds."""
    if not callable(_escape_inner):
        return "markupsafe has no _escape_inner"
    for probe in ("<a href='x'>&\"</a>", "plain", "\u00e9\u2603<"):
        if _escape_inner(probe) != str(_stock_escape(probe)):
            return f"markupsafe._escape_inner({probe!r}) differs from escape()"
    return None


def check_render() -> str | None:
    """The code generator's hook is there, and a probe template renders as
    with Jinja's stock classes."""
    import inspect

    hook = getattr(CodeGenerator, "_output_child_pre", None)
    if not callable(hook):
        return "CodeGenerator._output_child_pre is gone"
    if list(inspect.signature(hook).parameters) != ["self", "node", "frame", "finalize"]:
        return "CodeGenerator._output_child_pre takes other arguments"
    context = {"xs": ["<a>", 2, Markup("<b>")], "y": "<i>", "z": "<u>", "f": str}
    stock = _JinjaEnvironment(autoescape=True)
    fast = _JinjaEnvironment(autoescape=True)
    fast.code_generator_class = _CodeGenerator
    fast.context_class = _Context
    fast.template_class = _Template
    want = stock.from_string(_PROBE).render(context)
    got = fast.from_string(_PROBE).render(context)
    if got != want:
        return f"a probe template rendered {got!r}, Jinja {want!r}"
    return None


if _escape_inner is not None and enabled("markup-escape"):
    _inner = _escape_inner
