"""The ``flask shell`` and ``flask routes`` commands and the parameter types
of ``flask run``.

Private to :mod:`flask.cli`, which re-exports the public names.
"""

from __future__ import annotations

import collections.abc as cabc
import os
import sys
import typing as t

import click
from werkzeug.utils import import_string

from ._cli_discovery import with_appcontext
from .globals import current_app


# Not subscripted: ParamType is generic only from Click 8.5 on.
class CertParamType(click.ParamType):  # type: ignore[type-arg]
    """``--cert`` value: a certificate file, ``adhoc``, or the import name of
    an :class:`ssl.SSLContext`.
    """

    name = "path"

    def __init__(self) -> None:
        self.path_type = click.Path(exists=True, dir_okay=False, resolve_path=True)

    def convert(
        self, value: t.Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> t.Any:
        try:
            import ssl
        except ImportError:
            raise click.BadParameter(
                'Using "--cert" requires Python to be compiled with SSL support.',
                ctx,
                param,
            ) from None

        try:
            return self.path_type(value, param, ctx)
        except click.BadParameter:
            value = click.STRING(value, param, ctx).lower()

            if value == "adhoc":
                try:
                    import cryptography  # noqa: F401
                except ImportError:
                    raise click.BadParameter(
                        "Using ad-hoc certificates requires the cryptography"
                        " library.",
                        ctx,
                        param,
                    ) from None

                return value

            obj = import_string(value, silent=True)

            if isinstance(obj, ssl.SSLContext):
                return obj

            raise


def _validate_key(ctx: click.Context, param: click.Parameter, value: t.Any) -> t.Any:
    """Check ``--key`` against ``--cert`` (eager, so already parsed) and
    combine a cert file and key file into the ``cert`` parameter.
    """
    cert = ctx.params.get("cert")
    is_adhoc = cert == "adhoc"

    try:
        import ssl
    except ImportError:
        is_context = False
    else:
        is_context = isinstance(cert, ssl.SSLContext)

    if value is not None:
        if is_adhoc:
            raise click.BadParameter(
                'When "--cert" is "adhoc", "--key" is not used.', ctx, param
            )

        if is_context:
            raise click.BadParameter(
                'When "--cert" is an SSLContext object, "--key" is not used.',
                ctx,
                param,
            )

        if not cert:
            raise click.BadParameter('"--cert" must also be specified.', ctx, param)

        ctx.params["cert"] = cert, value
    elif cert and not (is_adhoc or is_context):
        raise click.BadParameter('Required when using "--cert".', ctx, param)

    return value


class SeparatedPathType(click.Path):
    """A list of paths separated like ``PATH`` (``:``, or ``;`` on
    Windows), each checked as a :class:`click.Path`.
    """

    def convert(
        self, value: t.Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> t.Any:
        if isinstance(value, str):
            items: cabc.Iterable[t.Any] = self.split_envvar_value(value)
        else:
            items = value

        return [super(SeparatedPathType, self).convert(item, param, ctx) for item in items]


@click.command("shell", short_help="Run a shell in the app context.")
@with_appcontext
def shell_command() -> None:
    """Run an interactive Python shell in the context of the Flask
    application, with the names from the app's shell context processors
    available.
    """
    import code

    banner = (
        f"Python {sys.version} on {sys.platform}\n"
        f"App: {current_app.import_name}\n"
        f"Instance: {current_app.instance_path}"
    )
    namespace: dict[str, t.Any] = {}

    # Behave like the plain interpreter, which runs this file on start.
    startup = os.environ.get("PYTHONSTARTUP")

    if startup and os.path.isfile(startup):
        with open(startup) as f:
            eval(compile(f.read(), startup, "exec"), namespace)

    namespace.update(current_app.make_shell_context())

    # Set by the site module when the interpreter is interactive; it sets up
    # readline history, and we add tab completion over the shell's names.
    interactive_hook = getattr(sys, "__interactivehook__", None)

    if interactive_hook is not None:
        try:
            import readline
            from rlcompleter import Completer
        except ImportError:
            pass
        else:
            readline.set_completer(Completer(namespace).complete)

        interactive_hook()

    code.interact(banner=banner, local=namespace)


@click.command("routes", short_help="Show the routes for the app.")
@click.option(
    "--sort",
    "-s",
    type=click.Choice(("endpoint", "methods", "domain", "rule", "match")),
    default="endpoint",
    help=(
        "Method to sort routes by. 'match' is the order that Flask will match"
        " routes when dispatching a request."
    ),
)
@click.option("--all-methods", is_flag=True, help="Show HEAD and OPTIONS methods.")
@with_appcontext
def routes_command(sort: str, all_methods: bool) -> None:
    """Show all registered routes with endpoints and methods."""
    url_map = current_app.url_map
    rules = list(url_map.iter_rules())

    if not rules:
        click.echo("No routes were registered.")
        return

    hidden_methods = set() if all_methods else {"HEAD", "OPTIONS"}
    domain_attr = "host" if url_map.host_matching else "subdomain"
    show_domain = any(getattr(rule, domain_attr) for rule in rules)

    # Columns as (sort key, header); the domain column only when used.
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
