"""Blueprints: recorded setup, replayed onto an app at registration.

A blueprint records what it is told (routes, hooks, handlers) and copies it
into the app when registered, under its dotted name. Nested blueprints are
registered recursively with their prefixes joined. Nothing here depends on
a protocol; :class:`flask.Blueprint` adds serving its static files.
"""

from __future__ import annotations

import os
import typing as t
from collections import defaultdict
from functools import update_wrapper

from ..scaffold import _endpoint_from_view_func
from ..scaffold import _late_setup
from ..scaffold import _registering_decorator
from ..scaffold import Scaffold
from ..scaffold import setupmethod

if t.TYPE_CHECKING:  # pragma: no cover
    from .. import typing as ft
    from .app import App

DeferredSetupFunction = t.Callable[["BlueprintSetupState"], None]
T = t.TypeVar("T", bound=t.Callable[..., t.Any])

# The default of ``cli_group``: "a group named after the blueprint", which
# None (commands at the top level) cannot stand for.
_sentinel: t.Any = object()


def _refuse_dot(value: str, what: str) -> None:
    """Dots separate blueprint names in endpoints, so names may not hold one."""
    if "." in value:
        raise ValueError(f"{what} may not contain a dot '.' character.")

# The hook registries a blueprint copies into the app under its own name.
_HOOK_REGISTRIES = (
    "before_request_funcs",
    "after_request_funcs",
    "teardown_request_funcs",
    "before_websocket_funcs",
    "after_websocket_funcs",
    "url_default_functions",
    "url_value_preprocessors",
    "template_context_processors",
)


def _join(outer: str | None, inner: str | None, join: t.Callable[[str, str], str]) -> str | None:
    """Combine a parent's and a child's prefix; either may be missing."""
    if outer is None:
        return inner
    if inner is None:
        return outer
    return join(outer, inner)


def _join_url_prefix(outer: str, inner: str) -> str:
    return f"{outer.rstrip('/')}/{inner.lstrip('/')}"


def _join_subdomain(outer: str, inner: str) -> str:
    return f"{inner}.{outer}"


class BlueprintSetupState:
    """What one registration of a blueprint means: the app, the options, and
    the prefixes that apply to every rule the blueprint adds."""

    def __init__(
        self,
        blueprint: Blueprint,
        app: App,
        options: t.Any,
        first_registration: bool,
    ) -> None:
        self.app = app
        self.blueprint = blueprint
        #: Whether this blueprint has not been registered on the app before.
        self.first_registration = first_registration

        # The options given to ``register_blueprint``, and what they decide.
        self.options = options
        subdomain = options.get("subdomain")
        self.subdomain: str | None = (
            blueprint.subdomain if subdomain is None else subdomain
        )
        url_prefix = options.get("url_prefix")
        self.url_prefix: str | None = (
            blueprint.url_prefix if url_prefix is None else url_prefix
        )
        self.name: str = options.get("name", blueprint.name)
        self.name_prefix: str = options.get("name_prefix", "")
        self.url_defaults: dict[str, t.Any] = {
            **blueprint.url_values_defaults,
            **options.get("url_defaults", {}),
        }

    def add_url_rule(
        self,
        rule: str,
        endpoint: str | None = None,
        view_func: ft.RouteCallable | None = None,
        **options: t.Any,
    ) -> None:
        """Add a rule to the app, prefixed and named for this blueprint."""
        if self.url_prefix is not None:
            rule = _join_url_prefix(self.url_prefix, rule) if rule else self.url_prefix
        options.setdefault("subdomain", self.subdomain)
        if endpoint is None:
            endpoint = _endpoint_from_view_func(view_func)
        defaults = {**self.url_defaults, **(options.pop("defaults", None) or {})}
        full_endpoint = ".".join(
            part for part in (self.name_prefix, self.name, endpoint) if part
        )
        self.app.add_url_rule(
            rule, full_endpoint, view_func, defaults=defaults, **options
        )


class Blueprint(Scaffold):
    """A group of views, hooks and templates registered onto an app later,
    possibly several times and under other blueprints; the base of
    :class:`flask.Blueprint`, which adds serving its static files.

    Takes :class:`~flask.scaffold.Scaffold`'s arguments plus ``url_prefix``,
    ``subdomain``, ``url_defaults`` (default view arguments for its routes) and
    ``cli_group`` (the CLI group its commands appear under; ``None`` puts them
    at the top level)."""

    _got_registered_once = False

    def __init__(
        self,
        name: str,
        import_name: str,
        static_folder: str | os.PathLike[str] | None = None,
        static_url_path: str | None = None,
        template_folder: str | os.PathLike[str] | None = None,
        url_prefix: str | None = None,
        subdomain: str | None = None,
        url_defaults: dict[str, t.Any] | None = None,
        root_path: str | None = None,
        cli_group: str | None = _sentinel,
    ) -> None:
        super().__init__(
            import_name, static_folder, static_url_path, template_folder, root_path
        )
        if not name:
            raise ValueError("'name' may not be empty.")
        _refuse_dot(name, "'name'")
        self.name = name
        self.url_prefix = url_prefix
        self.subdomain = subdomain
        self.url_values_defaults = url_defaults or {}
        self.cli_group = cli_group
        # What registering replays: the recorded setup calls, then the
        # nested blueprints with their options.
        self.deferred_functions: list[DeferredSetupFunction] = []
        self._blueprints: list[tuple[Blueprint, dict[str, t.Any]]] = []

    def _check_setup_finished(self, f_name: str) -> None:
        if self._got_registered_once:
            target = f"blueprint '{self.name}'"
            happened = "been registered at least once"
            raise _late_setup(f_name, target, "blueprint", happened, "registering")

    @setupmethod
    def record(self, func: DeferredSetupFunction) -> None:
        """Call ``func(state)`` each time the blueprint is registered."""
        self.deferred_functions.append(func)

    @setupmethod
    def record_once(self, func: DeferredSetupFunction) -> None:
        """Call ``func(state)`` only on the first registration on an app."""

        def once(state: BlueprintSetupState) -> None:
            if state.first_registration:
                func(state)

        self.record(update_wrapper(once, func))

    def make_setup_state(
        self, app: App, options: dict[str, t.Any], first_registration: bool = False
    ) -> BlueprintSetupState:
        """The state passed to deferred functions; override to extend it."""
        return BlueprintSetupState(self, app, options, first_registration)

    @setupmethod
    def register_blueprint(self, blueprint: Blueprint, **options: t.Any) -> None:
        """Nest ``blueprint`` under this one; takes the same options as
        :meth:`Flask.register_blueprint`."""
        if blueprint is self:
            raise ValueError("Cannot register a blueprint on itself")
        self._blueprints.append((blueprint, options))

    def register(self, app: App, options: dict[str, t.Any]) -> None:
        """Replay this blueprint onto ``app``; called by
        :meth:`Flask.register_blueprint`."""
        own_name = options.get("name", self.name)
        name = ".".join(p for p in (options.get("name_prefix", ""), own_name) if p)
        taken_by = app.blueprints.get(name)
        if taken_by is not None:
            which = "this" if taken_by is self else "a different"
            where = f" '{name}'" if own_name != name else ""
            raise ValueError(
                f"The name '{own_name}' is already registered for {which}"
                f" blueprint{where}. Use 'name=' to provide a unique name."
            )

        first_registration = all(bp is not self for bp in app.blueprints.values())
        app.blueprints[name] = self
        self._got_registered_once = True
        state = self.make_setup_state(app, options, first_registration)

        if self.has_static_folder:
            # The subclass serves files (flask.Blueprint); this base only
            # knows where they are.
            serve = self.send_static_file  # type: ignore[attr-defined]
            state.add_url_rule(f"{self.static_url_path}/<path:filename>", "static", serve)
        self._merge_blueprint_funcs(app, name)
        for deferred in self.deferred_functions:
            deferred(state)
        self._register_cli(app, options, name)

        for child, child_options in self._blueprints:
            child_options = dict(child_options)
            for key, join in (
                ("subdomain", _join_subdomain),
                ("url_prefix", _join_url_prefix),
            ):
                inner = child_options.get(key)
                if inner is None:
                    inner = getattr(child, key)
                child_options[key] = _join(getattr(state, key), inner, join)
            child_options["name_prefix"] = name
            child.register(app, child_options)

    def _merge_blueprint_funcs(self, app: App, name: str) -> None:
        """Copy hooks and error handlers into the app, keyed by ``name``."""

        def scoped(key: str | None) -> str:
            return name if key is None else f"{name}.{key}"

        for attr in _HOOK_REGISTRIES:
            target = getattr(app, attr)
            for key, funcs in getattr(self, attr).items():
                target.setdefault(scoped(key), []).extend(funcs)
        for key, by_code in self.error_handler_spec.items():
            merged = app.error_handler_spec.setdefault(
                scoped(key), defaultdict(dict)
            )
            for code, handlers in by_code.items():
                merged.setdefault(code, {}).update(handlers)

    def _register_cli(self, app: App, options: dict[str, t.Any], name: str) -> None:
        if not self._has_cli_commands():
            return
        group = options.get("cli_group", self.cli_group)
        if group is None:
            app.cli.commands.update(self.cli.commands)
        else:
            self.cli.name = name if group is _sentinel else group
            app.cli.add_command(self.cli)

    @setupmethod
    def add_url_rule(
        self,
        rule: str,
        endpoint: str | None = None,
        view_func: ft.RouteCallable | None = None,
        provide_automatic_options: bool | None = None,
        **options: t.Any,
    ) -> None:
        """Record a URL rule, added to the app when registered."""
        if endpoint:
            _refuse_dot(endpoint, "'endpoint'")
        if view_func is not None:
            _refuse_dot(getattr(view_func, "__name__", ""), "'view_func' name")
        options["provide_automatic_options"] = provide_automatic_options

        def add(state: BlueprintSetupState) -> None:
            state.add_url_rule(rule, endpoint, view_func, **options)

        self.record(add)

    @setupmethod
    def endpoint(self, endpoint: str) -> t.Callable[[T], T]:
        """Use the decorated function as the app's view for ``endpoint``
        (a rule added elsewhere, e.g. directly to ``app.url_map``)."""

        def decorator(f: T) -> T:
            self._on_app(lambda app: app.view_functions.__setitem__(endpoint, f))
            return f

        return decorator

    # -- app-wide registrations --------------------------------------------------

    def _on_app(self, action: t.Callable[[App], t.Any]) -> None:
        self.record_once(lambda state: action(state.app))

    @setupmethod
    def app_template_filter(self, name: str | None = None) -> t.Callable[[T], T]:
        """Register a template filter available in every template of the app."""

        return _registering_decorator(self.add_app_template_filter, name)

    @setupmethod
    def add_app_template_filter(self, f: t.Callable[..., t.Any], name: str | None = None) -> None:
        """The non-decorator form of :meth:`app_template_filter`."""
        self._on_app(lambda app: app.jinja_env.filters.__setitem__(name or f.__name__, f))

    @setupmethod
    def app_template_test(self, name: str | None = None) -> t.Callable[[T], T]:
        """Register a template test available in every template of the app."""

        return _registering_decorator(self.add_app_template_test, name)

    @setupmethod
    def add_app_template_test(self, f: t.Callable[..., bool], name: str | None = None) -> None:
        """The non-decorator form of :meth:`app_template_test`."""
        self._on_app(lambda app: app.jinja_env.tests.__setitem__(name or f.__name__, f))

    @setupmethod
    def app_template_global(self, name: str | None = None) -> t.Callable[[T], T]:
        """Register a global available in every template of the app."""

        return _registering_decorator(self.add_app_template_global, name)

    @setupmethod
    def add_app_template_global(self, f: t.Callable[..., t.Any], name: str | None = None) -> None:
        """The non-decorator form of :meth:`app_template_global`."""
        self._on_app(lambda app: app.jinja_env.globals.__setitem__(name or f.__name__, f))

    @setupmethod
    def before_app_request(self, f: T) -> T:
        """Like :meth:`before_request`, for every request of the app."""
        self._on_app(lambda app: app.before_request_funcs.setdefault(None, []).append(f))
        return f

    @setupmethod
    def after_app_request(self, f: T) -> T:
        """Like :meth:`after_request`, for every request of the app."""
        self._on_app(lambda app: app.after_request_funcs.setdefault(None, []).append(f))
        return f

    @setupmethod
    def teardown_app_request(self, f: T) -> T:
        """Like :meth:`teardown_request`, for every request of the app."""
        self._on_app(lambda app: app.teardown_request_funcs.setdefault(None, []).append(f))
        return f

    @setupmethod
    def before_app_websocket(self, f: T) -> T:
        """Like :meth:`before_websocket`, for every WebSocket handler of the app.

        .. beyond-flask:: App-wide WebSocket hook from a blueprint, run before each handler.
        """
        self._on_app(lambda app: app.before_websocket_funcs.setdefault(None, []).append(f))
        return f

    @setupmethod
    def after_app_websocket(self, f: T) -> T:
        """Like :meth:`after_websocket`, for every WebSocket handler of the app.

        .. beyond-flask:: App-wide WebSocket hook from a blueprint, run after each handler.
        """
        self._on_app(lambda app: app.after_websocket_funcs.setdefault(None, []).append(f))
        return f

    @setupmethod
    def app_context_processor(self, f: T) -> T:
        """Like :meth:`context_processor`, for every template of the app."""
        self._on_app(
            lambda app: app.template_context_processors.setdefault(None, []).append(f)
        )
        return f

    @setupmethod
    def app_errorhandler(self, code: type[Exception] | int) -> t.Callable[[T], T]:
        """Like :meth:`errorhandler`, for errors anywhere in the app."""

        def decorator(f: T) -> T:
            self._on_app(lambda app: app.errorhandler(code)(f))
            return f

        return decorator

    @setupmethod
    def app_url_value_preprocessor(self, f: T) -> T:
        """Like :meth:`url_value_preprocessor`, for every request of the app."""
        self._on_app(lambda app: app.url_value_preprocessors.setdefault(None, []).append(f))
        return f

    @setupmethod
    def app_url_defaults(self, f: T) -> T:
        """Like :meth:`url_defaults`, for every URL built in the app."""
        self._on_app(lambda app: app.url_default_functions.setdefault(None, []).append(f))
        return f
