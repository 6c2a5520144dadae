"""Checks on the package's shape: import graph, module size, start-up
imports and the installed version (see docs/ARCHITECTURE.md)."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
import typing as t
from importlib.metadata import version
from pathlib import Path

import pytest

import flask

PACKAGE_DIR = Path(flask.__file__).resolve().parent
MAX_LINES = 600  # "modules under about 600 lines" (docs/ARCHITECTURE.md)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE_DIR.rglob("*.py"))}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _counted_nodes(nodes: t.Iterable[ast.AST]) -> t.Iterator[ast.AST]:
    """Every node that can run, at import time or later: module level,
    class bodies and function bodies alike, since an import inside a
    function is a dependency all the same (it only runs later). Only
    ``if TYPE_CHECKING:`` blocks are skipped (but not their ``else``)."""
    for node in nodes:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            yield from _counted_nodes(node.orelse)
            continue
        yield node
        yield from _counted_nodes(ast.iter_child_nodes(node))


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    if not is_package:
        base.pop()
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _imports_of(module: str, path: Path) -> set[str]:
    return _imports_in(module, path.read_text(encoding="utf-8"), path.name == "__init__.py")


def _imports_in(module: str, source: str, is_package: bool = False) -> set[str]:
    tree = ast.parse(source)
    found: set[str] = set()
    for node in _counted_nodes(tree.body):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(module, is_package, node)
            # ``from . import x`` imports the submodule x when there is one;
            # the package itself only counts when a name is taken from it.
            subs = {f"{target}.{a.name}" for a in node.names}
            found.update(subs & MODULES.keys())
            if not subs <= MODULES.keys():
                found.add(target)
    # Importing a.b.c runs a.b's __init__ first (the top package is always
    # already importing, so it is no edge). The same holds for the module's
    # own packages: a sibling import inside flask.cli runs no flask.cli code
    # that is not already running. Taking a name from the package itself
    # (``from . import name``) is still an edge, added above.
    own = {".".join(module.split(".")[:i]) for i in range(1, module.count(".") + 1)}
    for name in list(found):
        parts = name.split(".")
        found.update(
            prefix
            for prefix in (".".join(parts[:i]) for i in range(2, len(parts)))
            if prefix not in own
        )
    return {name for name in found if name in MODULES and name != module}


def _find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1 = on the stack, 2 = done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)):
            return cycle
    return None


def test_module_discovery_sanity():
    assert {"flask", "flask.app", "flask.ctx", "flask.json.provider"} <= set(MODULES)
    graph = {m: _imports_of(m, p) for m, p in MODULES.items()}
    assert "flask.app" in graph["flask"]
    assert "flask.sansio.app" in graph["flask.app"]
    # ``from ..json.provider import ...`` one package down.
    assert "flask.json.provider" in graph["flask.sansio.app"]


def test_import_scanner_skips_only_type_checking():
    source = """
import typing as t
from . import globals
from .json import provider
if t.TYPE_CHECKING:
    from .app import Flask
else:
    from . import config
try:
    from .signals import request_started
except ImportError:
    from . import helpers
class Thing:
    from .ctx import AppContext
"""
    assert _imports_in("flask.fake", source) == {
        "flask.globals", "flask.json", "flask.json.provider", "flask.config",
        "flask.signals", "flask.helpers", "flask.ctx",
    }


def test_import_scanner_counts_imports_inside_functions():
    # The facade imports its collaborators on first use; such an import is
    # still an edge, or a collaborator importing the app back would pass.
    source = """
import typing as t
def later():
    from .cli import main
    if t.TYPE_CHECKING:
        from .app import Flask
class Thing:
    async def method(self):
        def inner():
            import flask.testing
        with open(__file__):
            from . import serving
    def other(self, value):
        match value:
            case 1:
                from .asgi import entry
"""
    assert _imports_in("flask.fake", source) == {
        "flask.cli", "flask.testing", "flask.serving", "flask.asgi", "flask.asgi.entry",
    }


def test_sibling_import_is_no_edge_to_own_package():
    # flask.cli.serve_asgi importing flask.cli.commands: flask.cli is already
    # importing. A name taken from the package itself is an edge.
    sibling = "from .commands import optional_import\n"
    assert _imports_in("flask.cli.serve_asgi", sibling) == {"flask.cli.commands"}
    from_package = "from . import AppGroup\n"
    assert _imports_in("flask.cli.commands", from_package) == {"flask.cli"}
    # Another package's submodule still runs that package's __init__.
    other = "from ..json.provider import JSONProvider\n"
    assert _imports_in("flask.cli.commands", other) == {"flask.json", "flask.json.provider"}


def test_cycle_finder_finds_cycles():
    assert _find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycles():
    """No cycle, counting imports inside functions: a module that imports
    another on first use still depends on it (docs/ARCHITECTURE.md)."""
    graph = {m: _imports_of(m, p) for m, p in MODULES.items()}
    cycle = _find_cycle(graph)
    assert cycle is None, " -> ".join(cycle or [])


def test_the_facade_imports_collaborators_that_do_not_import_it_back():
    # flask.app imports these inside its methods; the cycle check above
    # would also catch one importing flask.app back, this says which.
    graph = {m: _imports_of(m, p) for m, p in MODULES.items()}
    lazy = {"flask.asgi.entry", "flask.serving", "flask.testing", "flask.templating"}
    assert lazy <= graph["flask.app"]
    for module in sorted(lazy):
        assert "flask.app" not in _reachable(graph, module), module


def _reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    todo = [start]
    while todo:
        for nxt in graph[todo.pop()] - seen:
            seen.add(nxt)
            todo.append(nxt)
    return seen


@pytest.mark.parametrize("module", sorted(MODULES))
def test_module_is_short(module):
    lines = len(MODULES[module].read_text(encoding="utf-8").splitlines())
    assert lines < MAX_LINES, f"{module} has {lines} lines"


def test_import_flask_is_light():
    code = (
        "import sys, json, flask\n"
        "print(json.dumps(sorted(m for m in sys.modules"
        " if m.split('.')[0] in ('jinja2', 'click') or m in"
        " ('flask.cli', 'flask.testing'))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert json.loads(out) == []


def test_lazy_names_still_resolve():
    code = (
        "import sys, flask\n"
        "assert flask.render_template.__module__ == 'flask.templating'\n"
        "assert 'jinja2' in sys.modules\n"
        "assert flask.cli.FlaskGroup\n"
        "print('ok')"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "ok"


def test_installed_version():
    # Digits and dots only: code in the wild parses it with int().
    installed = version("flask")
    assert re.fullmatch(r"3\.1\.[0-9]+", installed), installed
    assert flask.__implementation__ == "nimble"


# -- private names of dependencies ---------------------------------------------

DEPENDENCIES = ("werkzeug", "jinja2", "markupsafe", "itsdangerous", "click", "blinker")
GATE = PACKAGE_DIR / "_accel"

# Our own names that a dependency happens to use privately too; each is an
# attribute or function of this package's own objects.
OUR_OWN = {
    "_app": "the JSON provider's weak reference to its app (Flask's own name)",
    "_name": "the session-interface placeholder's descriptor name (pipeline)",
    "_next": "the WebSocket test session's receive step",
    "_next_chunk": "the ASGI response's body iterator step",
    "_finalize": "the ASGI driver's response step",
    "_headers": "the plain answer's header builder (pipeline)",
    "_build": "url_for's build step (routing)",
    "_lazy_sha1": "the session interface's digest default",
    "_render": "render_template's step (templating)",
    "_stream": "stream_template's step (templating)",
    "_werkzeug_version": "the test client's User-Agent version lookup",
    "_before": "the WebSocket driver's before-hooks step",
    "_get_current_object": "LocalProxy's documented method (Werkzeug and Flask docs)",
}


def _dependency_private_names() -> set[str]:
    """Every private name a dependency defines: module globals, class
    attributes of its classes and ``self._x = ...`` attributes it sets."""
    import importlib
    import inspect
    import pkgutil

    names: set[str] = set()
    for dep in DEPENDENCIES:
        package = importlib.import_module(dep)
        modules = [package]
        for info in pkgutil.walk_packages(package.__path__, f"{dep}."):
            try:
                modules.append(importlib.import_module(info.name))
            except Exception:  # optional extras (watchdog, ...) may be absent
                continue
        for module in modules:
            for name, obj in vars(module).items():
                names.add(name)
                if inspect.isclass(obj):
                    for cls in obj.__mro__:
                        if cls.__module__.split(".")[0] in DEPENDENCIES:
                            names.update(vars(cls))
        for source in Path(package.__path__[0]).rglob("*.py"):
            names.update(re.findall(r"self\.(_[A-Za-z]\w*)\s*(?::[^=\n]*)?=", source.read_text()))
    return {
        n for n in names
        if n.startswith("_") and not n.startswith("__") and n.strip("_") and n not in OUR_OWN
    }


def _private_uses(path: Path, private: set[str]) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        shown = path.relative_to(PACKAGE_DIR.parent) if PACKAGE_DIR in path.parents else path.name
        where = f"{shown}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            parts = node.module.split(".")
            if parts[0] in DEPENDENCIES:
                for alias in node.names:
                    if alias.name.startswith("_") or any(p.startswith("_") for p in parts):
                        found.append(f"{where} imports {node.module}.{alias.name}")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] in DEPENDENCIES and any(p.startswith("_") for p in parts):
                    found.append(f"{where} imports {alias.name}")
        elif isinstance(node, ast.Attribute) and node.attr in private:
            found.append(f"{where} uses .{node.attr}")
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in private:
            found.append(f"{where} defines {node.name} (an override?)")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            value = node.value
            if value in private or re.fullmatch(rf"(?:{'|'.join(DEPENDENCIES)})(?:\.\w+)*\._\w+", value):
                found.append(f"{where} names {value!r}")
    return found


def test_private_names_of_dependencies_only_behind_the_gate() -> None:
    private = _dependency_private_names()
    assert {"_matcher", "_get_server", "_compile_builder", "_output_child_pre"} <= private
    uses = [
        use
        for path in sorted(PACKAGE_DIR.rglob("*.py"))
        if GATE not in path.parents
        for use in _private_uses(path, private)
    ]
    assert uses == [], "private names of dependencies outside flask/_accel/:\n" + "\n".join(uses)


def test_the_private_name_check_finds_each_kind_of_use(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    source = (
        "from werkzeug.wsgi import _get_server\n"
        "import werkzeug._reloader\n"
        "x = object()._matcher\n"
        "class C:\n    def _output_child_pre(self): ...\n"
        "y = getattr(object(), '_compile_builder', None)\n"
    )
    found = _private_uses_of(source, probe)
    assert [line.split(" ", 1)[1] for line in found] == [
        "imports werkzeug.wsgi._get_server",
        "imports werkzeug._reloader",
        "uses ._matcher",
        "defines _output_child_pre (an override?)",
        "names '_compile_builder'",
    ]


def _private_uses_of(source: str, path: Path) -> list[str]:
    path.write_text(source)
    try:
        return sorted(_private_uses(path, _dependency_private_names()), key=_line_of)
    finally:
        path.unlink()


def _line_of(use: str) -> int:
    return int(use.split(" ", 1)[0].rsplit(":", 1)[1])


# Names that decide where code runs (on the event loop or in a thread):
# only flask.concurrency uses them (docs/ARCHITECTURE.md).
_WHERE_CODE_RUNS = frozenset(
    {
        "iscoroutinefunction",
        "isawaitable",
        "run_in_executor",
        "run_coroutine_threadsafe",
        "to_thread",
        "run_sync",
        "run_in_context",
        "async_to_sync",
        "sync_to_async",
        "ThreadPoolExecutor",
    }
)
# flask.threads is the pool concurrency runs sync code in (no decisions).
_WHERE_CODE_RUNS_EXEMPT = {"flask.concurrency", "flask.threads"}


def _where_code_runs(source: str) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and node.attr in _WHERE_CODE_RUNS:
            found.add(node.attr)
        elif isinstance(node, ast.Name) and node.id in _WHERE_CODE_RUNS:
            found.add(node.id)
        elif isinstance(node, ast.ImportFrom):
            if (node.module or "").split(".")[0] == "asgiref" or node.module == "concurrent.futures":
                found.add(node.module or "")
            found.update(a.name for a in node.names if a.name in _WHERE_CODE_RUNS)
        elif isinstance(node, ast.Import):
            found.update(
                a.name for a in node.names if a.name.split(".")[0] == "asgiref" or a.name == "concurrent.futures"
            )
    return found


def test_where_code_runs_scanner_finds_each_way():
    source = """
import asyncio
from inspect import iscoroutinefunction
from asgiref.sync import async_to_sync
def f(loop):
    loop.run_in_executor(None, f)
    asyncio.run_coroutine_threadsafe(f(), loop)
"""
    assert _where_code_runs(source) == {
        "iscoroutinefunction", "asgiref.sync", "async_to_sync",
        "run_in_executor", "run_coroutine_threadsafe",
    }
    assert _where_code_runs("from .concurrency import call\nawait call(f)\n") == set()


@pytest.mark.parametrize("module", sorted(set(MODULES) - _WHERE_CODE_RUNS_EXEMPT))
def test_only_the_concurrency_module_decides_where_code_runs(module):
    """No module but flask.concurrency asks whether a function is a
    coroutine function or hands work to a thread (``app.ensure_sync`` and
    ``app.async_to_sync`` delegate to it)."""
    found = _where_code_runs(MODULES[module].read_text(encoding="utf-8"))
    # Flask's public method names, defined on the class and delegating.
    if module == "flask.app":
        found.discard("async_to_sync")
    assert not found, f"{module} decides where code runs: {sorted(found)}"
