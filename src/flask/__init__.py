"""Flask 3.1's API, implemented from scratch on Werkzeug, Jinja2 and friends.

Templating and CLI names are resolved on first access (PEP 562), so that
``import flask`` does not import Jinja2 or Click.
"""

from __future__ import annotations

import importlib
import sys
import typing as t

from . import json as json
from .app import Flask as Flask
from .blueprints import Blueprint as Blueprint
from .config import Config as Config
from .ctx import after_this_request as after_this_request
from .ctx import copy_current_request_context as copy_current_request_context
from .ctx import has_app_context as has_app_context
from .ctx import has_request_context as has_request_context
from .globals import current_app as current_app
from .globals import g as g
from .globals import request as request
from .globals import session as session
from .globals import websocket as websocket
from .helpers import abort as abort
from .helpers import flash as flash
from .helpers import get_flashed_messages as get_flashed_messages
from .helpers import get_template_attribute as get_template_attribute
from .helpers import make_response as make_response
from .helpers import redirect as redirect
from .helpers import send_file as send_file
from .helpers import send_from_directory as send_from_directory
from .helpers import stream_with_context as stream_with_context
from .helpers import url_for as url_for
from .json import jsonify as jsonify
from .signals import appcontext_popped as appcontext_popped
from .signals import appcontext_pushed as appcontext_pushed
from .signals import appcontext_tearing_down as appcontext_tearing_down
from .signals import before_render_template as before_render_template
from .signals import got_request_exception as got_request_exception
from .signals import message_flashed as message_flashed
from .signals import request_finished as request_finished
from .signals import request_started as request_started
from .signals import request_tearing_down as request_tearing_down
from .signals import template_rendered as template_rendered
from .wrappers import Request as Request
from .wrappers import Response as Response

#: Tells this implementation apart from Pallets Flask, whose distribution
#: name and version it shares (``importlib.metadata.version("flask")``).
__implementation__ = "nimble"

if t.TYPE_CHECKING:  # pragma: no cover
    from . import cli as cli
    from . import templating as templating
    from . import testing as testing
    from . import typing as typing
    from . import views as views
    from .templating import render_template as render_template
    from .templating import render_template_string as render_template_string
    from .templating import stream_template as stream_template
    from .templating import stream_template_string as stream_template_string
    from .sse import EventStream as EventStream
    from .sse import ServerSentEvent as ServerSentEvent

#: The public API, as documented on the API reference page.
__all__ = [
    "Blueprint",
    "Config",
    "EventStream",
    "Flask",
    "Request",
    "Response",
    "ServerSentEvent",
    "abort",
    "after_this_request",
    "appcontext_popped",
    "appcontext_pushed",
    "appcontext_tearing_down",
    "before_render_template",
    "copy_current_request_context",
    "current_app",
    "flash",
    "g",
    "get_flashed_messages",
    "get_template_attribute",
    "got_request_exception",
    "has_app_context",
    "has_request_context",
    "json",
    "jsonify",
    "make_response",
    "message_flashed",
    "redirect",
    "render_template",
    "render_template_string",
    "request",
    "request_finished",
    "request_started",
    "request_tearing_down",
    "send_file",
    "send_from_directory",
    "session",
    "stream_template",
    "stream_template_string",
    "stream_with_context",
    "template_rendered",
    "url_for",
    "websocket",
]

_LAZY_NAMES = {
    "render_template": "templating",
    "render_template_string": "templating",
    "stream_template": "templating",
    "stream_template_string": "templating",
    "EventStream": "sse",
    "ServerSentEvent": "sse",
}
_LAZY_MODULES = {"cli", "templating", "testing", "typing", "views", "debughelpers"}


def __getattr__(name: str) -> t.Any:
    if name in _LAZY_NAMES:
        module = importlib.import_module(f".{_LAZY_NAMES[name]}", __name__)
        value = getattr(module, name)
        # Cache on the module; the name `globals` here is flask.globals.
        setattr(sys.modules[__name__], name, value)
        return value
    if name in _LAZY_MODULES:
        return importlib.import_module(f".{name}", __name__)
    if name == "__version__":
        import warnings
        from importlib.metadata import version

        warnings.warn(
            "The '__version__' attribute is deprecated and will be removed in"
            " Flask 3.2. Use feature detection or"
            " 'importlib.metadata.version(\"flask\")' instead.",
            DeprecationWarning,
            stacklevel=2,
        )
        return version("flask")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
