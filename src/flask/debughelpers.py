"""Exceptions and hooks that turn common debug-mode mistakes into
readable explanations.

Nothing here runs on the normal request path: the app only reaches for
these helpers when ``debug`` or ``EXPLAIN_TEMPLATE_LOADING`` is enabled.
"""

from __future__ import annotations

import typing as t

from .globals import _cv_request

if t.TYPE_CHECKING:  # pragma: no cover
    from .app import Flask
    from .wrappers import Request

_TEMPLATES_DOCS = "https://flask.palletsprojects.com/blueprints/#templates"


class UnexpectedUnicodeError(AssertionError, UnicodeError):
    """Raised where text or binary data of the wrong kind shows up and a
    clearer message than a bare ``UnicodeError`` helps.
    """


class DebugFilesKeyError(KeyError, AssertionError):
    """Raised in debug mode when ``request.files[key]`` is missing because
    the form was not sent as ``multipart/form-data``.
    """

    def __init__(self, request: Request, key: str) -> None:
        submitted = request.form.getlist(key)
        parts = [
            f"You tried to access the file {key!r} in the request.files"
            " dictionary but it does not exist. The mimetype for the"
            f" request is {request.mimetype!r} instead of"
            " 'multipart/form-data' which means that no file contents"
            " were transmitted. To fix this error you should provide"
            ' enctype="multipart/form-data" in your form.'
        ]
        if submitted:
            names = ", ".join(repr(name) for name in submitted)
            parts.append(
                "The browser instead transmitted some file names."
                f" This was submitted: {names}"
            )
        self.msg = "\n\n".join(parts)

    def __str__(self) -> str:
        # KeyError would otherwise repr() the message, quoting it.
        return self.msg


class FormDataRoutingRedirect(AssertionError):
    """Raised in debug mode when routing would answer a request that
    carries a body with a 301/302 redirect, which makes browsers drop the
    form data. 307 and 308 redirects keep the body and never raise this.
    """

    def __init__(self, request: Request) -> None:
        exc = request.routing_exception
        new_url = getattr(exc, "new_url", None)
        lines = [
            f"A request was sent to '{request.url}', but routing issued"
            f" a redirect to the canonical URL '{new_url}'."
        ]
        if new_url is not None and f"{request.base_url}/" == new_url.partition(
            "?"
        )[0]:
            lines.append(
                "The URL was defined with a trailing slash. Flask will"
                " redirect to the URL with a trailing slash if it was"
                " accessed without one."
            )
        lines.append(
            "Send requests to the canonical URL, or use 307 or 308 for"
            " routing redirects. Otherwise, browsers will drop form data."
        )
        lines.append("This exception is only raised in debug mode.")
        super().__init__("\n\n".join(lines))


def attach_enctype_error_multidict(request: Request) -> None:
    """Make ``request.files[key]`` raise :class:`DebugFilesKeyError`
    instead of a plain ``KeyError`` when ``key`` was sent as a form field.

    The class of the existing ``files`` object is swapped for a subclass so
    that only this request is affected.
    """
    files = request.files
    base = type(files)

    class _ExplainingFiles(base):  # type: ignore[valid-type, misc]  # subclasses the runtime class of request.files
        def __getitem__(self, key: str) -> t.Any:
            try:
                return super().__getitem__(key)
            except KeyError as e:
                if key not in request.form:
                    raise
                raise DebugFilesKeyError(request, key).with_traceback(
                    e.__traceback__
                ) from None

    _ExplainingFiles.__name__ = base.__name__
    _ExplainingFiles.__qualname__ = base.__qualname__
    _ExplainingFiles.__module__ = base.__module__
    files.__class__ = _ExplainingFiles


def _describe_source(app: Flask, source: t.Any) -> str:
    if source is app:
        return f"application {source.import_name!r}"
    return f"blueprint {source.name!r} ({source.import_name})"


def explain_template_loading_attempts(
    app: Flask,
    template: str,
    attempts: list[tuple[t.Any, t.Any, tuple[str, str | None, t.Any] | None]],
) -> None:
    """Log, at info level on ``app.logger``, which loaders were asked for
    ``template`` and what each one answered.

    ``attempts`` holds ``(loader, app_or_blueprint, get_source_result)``
    triples, the result being ``None`` when the loader had no match.
    """
    lines = [f"Locating template {template!r}:"]
    found = 0

    for number, (loader, source, result) in enumerate(attempts, 1):
        loader_cls = type(loader)
        lines.append(f"{number:5}: trying loader of {_describe_source(app, source)}")
        lines.append(f"       class: {loader_cls.__module__}.{loader_cls.__name__}")
        if result is None:
            lines.append("       -> no match")
        else:
            found += 1
            lines.append(f"       -> found ({result[1] or '<string>'!r})")

    if found == 0:
        lines.append("Error: the template could not be found.")
    elif found > 1:
        lines.append("Warning: multiple loaders returned a match for the template.")

    # A miss or an ambiguity inside a blueprint view usually means the
    # template sits in the wrong folder, so point at the docs.
    req_ctx = _cv_request.get(None)
    blueprint = req_ctx.request.blueprint if req_ctx is not None else None
    if blueprint is not None and found != 1:
        lines.append(
            "  The template was looked up from an endpoint that belongs"
            f" to the blueprint {blueprint!r}."
        )
        lines.append("  Maybe you did not place a template in the right folder?")
        lines.append(f"  See {_TEMPLATES_DOCS}")

    app.logger.info("\n".join(lines))
