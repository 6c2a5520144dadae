"""The ``flask shell`` and ``flask routes`` commands and the parameter types
and TLS options of ``flask run``.

Private to :mod:`flask.cli`, which re-exports the public names.
"""

from __future__ import annotations

import collections.abc as cabc
import contextlib
import importlib
import os
import sys
import typing as t

import click
from werkzeug.utils import import_string

from ..discovery import with_appcontext
from ..globals import current_app

if t.TYPE_CHECKING:
    from types import ModuleType

F = t.TypeVar("F", bound=t.Callable[..., t.Any])


def optional_import(name: str) -> ModuleType | None:
    """The module ``name``, or ``None`` if this optional dependency can't be
    imported.
    """
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def _require_cryptography(ctx: click.Context | None, param: click.Parameter | None) -> None:
    # Werkzeug makes ad-hoc certificates with it; say so before the server
    # starts rather than when it fails to.
    if optional_import("cryptography") is None:
        raise click.BadParameter(
            "Using ad-hoc certificates requires the cryptography library.",
            ctx,
            param,
        )


def _existing_file() -> click.Path:
    # What --cert and --key accept as a file.
    return click.Path(exists=True, dir_okay=False, resolve_path=True)


if t.TYPE_CHECKING:
    # Generic in the Click the project type-checks with, not in Click 8.1.
    _ParamType = click.ParamType[t.Any]
else:
    _ParamType = click.ParamType


class CertParamType(_ParamType):
    """``--cert`` value: a certificate file, ``adhoc``, or the import name of
    an :class:`ssl.SSLContext`, tried in that order.
    """

    name = "path"

    def __init__(self) -> None:
        self.path_type = _existing_file()

    def convert(
        self, value: t.Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> t.Any:
        ssl = optional_import("ssl")

        if ssl is None:
            raise click.BadParameter(
                'Using "--cert" requires Python to be compiled with SSL support.',
                ctx,
                param,
            )

        try:
            return self.path_type(value, param, ctx)
        except click.BadParameter:
            # Not a file. If it isn't one of the other forms either, the
            # file error is the one to show.
            text = click.STRING(value, param, ctx) or ""
            other = self._not_a_file(text.lower(), ssl, param, ctx)

            if other is None:
                raise

            return other

    def _not_a_file(
        self,
        text: str,
        ssl: ModuleType,
        param: click.Parameter | None,
        ctx: click.Context | None,
    ) -> t.Any:
        if text == "adhoc":
            _require_cryptography(ctx, param)
            return text

        imported = import_string(text, silent=True)
        return imported if isinstance(imported, ssl.SSLContext) else None


def _cert_kind(cert: t.Any) -> str:
    if not cert:
        return "none"

    if cert == "adhoc":
        return "adhoc"

    ssl = optional_import("ssl")

    if ssl is not None and isinstance(cert, ssl.SSLContext):
        return "context"

    return "file"


# What is wrong with a ``--key`` given (True) or not (False) for each kind of
# ``--cert``; combinations not listed are fine.
_KEY_PROBLEMS = {
    (True, "adhoc"): 'When "--cert" is "adhoc", "--key" is not used.',
    (True, "context"): 'When "--cert" is an SSLContext object, "--key" is not used.',
    (True, "none"): '"--cert" must also be specified.',
    (False, "file"): 'Required when using "--cert".',
}


def _validate_key(ctx: click.Context, param: click.Parameter, value: t.Any) -> t.Any:
    """Check ``--key`` against ``--cert`` (eager, so already parsed) and
    fold a key file into the ``cert`` parameter as ``(cert, key)``.
    """
    cert = ctx.params.get("cert")
    problem = _KEY_PROBLEMS.get((value is not None, _cert_kind(cert)))

    if problem is not None:
        raise click.BadParameter(problem, ctx, param)

    if value is not None:
        ctx.params["cert"] = cert, value

    return value


def tls_options(f: F) -> F:
    """Add ``--cert`` and ``--key`` to a command. The key never reaches the
    callback on its own: it is folded into ``cert``.
    """
    key = click.option(
        "--key",
        callback=_validate_key,
        expose_value=False,
        type=_existing_file(),
        help="The key file to use when specifying a certificate.",
    )
    # Eager, so the key's callback sees the parsed certificate.
    cert = click.option(
        "--cert",
        is_eager=True,
        type=CertParamType(),
        help="Specify a certificate file to use HTTPS.",
    )
    return cert(key(f))


class SeparatedPathType(click.Path):
    """A list of paths separated like ``PATH`` (``:``, or ``;`` on
    Windows), each checked as a :class:`click.Path`.
    """

    def convert(
        self, value: t.Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> t.Any:
        items: cabc.Iterable[t.Any] = (
            self.split_envvar_value(value) if isinstance(value, str) else value
        )
        check = super().convert
        return [check(item, param, ctx) for item in items]


def _startup_namespace() -> dict[str, t.Any]:
    """The globals ``$PYTHONSTARTUP`` defines, as the plain interactive
    interpreter would have them.
    """
    namespace: dict[str, t.Any] = {}
    startup = os.environ.get("PYTHONSTARTUP")

    if startup and os.path.isfile(startup):
        with open(startup) as f:
            eval(compile(f.read(), startup, "exec"), namespace)

    return namespace


def _prepare_interactive(namespace: dict[str, t.Any]) -> None:
    # The site module sets this hook when the interpreter is interactive: it
    # sets up readline and its history. Completion should offer the shell's
    # names, not those of this module.
    site_hook = getattr(sys, "__interactivehook__", None)

    if site_hook is None:
        return

    with contextlib.suppress(ImportError):
        import readline
        from rlcompleter import Completer

        readline.set_completer(Completer(namespace).complete)

    site_hook()


@click.command(
    "shell",
    short_help="Run a shell in the app context.",
    help=(
        "Run an interactive Python shell in the context of the Flask"
        " application, with the names from the app's shell context"
        " processors available."
    ),
)
@with_appcontext
def shell_command() -> None:
    import code

    namespace = _startup_namespace()
    namespace.update(current_app.make_shell_context())
    _prepare_interactive(namespace)
    code.interact(
        banner=(
            f"Python {sys.version} on {sys.platform}\n"
            f"App: {current_app.import_name}\n"
            f"Instance: {current_app.instance_path}"
        ),
        local=namespace,
    )


# The columns of ``flask routes`` ("domain" only shown when a rule has one),
# and "match" for the URL map's own order.
_ROUTE_SORTS = ("endpoint", "methods", "domain", "rule", "match")


@click.command(
    "routes",
    short_help="Show the routes for the app.",
    help="Show all registered routes with endpoints and methods.",
)
@click.option(
    "--sort",
    "-s",
    default="endpoint",
    type=click.Choice(_ROUTE_SORTS),
    help=(
        "Method to sort routes by. 'match' is the order that Flask will match"
        " routes when dispatching a request."
    ),
)
@click.option("--all-methods", is_flag=True, help="Show HEAD and OPTIONS methods.")
@with_appcontext
def routes_command(sort: str, all_methods: bool) -> None:
    url_map = current_app.url_map
    rules = list(url_map.iter_rules())

    if not rules:
        click.echo("No routes were registered.")
        return

    hidden_methods = set() if all_methods else {"HEAD", "OPTIONS"}
    domain_attr = "host" if url_map.host_matching else "subdomain"
    show_domain = any(getattr(rule, domain_attr) for rule in rules)

    columns = [("endpoint", "Endpoint"), ("methods", "Methods")]

    if show_domain:
        columns.append(("domain", "Host" if url_map.host_matching else "Subdomain"))

    columns.append(("rule", "Rule"))
    rows = []

    for rule in rules:
        cells = {
            "endpoint": rule.endpoint,
            "methods": "WEBSOCKET"
            if rule.websocket
            else ", ".join(sorted((rule.methods or set()) - hidden_methods)),
            "domain": getattr(rule, domain_attr) or "",
            "rule": rule.rule,
        }
        rows.append([cells[key] for key, _ in columns])

    keys = [key for key, _ in columns]

    # "match" (or "domain" without the column) keeps the URL map's order.
    if sort in keys:
        index = keys.index(sort)
        rows.sort(key=lambda row: row[index])

    headers = [header for _, header in columns]
    widths = [max(len(row[i]) for row in [headers, *rows]) for i in range(len(headers))]

    def render(cells: list[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()

    click.echo(render(headers))
    click.echo(render(["-" * width for width in widths]))

    for row in rows:
        click.echo(render(row))
