"""Jinja integration: the app's template environment, the loader that
searches the app and its blueprints, and the ``render_template`` family.

This is the one layer 0-1 module that imports Jinja at import time;
``flask.app`` imports it only when the environment is first needed.
"""

from __future__ import annotations

import typing as t

from jinja2 import BaseLoader
from jinja2 import Environment as _JinjaEnvironment
from jinja2 import Template
from jinja2 import TemplateNotFound

from ._accel.jinja import use_fast_rendering
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

# Flask's name for every app's first context processor (g, request, session).
_default_template_ctx_processor = template_context_defaults

_SourceTuple = tuple[str, t.Optional[str], t.Optional[t.Callable[[], bool]]]


# Every attribute a plain dict has; any other name on one can only be a key.
_DICT_ATTRIBUTES = frozenset(dir(dict))


class Environment(_JinjaEnvironment):
    """A Jinja environment bound to a Flask app. Unless a ``loader`` is
    given, templates come from ``app.create_global_jinja_loader()``, which
    covers the app's and all blueprints' template folders.
    """

    def __init__(self, app: Flask, **options: t.Any) -> None:
        if "loader" not in options:
            options["loader"] = app.create_global_jinja_loader()
        super().__init__(**options)
        self.app = app
        # The rendering shortcuts (flask._accel.jinja), where a subclass
        # kept Jinja's stock classes.
        use_fast_rendering(self)

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
