"""The shortcut gate: every place where flask steps past a dependency's
public API, for speed or because no public API exists, is registered here.

Each :class:`Shortcut` records what it speeds up, the public path it
replaces, the private names it touches and the dependency versions it was
verified against. On first use it checks itself once: the installed
versions must be in range, and its own ``check`` (the private names have
the expected shape, and where it is cheap the shortcut gives the public
path's answer on a probe input) must pass. Otherwise the shortcut is off,
the public path serves, and one warning on the ``flask.shortcuts`` logger
names it and says why (one line names all the shortcuts that a release
past their verified versions turns off). A wrong answer is never the
result.

Setting the environment variable ``FLASK_NO_SHORTCUTS`` (to anything but
``""`` or ``"0"``) switches every shortcut off, silently, except the
bridges: they have no public path to fall back on.

The private names of dependencies are used only inside this package;
``tests/test_architecture.py`` checks that. ``docs/shortcuts.md`` is
generated from :data:`SHORTCUTS` (``scripts/shortcuts_doc.py``).

The modules with the code behind the shortcuts are imported only when a
shortcut is first asked about, so the registry costs ``import flask``
nothing but this table.
"""

from __future__ import annotations

import importlib
import logging
import os
import re
import typing as t
from dataclasses import dataclass

__all__ = ["ENV_VAR", "SHORTCUTS", "Shortcut", "enabled", "status"]

#: Set to anything but ``""`` or ``"0"`` to switch every shortcut off.
ENV_VAR = "FLASK_NO_SHORTCUTS"

logger = logging.getLogger("flask.shortcuts")

# (distribution, lowest verified, first version not verified or None)
Verified = tuple[tuple[str, str, t.Optional[str]], ...]

_WERKZEUG: Verified = (("werkzeug", "3.1.0", "3.2"),)


@dataclass(frozen=True)
class Shortcut:
    """One registered shortcut (see the module docstring)."""

    name: str
    speeds_up: str
    replaces: str
    touches: tuple[str, ...]
    verified: Verified
    #: ``"module:function"`` in this package: returns ``None`` when the
    #: shortcut is usable, else the reason it is not.
    check: str
    #: A bridge has no public path to fall back on (for example the test
    #: client's cookie jar); when it is off, the feature says so instead.
    bridge: bool = False


SHORTCUTS: tuple[Shortcut, ...] = (
    Shortcut(
        name="url-matcher",
        speeds_up="matching a request's path and method to a URL rule",
        replaces="MapAdapter.match, via Map.bind_to_environ",
        touches=(
            "werkzeug: Map._matcher", "Map._rules_by_endpoint",
            "StateMachineMatcher._root", "Rule._converters",
        ),
        verified=_WERKZEUG,
        check="routing:check_matcher",
    ),
    Shortcut(
        name="lazy-url-builder",
        speeds_up="add_url_rule: a rule's URL builders are compiled on first build",
        replaces="Rule.compile, which compiles both builders up front",
        touches=("werkzeug: Rule._compile_builder", "Rule._build", "Rule._build_unknown"),
        verified=_WERKZEUG,
        check="routing:check_lazy_builder",
    ),
    Shortcut(
        name="bind-cache",
        speeds_up="url_for and redirects: the per-host part of a MapAdapter is reused",
        replaces="Map.bind_to_environ on every request",
        touches=("werkzeug: the attributes of MapAdapter (no private names)",),
        verified=_WERKZEUG,
        check="routing:check_bind_cache",
    ),
    Shortcut(
        name="lazy-request-fields",
        speeds_up="Request(): method, path, headers... are read from the environ on first use",
        replaces="werkzeug.wrappers.Request.__init__, which computes them all",
        touches=("werkzeug: werkzeug.wsgi._get_server", "the fields Request.__init__ sets"),
        verified=_WERKZEUG,
        check="wrappers:check_request_fields",
    ),
    Shortcut(
        name="buffered-response",
        speeds_up="Response(str or bytes): the object built without per-header validation",
        replaces="werkzeug.wrappers.Response.__init__",
        touches=("werkzeug: Headers._list", "Response._clean_status", "Response._on_close"),
        verified=_WERKZEUG,
        check="wrappers:check_buffered_response",
    ),
    Shortcut(
        name="small-body",
        speeds_up="reading a small body, its Content-Type, urlencoded forms and cookies",
        replaces="Request.get_data, form parsing, parse_options_header and parse_cookie",
        touches=("werkzeug: Request._parse_content_type and Request._load_form_data "
                 "(hooks Werkzeug's own properties call)", "Request._parsed_content_type",
                 "Request._cached_data"),
        verified=_WERKZEUG,
        check="wrappers:check_small_body",
    ),
    Shortcut(
        name="session-signing",
        speeds_up="signing and verifying the session cookie",
        replaces="itsdangerous.URLSafeTimedSerializer dumps and loads",
        touches=("itsdangerous: none (a re-implementation checked against it)",),
        verified=(("itsdangerous", "2.2.0", "2.3"),),
        check="signing:check_signing",
    ),
    Shortcut(
        name="markup-escape",
        speeds_up="escaping {{ }} output in autoescaped templates",
        replaces="markupsafe.escape",
        touches=("markupsafe: markupsafe._escape_inner",),
        verified=(("markupsafe", "3.0.0", "3.1"),),
        check="jinja:check_escape",
    ),
    Shortcut(
        name="joined-template-output",
        speeds_up="rendering: a template's output joined as one str, contexts made cheaper",
        replaces="Jinja's stock CodeGenerator, Context and Template.render",
        touches=("jinja2: CodeGenerator._output_child_pre", "CodeGenerator.visit_Output",
                 "Template.root_render_func", "Context internals"),
        verified=(("jinja2", "3.1.2", "3.2"),),
        check="jinja:check_render",
    ),
    Shortcut(
        name="plain-answer",
        speeds_up="a view's str or dict, or an unhandled 404/405, answered as "
        "(status, headers, body) without a Response object",
        replaces="Flask.make_response and Werkzeug's Response and its WSGI call",
        touches=("werkzeug: none (held to Pallets' answers by make fuzz and tests)",),
        verified=_WERKZEUG,
        check="plain:check_nothing",
    ),
    Shortcut(
        name="direct-wsgi-response",
        speeds_up="sending a buffered 2xx response with its Content-Length",
        replaces="Response.__call__ (get_wsgi_headers, get_app_iter)",
        touches=("werkzeug: none (held to Werkzeug's bytes by tests)",),
        verified=_WERKZEUG,
        check="plain:check_nothing",
    ),
    Shortcut(
        name="url-memo",
        speeds_up="url_for: a URL built once per binding and arguments is remembered",
        replaces="MapAdapter.build on every call",
        touches=("werkzeug: none (only for maps with Werkzeug's own converters)",),
        verified=_WERKZEUG,
        check="plain:check_nothing",
    ),
    Shortcut(
        name="test-client-cookies",
        speeds_up="(a bridge) the ASGI and WebSocket test clients and session_transaction "
        "share the Werkzeug test client's cookie jar",
        replaces="nothing public: werkzeug.test.Client keeps its jar private",
        touches=("werkzeug: Client._cookies", "Client._add_cookies_to_wsgi",
                 "Client._update_cookies_from_response"),
        verified=(("werkzeug", "3.1.0", None),),
        check="testclient:check_cookies",
        bridge=True,
    ),
    Shortcut(
        name="werkzeug-reloader",
        speeds_up="(a bridge) flask run --reload for an app with WebSocket routes, "
        "served by uvicorn, restarts as Werkzeug's reloader does",
        replaces="nothing public: werkzeug.serving only reloads its own server",
        touches=("werkzeug: werkzeug._reloader.reloader_loops", "_log", "ensure_echo_on"),
        verified=(("werkzeug", "3.1.0", None),),
        check="reloader:check_reloader",
        bridge=True,
    ),
)

_BY_NAME = {s.name: s for s in SHORTCUTS}
_decided: dict[str, bool] = {}
_versions: dict[str, str | None] = {}


def enabled(name: str) -> bool:
    """Whether the shortcut ``name`` may be used: decided once, on the
    first call (see the module docstring)."""
    try:
        return _decided[name]
    except KeyError:
        pass
    shortcut = _BY_NAME[name]
    _decided[name] = False  # a check that re-enters sees "off"
    reason = _reason(shortcut)
    _decided[name] = reason is None
    if reason is not None and reason != _SWITCHED_OFF:
        names = [name]
        if reason == _version_reason(shortcut):
            # A release past the verified ones (a new Werkzeug) turns off
            # every shortcut verified with the same versions: one line for
            # them all, rather than one per shortcut as each is first used.
            for other in SHORTCUTS:
                if other.name not in _decided and (other.verified, other.bridge) == (
                    shortcut.verified,
                    shortcut.bridge,
                ):
                    _decided[other.name] = False
                    names.append(other.name)
        quoted = ", ".join(repr(n) for n in names[:-1])
        quoted = f"{quoted} and {names[-1]!r} shortcuts are" if quoted else f"{name!r} shortcut is"
        logger.warning(
            "flask: the %s off (%s); %s", quoted, reason,
            "the feature is unavailable" if shortcut.bridge else "the public path serves",
        )
    return reason is None


def status() -> dict[str, str | None]:
    """Every shortcut's name, with ``None`` when on or the reason it is off."""
    out: dict[str, str | None] = {}
    for shortcut in SHORTCUTS:
        out[shortcut.name] = None if enabled(shortcut.name) else _reason(shortcut)
    return out


_SWITCHED_OFF = f"switched off by {ENV_VAR}"


def _reason(shortcut: Shortcut) -> str | None:
    # A bridge has no public path to switch to, so the switch leaves it on.
    if not shortcut.bridge and os.environ.get(ENV_VAR, "") not in ("", "0"):
        return _SWITCHED_OFF
    outside = _version_reason(shortcut)
    if outside is not None:
        return outside
    module_name, _, func = shortcut.check.partition(":")
    try:
        module = importlib.import_module(f"{__name__}.{module_name}")
        problem: str | None = getattr(module, func)()
    except Exception as e:  # a check that cannot run is a failed check
        return f"its self-check raised {type(e).__name__}: {e}"
    return problem


def _version_reason(shortcut: Shortcut) -> str | None:
    """Why the installed versions are not the verified ones, if they are not."""
    for dist, low, high in shortcut.verified:
        installed = _version_of(dist)
        if installed is None:
            return f"{dist}'s version is unknown"
        if not _in_range(installed, low, high):
            upto = f", below {high}" if high else ""
            return f"verified with {dist} {low}{upto}; {installed} is installed"
    return None


def _version_of(dist: str) -> str | None:
    if dist not in _versions:
        _versions[dist] = _version_beside(dist) or _version_from_metadata(dist)
    return _versions[dist]


def _version_beside(dist: str) -> str | None:
    """The version in the ``.dist-info`` next to the imported package: the
    code that actually runs. ``importlib.metadata`` (the fallback) costs
    7 ms of start-up on its first use, a twentieth of a cold start."""
    try:
        module = importlib.import_module(dist)
        site = os.path.dirname(os.path.dirname(module.__file__ or ""))
        entries = os.listdir(site)
    except (ImportError, OSError):
        return None
    wanted = _normalized(dist)
    found = [
        e for e in entries
        if e.endswith(".dist-info") and _normalized(e.partition("-")[0]) == wanted
    ]
    if len(found) != 1:
        return None
    try:
        with open(os.path.join(site, found[0], "METADATA"), encoding="utf-8") as f:
            for line in f:
                if line.startswith("Version:"):
                    return line.partition(":")[2].strip()
                if not line.strip():
                    break  # the headers end at the first blank line
    except OSError:
        pass
    return None


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def _version_from_metadata(dist: str) -> str | None:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version

    try:
        return version(dist)
    except PackageNotFoundError:
        return None


def _release(version: str) -> tuple[int, ...]:
    match = re.match(r"\d+(?:\.\d+)*", version)
    return tuple(int(p) for p in match.group().split(".")) if match else ()


def _in_range(version: str, low: str, high: str | None) -> bool:
    v = _release(version)
    return v >= _release(low) and (high is None or v < _release(high))
