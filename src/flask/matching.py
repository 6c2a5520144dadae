"""Matching a request to a URL rule without binding a ``MapAdapter``.

``Map.bind_to_environ`` re-derives the server name, scheme and script root
on every request; it was 15% of a hello-world request's profile. For the
common set-up (no host or subdomain matching, no trusted-hosts check) the
only inputs to matching are the path and the method, so this module asks
Werkzeug's compiled matcher directly. Anything unusual (redirects, alias
rules, websockets) is left to the full adapter, which then decides exactly
as Werkzeug always does. URL building stays in :mod:`flask.routing`.
"""

from __future__ import annotations

import typing as t

from werkzeug.exceptions import MethodNotAllowed
from werkzeug.exceptions import NotFound
from werkzeug.routing.exceptions import NoMatch

if t.TYPE_CHECKING:  # pragma: no cover
    from werkzeug.routing import Map

    from .wrappers import Request


def match_directly(url_map: Map, request: Request) -> bool:
    """Set ``request.url_rule`` and ``view_args`` (or ``routing_exception``)
    and return True; return False when the full adapter must decide."""
    environ = request.environ
    if "HTTP_UPGRADE" in environ:
        # Possibly a websocket upgrade, which changes what may match.
        return False
    url_map.update()
    path = environ.get("PATH_INFO") or ""
    if path:
        # WSGI gives the path as latin-1 decoded bytes; URLs are UTF-8.
        path = "/" + path.encode("latin1").decode(errors="replace").lstrip("/")
    try:
        rule, values = url_map._matcher.match(
            url_map.default_subdomain or "", path, request.method, False
        )
    except NoMatch as e:
        if e.websocket_mismatch:
            return False
        if e.have_match_for:
            request.routing_exception = MethodNotAllowed(
                valid_methods=list(e.have_match_for)
            )
        else:
            request.routing_exception = NotFound()
        return True
    except Exception:
        # Slash and alias redirects need the bound adapter to build a URL.
        return False
    if rule.redirect_to is not None or (
        url_map.redirect_defaults and len(url_map._rules_by_endpoint[rule.endpoint]) > 1
    ):
        return False
    request.url_rule = rule
    request.view_args = values
    return True
