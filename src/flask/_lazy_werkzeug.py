"""Import Werkzeug's package without its development server and test client.

``werkzeug/__init__.py`` re-exports ``run_simple``, ``Client``, ``Request``
and ``Response``, so any ``import werkzeug.x`` also imports
``werkzeug.serving`` (``http.server``, ``ssl``, ``socketserver``) and
``werkzeug.test``. Serving a request needs neither: they were 15 ms of a
100 ms ``import flask``. When that file is exactly those four re-exports,
the package is set up here with the same names resolved on first access.
Any other content (a future Werkzeug) is imported normally.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import typing as t

# What werkzeug/__init__.py re-exports, and from where.
_EXPORTS = {
    "run_simple": "serving",
    "Client": "test",
    "Request": "wrappers",
    "Response": "wrappers",
}
_EXPECTED = {f"from .{mod} import {name} as {name}" for name, mod in _EXPORTS.items()}


def _read_lines(path: str) -> set[str]:
    with open(path, encoding="utf-8") as f:
        return {line.strip() for line in f if line.strip()}


def install() -> None:
    """Set up a lazy ``werkzeug`` package, unless already imported or its
    ``__init__`` is not the one described above."""
    if "werkzeug" in sys.modules:
        return
    spec = importlib.util.find_spec("werkzeug")
    if spec is None or spec.origin is None or spec.loader is None:
        return
    try:
        if _read_lines(spec.origin) != _EXPECTED:
            return
    except OSError:
        return
    module = importlib.util.module_from_spec(spec)

    def __getattr__(name: str) -> t.Any:
        if name in _EXPORTS:
            value = getattr(importlib.import_module(f"werkzeug.{_EXPORTS[name]}"), name)
            setattr(module, name, value)
            return value
        if name.startswith("__"):
            raise AttributeError(name)
        # Real Werkzeug has imported most submodules by now; import on demand.
        try:
            return importlib.import_module(f"werkzeug.{name}")
        except ModuleNotFoundError as e:
            if e.name != f"werkzeug.{name}":
                raise
            raise AttributeError(f"module 'werkzeug' has no attribute {name!r}") from None

    module.__getattr__ = __getattr__  # type: ignore[method-assign]
    sys.modules["werkzeug"] = module
