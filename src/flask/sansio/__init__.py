"""The protocol-free core of an application: what Flask's structure is
without WSGI.

:class:`flask.sansio.app.App` holds the registries, configuration and setup
methods of an app; :class:`flask.Flask` adds the WSGI request path,
contexts, sessions and file serving on top of it. Likewise
:class:`flask.sansio.blueprints.Blueprint` is the base of
:class:`flask.Blueprint`, and :mod:`flask.sansio.scaffold` names what both
share. The module paths are Flask 3's, which extensions import (for
example ``App`` as "a Flask or a Quart app" in type hints).
"""
