"""Intersphinx without a network: inventories made from the installed libraries.

The build machines reach package registries only, so intersphinx cannot
download ``objects.inv`` from the libraries' sites. This extension writes an
inventory for each library from what is installed (the names a module
exposes) and the URL layout of the library's documentation, then points
``intersphinx_mapping`` at those files. Links therefore go to the real
documentation pages; a name the layout does not cover stays plain text.
"""

from __future__ import annotations

import builtins
import importlib
import inspect
import typing as t
import zlib
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.config import Config

PYTHON = "https://docs.python.org/3/"
WERKZEUG = "https://werkzeug.palletsprojects.com/en/stable/"
JINJA = "https://jinja.palletsprojects.com/en/stable/"
CLICK = "https://click.palletsprojects.com/en/stable/"

#: Standard library modules our annotations and prose refer to. A module
#: maps to ``library/<module>.html``; submodules with their own page are
#: listed by their full name.
STDLIB_MODULES = [
    "asyncio", "collections", "collections.abc", "concurrent.futures", "contextlib",
    "contextvars", "dataclasses", "datetime", "decimal", "enum", "functools",
    "importlib", "importlib.metadata", "inspect", "io", "json", "logging", "os",
    "os.path", "pathlib", "re", "tempfile", "threading", "types", "typing", "uuid",
    "warnings", "http", "http.cookies", "urllib.parse", "wsgiref", "ssl", "socket",
]

#: Werkzeug module -> documentation page. Objects are documented under
#: their public module; the defining module is recorded as an alias.
WERKZEUG_PAGES = {
    "werkzeug.wrappers": "wrappers/",
    "werkzeug.routing": "routing/",
    "werkzeug.exceptions": "exceptions/",
    "werkzeug.datastructures": "datastructures/",
    "werkzeug.utils": "utils/",
    "werkzeug.security": "utils/",
    "werkzeug.http": "http/",
    "werkzeug.test": "test/",
    "werkzeug.serving": "serving/",
    "werkzeug.local": "local/",
    "werkzeug.urls": "urls/",
    "werkzeug.wsgi": "wsgi/",
    "werkzeug.middleware.proxy_fix": "middleware/proxy_fix/",
    "werkzeug.middleware.dispatcher": "middleware/dispatcher/",
    "werkzeug.middleware.shared_data": "middleware/shared_data/",
}


def _role(obj: object) -> str:
    if inspect.isclass(obj):
        return "exception" if issubclass(obj, BaseException) else "class"
    if inspect.ismodule(obj):
        return "module"
    if callable(obj):
        return "function"
    return "data"


Entry = tuple[str, str, str]  # name, role, uri


def _module_entries(module: str, page: str, *, public_module: str | None = None) -> list[Entry]:
    try:
        mod = importlib.import_module(module)
    except ImportError:
        return []
    shown = public_module or module
    entries: list[Entry] = [(shown, "module", page)]
    for name in getattr(mod, "__all__", None) or dir(mod):
        if name.startswith("_"):
            continue
        obj = getattr(mod, name, None)
        if obj is None or inspect.ismodule(obj):
            continue
        role = _role(obj)
        anchor = f"{page}#{shown}.{name}"
        entries.append((f"{shown}.{name}", role, anchor))
        defined_in = getattr(obj, "__module__", None)
        if role in ("class", "exception", "function") and defined_in and defined_in != shown:
            entries.append((f"{defined_in}.{name}", role, anchor))
        if inspect.isclass(obj):
            for attr, value in vars(obj).items():
                if attr.startswith("_"):
                    continue
                kind = "method" if callable(value) else "attribute"
                entries.append((f"{shown}.{name}.{attr}", kind, f"{anchor}.{attr}"))
                if defined_in and defined_in != shown:
                    entries.append((f"{defined_in}.{name}.{attr}", kind, f"{anchor}.{attr}"))
    return entries


def python_entries() -> list[Entry]:
    entries: list[Entry] = []
    for module in STDLIB_MODULES:
        entries += _module_entries(module, f"library/{module}.html")
    for name, obj in vars(builtins).items():
        if name.startswith("_"):
            continue
        if inspect.isclass(obj) and issubclass(obj, BaseException):
            entries.append((name, "exception", f"library/exceptions.html#{name}"))
        elif inspect.isclass(obj):
            entries.append((name, "class", f"library/stdtypes.html#{name}"))
        elif callable(obj):
            entries.append((name, "function", f"library/functions.html#{name}"))
    return entries


def werkzeug_entries() -> list[Entry]:
    entries: list[Entry] = []
    for module, page in WERKZEUG_PAGES.items():
        entries += _module_entries(module, page)
    return entries


def single_page_entries(modules: t.Iterable[str], page: str) -> list[Entry]:
    entries: list[Entry] = []
    for module in modules:
        entries += _module_entries(module, page)
    return entries


def write_inventory(path: Path, project: str, version: str, entries: list[Entry]) -> None:
    """Write ``entries`` in Sphinx's inventory format (version 2)."""
    seen: set[tuple[str, str]] = set()
    lines = []
    for name, role, uri in entries:
        if (name, role) in seen or " " in name:
            continue
        seen.add((name, role))
        lines.append(f"{name} py:{role} 1 {uri} -\n")
    header = (
        "# Sphinx inventory version 2\n"
        f"# Project: {project}\n"
        f"# Version: {version}\n"
        "# The remainder of this file is compressed using zlib.\n"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(header.encode() + zlib.compress("".join(lines).encode()))


def _version(dist: str) -> str:
    from importlib.metadata import version

    return version(dist)


def make_inventories(app: Sphinx, config: Config) -> None:
    out = Path(app.outdir).parent / "inventories"
    sources = {
        "python": (PYTHON, "Python", "3", python_entries),
        "werkzeug": (WERKZEUG, "Werkzeug", _version("werkzeug"), werkzeug_entries),
        "jinja": (JINJA, "Jinja", _version("jinja2"), lambda: single_page_entries(
            ["jinja2", "jinja2.sandbox", "jinja2.ext", "jinja2.loaders"], "api/")),
        "click": (CLICK, "Click", _version("click"), lambda: single_page_entries(
            ["click", "click.testing"], "api/")),
    }
    mapping = {}
    for key, (url, project, version, entries) in sources.items():
        path = out / f"{key}.inv"
        write_inventory(path, project, version, entries())
        mapping[key] = (url, str(path))
    config.intersphinx_mapping = mapping


def setup(app: Sphinx) -> dict[str, t.Any]:
    # Before intersphinx reads the mapping (it does so at builder-inited).
    app.connect("config-inited", make_inventories, priority=100)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
