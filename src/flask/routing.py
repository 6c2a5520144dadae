"""URL building for an app.

Matching itself is Werkzeug's (``app.url_map``, bound by
:meth:`Flask.create_url_adapter`); this module builds URLs with the app's
defaults and error handlers.
"""

from __future__ import annotations

import sys
import typing as t
from urllib.parse import quote as _url_quote

from werkzeug.routing import BuildError
from werkzeug.routing.converters import DEFAULT_CONVERTERS

from ._accel import enabled
from .globals import _cv_app
from .globals import _cv_request
from .wrappers import _split_blueprint_path

if t.TYPE_CHECKING:  # pragma: no cover
    from werkzeug.routing import Map
    from werkzeug.routing import MapAdapter
    from werkzeug.routing import Rule

    from .app import Flask

_ANCHOR_SAFE = "%!#$&'()*+,/:;=?@"


def make_rule(
    app: Flask,
    rule: str,
    endpoint: str,
    view_func: t.Callable[..., t.Any] | None,
    provide_automatic_options: bool | None,
    options: dict[str, t.Any],
) -> Rule:
    """The ``url_rule_class`` instance :meth:`Flask.add_url_rule` adds:
    methods from the arguments or the view (``methods``,
    ``required_methods``), plus OPTIONS when the rule itself decides to
    answer it automatically."""
    given = options.pop("methods", None)
    if given is None:
        given = getattr(view_func, "methods", None) or ("GET",)
    if isinstance(given, str):
        raise TypeError(
            "Allowed methods must be a list of strings, for"
            ' example: @app.route(..., methods=["POST"])'
        )
    required = getattr(view_func, "required_methods", ())
    methods = {m.upper() for m in given}.union(required)

    if provide_automatic_options is None:
        provide_automatic_options = getattr(view_func, "provide_automatic_options", None)
    if provide_automatic_options is None:
        provide_automatic_options = (
            "OPTIONS" not in methods and app.config["PROVIDE_AUTOMATIC_OPTIONS"]
        )
        # Only a rule that decided this itself gets OPTIONS added, as in
        # Flask: an explicit True leaves the methods as given (Quart's
        # tests, which run on App, check the rule's methods).
        if provide_automatic_options:
            methods.add("OPTIONS")

    stream_body = bool(options.pop("stream_body", False))
    rule_obj = app.url_rule_class(rule, methods=methods, endpoint=endpoint, **options)
    rule_obj.provide_automatic_options = provide_automatic_options  # type: ignore[attr-defined]  # Flask's documented extra attribute on rules
    if stream_body:
        # Over ASGI the view gets the body as it arrives (docs/streaming.md, "Streamed uploads");
        # the app-wide flag moves the body's receiving after URL matching.
        rule_obj.stream_body = True  # type: ignore[attr-defined]  # our extra attribute, like the one above
        app.__dict__["_flask_stream_bodies"] = True
    return rule_obj


def inject_url_defaults(app: Flask, endpoint: str, values: dict[str, t.Any]) -> None:
    """Apply the ``url_defaults`` functions of the app and the endpoint's
    blueprints to ``values``."""
    funcs = app.url_default_functions
    if not funcs:
        return
    for func in funcs.get(None, ()):
        func(endpoint, values)
    if "." in endpoint:
        for name in reversed(_split_blueprint_path(endpoint.rpartition(".")[0])):
            for func in funcs.get(name, ()):
                func(endpoint, values)


def _adapter_without_request(app: Flask) -> MapAdapter:
    """The active app context's adapter when it is ``app``'s (built once
    per context), else one made for this call."""
    app_ctx = _cv_app.get(None)
    adapter = (
        app_ctx.url_adapter
        if app_ctx is not None and app_ctx.app is app
        else app.create_url_adapter(None)
    )
    if adapter is None:
        raise RuntimeError(
            "Unable to build URLs outside an active request"
            " without 'SERVER_NAME' configured. Also configure"
            " 'APPLICATION_ROOT' and 'PREFERRED_URL_SCHEME' as"
            " needed."
        )
    return adapter


def url_for(
    app: Flask,
    endpoint: str,
    /,
    *,
    _anchor: str | None = None,
    _method: str | None = None,
    _scheme: str | None = None,
    _external: bool | None = None,
    **values: t.Any,
) -> str:
    """Build a URL for ``endpoint``; see :func:`flask.url_for`."""
    req_ctx = _cv_request.get(None)
    if req_ctx is not None:
        adapter = req_ctx.url_adapter
        if endpoint[:1] == ".":
            blueprint = req_ctx.request.blueprint
            endpoint = endpoint[1:] if blueprint is None else blueprint + endpoint
        if _external is None:
            _external = _scheme is not None
    else:
        adapter = _adapter_without_request(app)
        if _external is None:
            _external = True

    if _scheme is not None and not _external:
        raise ValueError("When specifying '_scheme', '_external' must be True.")

    if (
        app.url_default_functions
        or type(app).inject_url_defaults is not inject_url_defaults
        or "inject_url_defaults" in app.__dict__
    ):
        app.inject_url_defaults(endpoint, values)
    try:
        url = _build(adapter, endpoint, values, _method, _scheme, _external)  # type: ignore[arg-type]  # a request or app context always has an adapter here
    except BuildError as error:
        values.update(
            _anchor=_anchor, _method=_method, _scheme=_scheme, _external=_external
        )
        return app.handle_url_build_error(error, endpoint, values)

    if _anchor is not None:
        url = f"{url}#{_url_quote(_anchor, safe=_ANCHOR_SAFE)}"
    return url


# Values whose URL form cannot change between calls.
_PLAIN_VALUE_TYPES = frozenset({str, int, float, bool, type(None)})
# (map, rule count, server name, script name, subdomain, scheme)
#   -> {(endpoint, method, scheme, external, *values) -> URL}
_built: dict[tuple[t.Any, ...], dict[tuple[t.Any, ...], str]] = {}


def _build(
    adapter: MapAdapter,
    endpoint: str,
    values: dict[str, t.Any],
    method: str | None,
    scheme: str | None,
    external: bool,
) -> str:
    """``adapter.build``, remembered for plain values.

    Werkzeug's build is a pure function of the bound adapter, the rules and
    the values; it was 29% of rendering a 20-row template with a url_for
    per row. Only maps whose rules are counted (``RuleMap``), that use
    Werkzeug's own converters, and values of immutable builtin types are
    remembered, so a converter reading mutable object state is never
    served a stale URL.
    """
    memo = _memo(adapter)
    if memo is not None:
        key: tuple[t.Any, ...] = (endpoint, method, scheme, external)
        for name, value in values.items():
            kind = type(value)
            if kind not in _PLAIN_VALUE_TYPES:
                break
            # The type too: True == 1, but their URL forms differ.
            key += (name, kind, value)
        else:
            url = memo.get(key)
            if url is None:
                url = adapter.build(
                    endpoint, values, method=method, url_scheme=scheme,
                    force_external=external,
                )
                if len(memo) >= 4096:
                    memo.clear()
                memo[key] = url
            return url
    return adapter.build(
        endpoint, values, method=method, url_scheme=scheme, force_external=external
    )


def _memo(adapter: MapAdapter) -> dict[tuple[t.Any, ...], str] | None:
    """The remembered URLs for what ``adapter`` is bound to, or ``None``
    when its map's URLs are not remembered. Looked up once per adapter
    (one per request) and rule count, so each url_for hashes only its own
    arguments."""
    url_map = adapter.map
    version = url_map.__dict__.get("_rules_added")
    if version is None:
        return None
    cached = adapter.__dict__.get("_flask_urls")
    if cached is not None and cached[0] == version:
        return cached[1]  # type: ignore[no-any-return]  # the slot holds what this function stored
    memo = None
    if _plain_rules(url_map) and enabled("url-memo"):
        bound = (
            url_map,
            version,
            adapter.server_name,
            adapter.script_name,
            adapter.subdomain,
            adapter.url_scheme,
        )
        memo = _built.get(bound)
        if memo is None:
            if len(_built) >= 64:
                _built.clear()
            memo = _built[bound] = {}
    adapter.__dict__["_flask_urls"] = (version, memo)
    return memo


def _plain_rules(url_map: Map) -> bool:
    """Whether the map counts its rules and they use only Werkzeug's own
    converters. A rule takes its converters when added, so the answer holds
    until the rule count changes."""
    version = url_map.__dict__.get("_rules_added")
    if version is None:
        return False
    known = url_map.__dict__.get("_flask_plain_rules")
    if known is None or known[0] != version:
        known = url_map.__dict__["_flask_plain_rules"] = (
            version,
            url_map.converters == DEFAULT_CONVERTERS,
        )
    return known[1]


def handle_url_build_error(
    app: Flask, error: BuildError, endpoint: str, values: dict[str, t.Any]
) -> str:
    """Give ``url_build_error_handlers`` a chance, else re-raise ``error``."""
    last = error
    for handler in app.url_build_error_handlers:
        try:
            url = handler(last, endpoint, values)
        except BuildError as e:
            # A handler may raise a more specific error for the next one.
            last = e
            continue
        if url is not None:
            return url
    # The error being handled is re-raised bare, keeping its traceback.
    if last is sys.exc_info()[1]:
        raise
    raise last
