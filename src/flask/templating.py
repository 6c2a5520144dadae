"""Jinja integration: the app's template environment, the loader that
searches the app and its blueprints, and the ``render_template`` family.

This is the one layer 0-1 module that imports Jinja at import time;
``flask.app`` imports it only when the environment is first needed.
"""

from __future__ import annotations

import typing as t
from collections import ChainMap
from types import FunctionType
from types import MethodType

import jinja2
import markupsafe
from jinja2 import BaseLoader
from jinja2 import Environment as _JinjaEnvironment
from jinja2 import Template
from jinja2 import TemplateNotFound
from jinja2 import nodes
from jinja2.compiler import CodeGenerator
from jinja2.compiler import Frame
from jinja2.runtime import Context
from jinja2.utils import internalcode
from markupsafe import Markup

from .ctx import template_context_defaults
from .globals import _cv_request
from .globals import current_app
from .globals import g
from .globals import request
from .globals import session
from .helpers import get_flashed_messages
from .helpers import stream_with_context
from .signals import before_render_template
from .signals import template_rendered

if t.TYPE_CHECKING:  # pragma: no cover
    from .app import Flask
    from .sansio.blueprints import Blueprint as SansioBlueprint

__all__ = [
    "DispatchingJinjaLoader",
    "Environment",
    "create_environment",
    "render_template",
    "render_template_string",
    "stream_template",
    "stream_template_string",
]

_SourceTuple = tuple[str, t.Optional[str], t.Optional[t.Callable[[], bool]]]


# -- rendering speed-ups -----------------------------------------------------
#
# Measured on the benchmark's ``rows.html`` (20-row loop, base template,
# ``url_for`` per row), ``template.render`` alone: 254 us with Jinja's
# stock generator/context/template classes, 119 us with the ones below;
# the ``template`` scenario went from 3,500 to 6,250 req/s (Pallets Flask:
# 2,250). Each piece replaces a piece of Jinja or MarkupSafe only where the
# stock object would have been used, and ``tests/test_templating_speed.py``
# checks it against the stock result.

# MarkupSafe's C (or pure Python) escaping of a plain ``str``, without the
# ``Markup.__new__`` round trip. Absent in a MarkupSafe that moved it: then
# compiled templates keep the stock ``escape``.
_escape_inner: t.Callable[[str], str] | None = getattr(markupsafe, "_escape_inner", None)
# Flask's name for every app's first context processor (g, request, session).
_default_template_ctx_processor = template_context_defaults

_stock_escape = markupsafe.escape
_new_str = str.__new__


def _escape(s: t.Any, /) -> Markup:
    """``markupsafe.escape`` with shortcuts for the types templates print
    most. Stock ``escape`` goes through a Python-level ``Markup.__new__``
    with a ``hasattr``: 444 ns -> 199 ns for a short ``str``, 570 -> 258 ns
    for an ``int``. Every ``{{ }}`` of an autoescaped template calls it.
    """
    cls = type(s)
    if cls is str:
        return _new_str(Markup, _escape_inner(s))  # type: ignore[misc]  # only called when the C escape was found
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
    if cls is str:
        return _escape_inner(s)  # type: ignore[misc]  # only called when the C escape was found
    if cls is int:
        return str(s)
    return _stock_escape(s)


def _install_fast_escape(namespace: t.MutableMapping[str, t.Any]) -> None:
    # Compiled templates look ``escape`` up as a module global.
    if _escape_inner is not None and namespace.get("escape") is _stock_escape:
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


_JINJA_3_1 = getattr(jinja2, "__version__", "").startswith("3.1.")

# Every attribute a plain dict has; any other name on one can only be a key.
_DICT_ATTRIBUTES = frozenset(dir(dict))


class Environment(_JinjaEnvironment):
    """A Jinja environment bound to a Flask app. Unless a ``loader`` is
    given, templates come from ``app.create_global_jinja_loader()``, which
    covers the app's and all blueprints' template folders.
    """

    # The joined-output generator builds on CodeGenerator internals as
    # Jinja 3.1 has them; any other Jinja keeps its stock generator.
    code_generator_class = _CodeGenerator if _JINJA_3_1 else CodeGenerator
    context_class = _Context
    template_class = _Template

    def __init__(self, app: Flask, **options: t.Any) -> None:
        if "loader" not in options:
            options["loader"] = app.create_global_jinja_loader()
        super().__init__(**options)
        self.app = app

    def getattr(self, obj: t.Any, attribute: str) -> t.Any:
        # ``{{ row.name }}`` on a dict: Jinja tries the attribute first,
        # which raises AttributeError for every key. A plain dict has no
        # attributes but dict's own, so any other name is looked up as an
        # item straight away: same result, no exception. Rendering a 20-row
        # table of dicts spent a quarter of its time in those exceptions.
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                return self.undefined(obj=obj, name=attribute)
        # Jinja's first step, without a frame for it (``loop.cycle``);
        # Jinja's method takes over only when the attribute is missing.
        try:
            return getattr(obj, attribute)
        except AttributeError:
            return super().getattr(obj, attribute)


class DispatchingJinjaLoader(BaseLoader):
    """Look a template up in the app's loader first, then in each
    blueprint's loader in registration order; the first match wins.
    """

    def __init__(self, app: Flask) -> None:
        self.app = app

    def _sources(self) -> t.Iterator[tuple[Flask | SansioBlueprint, BaseLoader]]:
        app = self.app
        if app.jinja_loader is not None:
            yield app, app.jinja_loader
        for blueprint in app.iter_blueprints():
            loader = blueprint.jinja_loader
            if loader is not None:
                yield blueprint, loader

    def get_source(self, environment: _JinjaEnvironment, template: str) -> _SourceTuple:
        if self.app.config["EXPLAIN_TEMPLATE_LOADING"]:
            return self._get_source_explained(environment, template)

        for _source, loader in self._sources():
            try:
                return loader.get_source(environment, template)
            except TemplateNotFound:
                continue
        raise TemplateNotFound(template)

    def _get_source_explained(
        self, environment: _JinjaEnvironment, template: str
    ) -> _SourceTuple:
        # Ask every loader, even after a match, so the log can show
        # shadowed templates.
        from .debughelpers import explain_template_loading_attempts

        attempts: list[tuple[BaseLoader, t.Any, _SourceTuple | None]] = []
        first: _SourceTuple | None = None
        for source, loader in self._sources():
            try:
                result: _SourceTuple | None = loader.get_source(environment, template)
            except TemplateNotFound:
                result = None
            if first is None:
                first = result
            attempts.append((loader, source, result))

        explain_template_loading_attempts(self.app, template, attempts)
        if first is None:
            raise TemplateNotFound(template)
        return first

    def list_templates(self) -> list[str]:
        names: set[str] = set()
        for _source, loader in self._sources():
            names.update(loader.list_templates())
        return sorted(names)


def create_environment(app: Flask) -> Environment:
    """Build the Jinja environment for ``app``: what
    ``Flask.create_jinja_environment`` returns.

    ``app.jinja_options`` are passed through; ``autoescape`` defaults to
    ``app.select_jinja_autoescape`` and ``auto_reload`` to the
    ``TEMPLATES_AUTO_RELOAD`` config, or to ``app.debug`` when that is
    ``None``. The environment class is ``app.jinja_environment`` if set.
    """
    options = dict(app.jinja_options)
    options.setdefault("autoescape", app.select_jinja_autoescape)
    if "auto_reload" not in options:
        auto_reload = app.config["TEMPLATES_AUTO_RELOAD"]
        options["auto_reload"] = app.debug if auto_reload is None else auto_reload

    env_class = getattr(app, "jinja_environment", None) or Environment
    env = env_class(app, **options)
    env.globals.update(
        url_for=app.url_for,
        get_flashed_messages=get_flashed_messages,
        config=app.config,
        # The proxies resolve per render, so one environment serves all
        # requests.
        request=request,
        session=session,
        g=g,
    )
    # Jinja's ``tojson`` filter serialises through this policy.
    env.policies["json.dumps_function"] = app.json.dumps
    return env


def _prepare(app: Flask, template: Template, context: dict[str, t.Any]) -> None:
    app.update_template_context(context)
    if before_render_template.receivers:
        before_render_template.send(
            app, _async_wrapper=app.ensure_sync, template=template, context=context
        )


def _rendered(app: Flask, template: Template, context: dict[str, t.Any]) -> None:
    if template_rendered.receivers:
        template_rendered.send(
            app, _async_wrapper=app.ensure_sync, template=template, context=context
        )


def _render(app: Flask, template: Template, context: dict[str, t.Any]) -> str:
    _prepare(app, template, context)
    rv = template.render(context)
    _rendered(app, template, context)
    return rv


def _stream(
    app: Flask, template: Template, context: dict[str, t.Any]
) -> t.Iterator[str]:
    _prepare(app, template, context)

    def generate() -> t.Iterator[str]:
        yield from template.generate(context)
        _rendered(app, template, context)

    stream = generate()
    # Keep request, session and g usable while the response is sent.
    if _cv_request.get(None) is not None:
        stream = t.cast(t.Iterator[str], stream_with_context(stream))
    return stream


def _current_app() -> Flask:
    # Resolve the proxy once: signal receivers are keyed by the real app.
    return current_app._get_current_object()  # type: ignore[attr-defined, no-any-return]  # the proxy's own method


def render_template(
    template_name_or_list: str | Template | list[str | Template],
    **context: t.Any,
) -> str:
    """Render a template from the template folders with ``context``.
    A list of names renders the first one that exists.
    """
    app = _current_app()
    template = app.jinja_env.get_or_select_template(template_name_or_list)
    return _render(app, template, context)


def render_template_string(source: str, **context: t.Any) -> str:
    """Render a template given as a source string with ``context``."""
    app = _current_app()
    template = app.jinja_env.from_string(source)
    return _render(app, template, context)


def stream_template(
    template_name_or_list: str | Template | list[str | Template],
    **context: t.Any,
) -> t.Iterator[str]:
    """Render a template as an iterator of pieces, for a streamed
    response. During a request the request context stays available while
    the stream is consumed.
    """
    app = _current_app()
    template = app.jinja_env.get_or_select_template(template_name_or_list)
    return _stream(app, template, context)


def stream_template_string(source: str, **context: t.Any) -> t.Iterator[str]:
    """Like :func:`stream_template`, from a source string."""
    app = _current_app()
    template = app.jinja_env.from_string(source)
    return _stream(app, template, context)
