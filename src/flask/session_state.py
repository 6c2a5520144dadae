"""What the request path (:mod:`flask.pipeline`, its plain answer
included) asks of a request's session without opening it, and
``Flask.session_interface`` until its first use.

A request that neither touches the session nor sends a cookie never opens
it, and never imports the session machinery (ItsDangerous, hashing,
tagged JSON): :class:`DefaultSessionInterface` stands in for Flask's
cookie interface until something reads it.
"""

from __future__ import annotations

import typing as t

if t.TYPE_CHECKING:  # pragma: no cover
    from .app import Flask
    from .ctx import RequestContext
    from .sessions import SessionInterface


class DefaultSessionInterface:
    """``Flask.session_interface`` until it is first used: then one shared
    :class:`~flask.sessions.SecureCookieSessionInterface`. Assigning on a
    subclass or an app replaces it as usual. The session machinery
    (ItsDangerous, hashing, tagged JSON) is imported only then, which a
    request that neither touches the session nor sends a cookie never does.
    """

    #: Set once the shared interface exists (the request path then stops
    #: asking whether an app still uses this placeholder).
    resolved = False

    def __set_name__(self, owner: type, name: str) -> None:
        self._owner = owner
        self._name = name

    def __get__(self, obj: object, owner: type | None = None) -> SessionInterface:
        from .sessions import SecureCookieSessionInterface

        interface = SecureCookieSessionInterface()
        # Later reads find the instance on the class itself, not this object.
        setattr(self._owner, self._name, interface)
        DefaultSessionInterface.resolved = True
        return interface


def default_session_pending(app: Flask) -> bool:
    """Whether ``app.session_interface`` is still the unresolved placeholder,
    found without reading it (which would create the interface)."""
    if "session_interface" in app.__dict__:
        return False
    for klass in type(app).__mro__:
        found = klass.__dict__.get("session_interface")
        if found is not None:
            return type(found) is DefaultSessionInterface
    return False


def session_needs_saving(app: Flask, ctx: RequestContext) -> bool:
    """Open the session now if saving it could change the response.

    An untouched cookie session only matters when the request carried the
    cookie (a permanent session is refreshed); other interfaces may rely on
    every request, so they are always given the chance.
    """
    loaded = ctx._session_obj is not None  # session_loaded, without its call
    if not loaded and "HTTP_COOKIE" not in ctx.request.environ:
        if not DefaultSessionInterface.resolved and default_session_pending(app):
            # Flask's cookie session, not created yet: without a cookie
            # there is nothing to save or refresh.
            return False
        interface = app.session_interface
        if getattr(interface, "_cookie_based", False):
            return False
    else:
        interface = app.session_interface
        if (
            not loaded
            and getattr(interface, "_cookie_based", False)
            and interface.get_cookie_name(app) not in ctx.request.cookies
        ):
            return False
    return not interface.is_null_session(ctx.session)


def session_is_cheap(app: Flask, ctx: RequestContext) -> bool:
    """Whether opening (and saving) the session cannot block: it is open
    already, or it is Flask's cookie session (other interfaces may do I/O)."""
    return ctx.session_loaded or getattr(app.session_interface, "_cookie_based", False)
