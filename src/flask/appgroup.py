"""The Click group of an app's or blueprint's commands (``app.cli``),
public as :class:`flask.cli.AppGroup`.

Here rather than in the ``flask.cli`` package because :class:`~flask.scaffold.Scaffold`
creates one for every app and blueprint: the package reaches the request
path (``flask run`` over ASGI), so the app structure may not import it.
This module imports only Click and app discovery, which sit below.
"""

from __future__ import annotations

import typing as t

import click

from .discovery import with_appcontext


class AppGroup(click.Group):
    """A click group whose commands run in an app context by default.

    Pass ``with_appcontext=False`` to :meth:`command` to opt out. Sub-groups
    made with :meth:`group` are :class:`AppGroup` too.
    """

    @t.overload
    def command(self, func: t.Callable[..., t.Any], /) -> click.Command: ...

    @t.overload
    def command(
        self, *args: t.Any, **kwargs: t.Any
    ) -> t.Callable[[t.Callable[..., t.Any]], click.Command]: ...

    def command(
        self, *args: t.Any, **kwargs: t.Any
    ) -> t.Callable[[t.Callable[..., t.Any]], click.Command] | click.Command:
        """Like :meth:`click.Group.command`, wrapping the callback with
        :func:`with_appcontext` unless ``with_appcontext=False`` is given.
        """
        if len(args) == 1 and callable(args[0]) and not kwargs:
            # Used bare, as ``@group.command``.
            return self.command()(args[0])

        wrap = kwargs.pop("with_appcontext", True)
        make = super().command(*args, **kwargs)

        def decorator(f: t.Callable[..., t.Any]) -> click.Command:
            made: click.Command = make(with_appcontext(f) if wrap else f)
            return made

        return decorator

    @t.overload
    def group(self, func: t.Callable[..., t.Any], /) -> click.Group: ...

    @t.overload
    def group(
        self, *args: t.Any, **kwargs: t.Any
    ) -> t.Callable[[t.Callable[..., t.Any]], click.Group]: ...

    def group(
        self, *args: t.Any, **kwargs: t.Any
    ) -> t.Callable[[t.Callable[..., t.Any]], click.Group] | click.Group:
        """Like :meth:`click.Group.group`, defaulting ``cls`` to
        :class:`AppGroup`.
        """
        kwargs.setdefault("cls", AppGroup)
        made: t.Callable[[t.Callable[..., t.Any]], click.Group] | click.Group
        made = super().group(*args, **kwargs)
        return made
