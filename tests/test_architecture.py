"""Checks on the package's shape: import graph, module size, start-up
imports and the installed version (see docs/ARCHITECTURE.md)."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

import flask

PACKAGE_DIR = Path(flask.__file__).resolve().parent
MAX_LINES = 650


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


def _import_time_nodes(body: list[ast.stmt]):
    """Statements run when the module is imported: skip function bodies and
    ``if TYPE_CHECKING:`` blocks (but not their ``else``)."""
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            yield from _import_time_nodes(node.orelse)
            continue
        yield node
        for field in ("body", "orelse", "finalbody", "handlers"):
            children = getattr(node, field, None)
            if isinstance(children, list):
                yield from _import_time_nodes(
                    [c for c in children if isinstance(c, ast.stmt)]
                    + [s for h in children if isinstance(h, ast.ExceptHandler) for s in h.body]
                )


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
    for node in _import_time_nodes(tree.body):
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
    # already importing, so it is no edge).
    for name in list(found):
        parts = name.split(".")
        found.update(".".join(parts[:i]) for i in range(2, len(parts)))
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


def test_import_scanner_skips_functions_and_type_checking():
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
def later():
    from .cli import main
"""
    assert _imports_in("flask.fake", source) == {
        "flask.globals", "flask.json", "flask.json.provider", "flask.config",
        "flask.signals", "flask.helpers", "flask.ctx",
    }


def test_cycle_finder_finds_cycles():
    assert _find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycles():
    graph = {m: _imports_of(m, p) for m, p in MODULES.items()}
    cycle = _find_cycle(graph)
    assert cycle is None, " -> ".join(cycle or [])


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
# The CLI's development server bridges WSGI to ASGI with asgiref; it moves
# with the CLI (flask/cli/), outside the request path.
_WHERE_CODE_RUNS_EXEMPT = {"flask.concurrency", "flask._ws_serve"}


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
