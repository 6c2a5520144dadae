"""The public :class:`Blueprint`: :class:`flask.sansio.blueprints.Blueprint`
that also serves its static files and opens its resources.

``BlueprintSetupState`` is the protocol-free class itself.
"""

from __future__ import annotations

from .helpers import _FileServing
from .sansio.blueprints import Blueprint as SansioBlueprint
from .sansio.blueprints import BlueprintSetupState as BlueprintSetupState

__all__ = ["Blueprint", "BlueprintSetupState"]


class Blueprint(SansioBlueprint, _FileServing):
    """A group of views, hooks and templates registered onto an app later,
    possibly several times and under other blueprints.

    Takes :class:`~flask.scaffold.Scaffold`'s arguments plus ``url_prefix``,
    ``subdomain``, ``url_defaults`` (default view arguments for its routes) and
    ``cli_group`` (the CLI group its commands appear under; ``None`` puts them
    at the top level).
    """
