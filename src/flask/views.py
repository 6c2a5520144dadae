"""Class-based views: :class:`View` and the per-HTTP-method
:class:`MethodView`.
"""

from __future__ import annotations

import typing as t

from .globals import current_app
from .globals import request

if t.TYPE_CHECKING:  # pragma: no cover
    from .typing import ResponseReturnValue
    from .typing import RouteCallable

http_method_funcs = frozenset(
    ["get", "post", "head", "options", "delete", "put", "trace", "patch"]
)


class View:
    """Base class for class-based views. Subclasses implement
    :meth:`dispatch_request` and are registered with :meth:`as_view`::

        class Hello(View):
            def dispatch_request(self, name):
                return f"Hello, {name}!"

        app.add_url_rule("/hello/<name>", view_func=Hello.as_view("hello"))

    Class attributes set on the subclass configure the generated view
    function the same way attributes on a plain view function do.
    """

    #: The HTTP methods the view accepts, used by ``add_url_rule`` when no
    #: ``methods`` argument is given.
    methods: t.ClassVar[t.Collection[str] | None] = None

    #: Whether the app answers ``OPTIONS`` automatically. ``None`` lets
    #: the app decide (it does unless ``OPTIONS`` is in ``methods``).
    provide_automatic_options: t.ClassVar[bool | None] = None

    #: Decorators applied, in order, to the generated view function. The
    #: class itself is not decorated, so decorators see the function.
    decorators: t.ClassVar[list[t.Callable[..., t.Any]]] = []

    #: Create a new instance for every request. Set to ``False`` to build
    #: one instance in :meth:`as_view` and reuse it; then nothing
    #: request-specific may be stored on ``self``.
    init_every_request: t.ClassVar[bool] = True

    def dispatch_request(self) -> ResponseReturnValue:
        """Handle a request; URL variables arrive as keyword arguments."""
        raise NotImplementedError()

    @classmethod
    def as_view(
        cls, name: str, *class_args: t.Any, **class_kwargs: t.Any
    ) -> RouteCallable:
        """Return a view function for this class, registered under
        ``name``. ``class_args`` and ``class_kwargs`` are passed to the
        constructor. The function's ``view_class`` attribute points at the
        class and is read at call time, so it may be replaced.
        """
        if cls.init_every_request:

            def view(**kwargs: t.Any) -> ResponseReturnValue:
                # ``outer`` is the final (possibly decorated) function.
                instance = outer.view_class(*class_args, **class_kwargs)
                handler = current_app.ensure_sync(instance.dispatch_request)
                return handler(**kwargs)  # type: ignore[no-any-return]  # ensure_sync returns the view's own return value

        else:
            shared = cls(*class_args, **class_kwargs)

            def view(**kwargs: t.Any) -> ResponseReturnValue:
                handler = current_app.ensure_sync(shared.dispatch_request)
                return handler(**kwargs)  # type: ignore[no-any-return]  # ensure_sync returns the view's own return value

        # Named before decorating: decorators often rely on the name.
        view.__name__ = name
        view.__module__ = cls.__module__
        outer: t.Any = view
        for decorator in cls.decorators:
            outer = decorator(outer)

        outer.view_class = cls
        outer.__name__ = name
        outer.__doc__ = cls.__doc__
        outer.__module__ = cls.__module__
        outer.methods = cls.methods
        outer.provide_automatic_options = cls.provide_automatic_options
        return outer  # type: ignore[no-any-return]  # the wrapper is the view function Flask registers


class MethodView(View):
    """Dispatch each request to the method named after the lowercase HTTP
    method (``get``, ``post``, ...). ``methods`` is filled in from the
    handlers a subclass defines or inherits, unless set explicitly.
    ``HEAD`` falls back to ``get`` when no ``head`` handler exists.
    """

    def __init_subclass__(cls, **kwargs: t.Any) -> None:
        super().__init_subclass__(**kwargs)

        if "methods" in cls.__dict__:
            return

        found: set[str] = set()
        for base in cls.__bases__:
            base_methods = getattr(base, "methods", None)
            if base_methods:
                found.update(base_methods)
        found.update(name.upper() for name in http_method_funcs if hasattr(cls, name))

        if found:
            cls.methods = found

    def dispatch_request(self, **kwargs: t.Any) -> ResponseReturnValue:
        method = request.method
        handler = getattr(self, method.lower(), None)
        if handler is None and method == "HEAD":
            handler = getattr(self, "get", None)
        assert handler is not None, f"Unimplemented method {method!r}"
        return current_app.ensure_sync(handler)(**kwargs)  # type: ignore[no-any-return]  # ensure_sync returns the handler's own return value
