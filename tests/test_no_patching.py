"""The package changes no other library: it puts nothing of its own into
``sys.modules`` for a module that is not ours, and assigns no attribute of an
object it imported from elsewhere (issue 14, part 3)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import flask

PACKAGE_DIR = Path(flask.__file__).resolve().parent
SOURCES = sorted(PACKAGE_DIR.rglob("*.py"))


def _root_name(node: ast.expr) -> ast.expr:
    """``a`` of ``a.b[c].d``."""
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    return node


def _is_sys_modules(node: ast.expr) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "modules"
        and isinstance(node.value, ast.Name)
        and node.value.id == "sys"
    )


def _is_own_module(node: ast.expr) -> bool:
    """``sys.modules[__name__]``: the module the code runs in."""
    return (
        isinstance(node, ast.Subscript)
        and _is_sys_modules(node.value)
        and isinstance(node.slice, ast.Name)
        and node.slice.id == "__name__"
    )


def _is_environ(node: ast.expr) -> bool:
    """``os.environ[...]``: the process environment is data the CLI sets, as
    Flask documents (``FLASK_DEBUG``, ``FLASK_APP``)."""
    return (
        isinstance(node, ast.Subscript)
        and isinstance(node.value, ast.Attribute)
        and node.value.attr == "environ"
        and isinstance(node.value.value, ast.Name)
        and node.value.value.id == "os"
    )


def _foreign_names(tree: ast.Module) -> set[str]:
    """Names a module binds to things imported from outside the package."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] != "flask":
                    names.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(node, ast.ImportFrom) and not node.level:
            if (node.module or "").split(".")[0] != "flask":
                names.update(alias.asname or alias.name for alias in node.names)
    return names


def patches(source: str) -> list[str]:
    """Statements that write into ``sys.modules`` or into an imported object."""
    tree = ast.parse(source)
    foreign = _foreign_names(tree)
    found: list[str] = []

    def check_target(target: ast.expr, node: ast.AST) -> None:
        if isinstance(target, (ast.Tuple, ast.List)):
            for elt in target.elts:
                check_target(elt, node)
            return
        if not isinstance(target, (ast.Attribute, ast.Subscript)):
            return  # a plain name rebinds only our own namespace
        if isinstance(target, ast.Subscript) and _is_sys_modules(target.value):
            found.append(f"line {node.lineno}: {ast.unparse(node)}")
            return
        root = _root_name(target)
        if (
            isinstance(root, ast.Name)
            and root.id in foreign
            and not _is_own_module(target)
            and not _is_environ(target)
        ):
            found.append(f"line {node.lineno}: {ast.unparse(node)}")

    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                check_target(target, node)
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            check_target(node.target, node)
        elif isinstance(node, ast.Delete):
            for target in node.targets:
                check_target(target, node)
        elif isinstance(node, ast.Call):
            func = node.func
            # setattr(x, ...), delattr(x, ...), sys.modules.update/setdefault/pop(...)
            if isinstance(func, ast.Name) and func.id in ("setattr", "delattr") and node.args:
                obj = node.args[0]
                root = _root_name(obj)
                if (
                    isinstance(root, ast.Name)
                    and root.id in foreign
                    and not _is_own_module(obj)
                ):
                    found.append(f"line {node.lineno}: {ast.unparse(node)}")
            elif (
                isinstance(func, ast.Attribute)
                and _is_sys_modules(func.value)
                and func.attr in ("update", "setdefault", "pop", "__setitem__", "__delitem__")
            ):
                found.append(f"line {node.lineno}: {ast.unparse(node)}")
    return found


@pytest.mark.parametrize("source", [
    "import sys\nsys.modules['werkzeug'] = object()",
    "import sys\nsys.modules.update(werkzeug=None)",
    "import sys\nsys.modules.setdefault('werkzeug', None)",
    "import werkzeug.routing\nwerkzeug.routing.Map.match = None",
    "from werkzeug.routing import Map\nMap.match = None",
    "from werkzeug import wrappers as w\nsetattr(w.Response, 'x', 1)",
    "import jinja2\njinja2.Environment.finalize: object = None",
    "import jinja2\ndel jinja2.Environment.finalize",
    "import werkzeug\nwerkzeug.__dict__['x'] = 1",
    "import os\nos.sep = '/'",
])
def test_scanner_finds_patching(source: str) -> None:
    assert patches(source), source


@pytest.mark.parametrize("source", [
    "import sys\nsetattr(sys.modules[__name__], 'x', 1)",
    "from werkzeug.routing import Map\nclass M(Map):\n    x = 1\nM.y = 2",
    "import werkzeug\nmodule = werkzeug\nself_attr = 1",
    "from .app import Flask\nFlask.x = 1",
    "import os\nos.environ['FLASK_DEBUG'] = '1'",
])
def test_scanner_leaves_own_objects_alone(source: str) -> None:
    assert not patches(source), source


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE_DIR)))
def test_package_patches_nothing(path: Path) -> None:
    assert patches(path.read_text(encoding="utf-8")) == []


def test_no_lazy_werkzeug_module() -> None:
    assert not (PACKAGE_DIR / "_lazy_werkzeug.py").exists()


# Which library modules a process has, and what the werkzeug package holds.
_SNAPSHOT = """
import json, sys, importlib
{first}
import werkzeug
mods = {{
    name: getattr(m, "__file__", None)
    for name, m in list(sys.modules.items())
    if name.split(".")[0] in ("werkzeug", "blinker", "markupsafe")
}}
print(json.dumps({{
    "modules": mods,
    "werkzeug_names": sorted(vars(werkzeug)),
    "werkzeug_type": type(werkzeug).__module__ + "." + type(werkzeug).__qualname__,
    "loader": type(werkzeug.__loader__).__qualname__,
}}))
"""


def _snapshot(first: str) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-c", _SNAPSHOT.format(first=first)],
        capture_output=True, text=True, check=True,
    ).stdout
    result: dict[str, object] = json.loads(out)
    return result


def test_import_flask_leaves_werkzeug_as_werkzeug_made_it() -> None:
    """The werkzeug package after ``import flask`` is the one Python's import
    system builds from Werkzeug's own files, not a stand-in."""
    with_flask = _snapshot("import flask")
    alone = _snapshot(
        textwrap.dedent(
            """
            import werkzeug.wrappers, werkzeug.routing, werkzeug.local
            import werkzeug.exceptions
            """
        )
    )
    assert with_flask["werkzeug_type"] == "builtins.module"
    assert with_flask["loader"] == alone["loader"] == "SourceFileLoader"
    names_f = with_flask["werkzeug_names"]
    names_a = alone["werkzeug_names"]
    assert isinstance(names_f, list) and isinstance(names_a, list)
    # Werkzeug's __init__ ran: its re-exports are plain attributes, and no
    # module-level __getattr__ resolves them later.
    assert {"run_simple", "Client", "Request", "Response"} <= set(names_a) <= set(names_f)
    assert "__getattr__" not in names_f
    # Every library module both processes have comes from the same file.
    mods_f = with_flask["modules"]
    mods_a = alone["modules"]
    assert isinstance(mods_f, dict) and isinstance(mods_a, dict)
    for name in set(mods_f) & set(mods_a):
        assert mods_f[name] == mods_a[name], name
    assert "werkzeug.serving" in mods_f and "werkzeug.test" in mods_f
