"""Checks on the tests' own shape (docs/ARCHITECTURE.md, "Tests"): the
folders mirror src/flask/, no test module is another's twin, and the
project's private names are reached only through the ``seams`` fixture."""

from __future__ import annotations

import ast
from pathlib import Path

import flask

TESTS = Path(__file__).resolve().parent
PACKAGE_DIR = Path(flask.__file__).resolve().parent
#: Folders that hold no tests of a package module of their own.
NOT_MIRRORS = {"ecosystem", "wsapps", "__pycache__"}
#: tests/accel holds the tests of flask._accel, the shortcut gate.
RENAMED = {"accel": "_accel"}


def _test_modules() -> list[Path]:
    return sorted(
        p for p in TESTS.rglob("test_*.py") if not NOT_MIRRORS & set(p.relative_to(TESTS).parts)
    )


def test_each_test_folder_mirrors_a_package() -> None:
    for folder in TESTS.rglob("*"):
        if not folder.is_dir() or NOT_MIRRORS & set(folder.relative_to(TESTS).parts):
            continue
        parts = [RENAMED.get(p, p) for p in folder.relative_to(TESTS).parts]
        assert (PACKAGE_DIR.joinpath(*parts) / "__init__.py").is_file(), folder


def test_no_test_module_is_another_plus_a_suffix() -> None:
    # Nor do two share a name: the folders are not packages, so pytest
    # imports each module by its bare name.
    stems = [p.stem for p in _test_modules()]
    assert len(stems) == len(set(stems))
    twins = [(a, b) for a in stems for b in stems if b.startswith(a + "_")]
    assert twins == []


def _private_patches(source: str) -> list[str]:
    """``setattr(x, "_name", ...)`` calls where ``x`` was imported from flask."""
    tree = ast.parse(source)
    ours = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("flask"):
            ours.update(a.asname or a.name for a in node.names)
        elif isinstance(node, ast.Import):
            ours.update(a.asname or a.name for a in node.names if a.name.startswith("flask"))
    found = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "setattr"
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and str(node.args[1].value).startswith("_")
            and not str(node.args[1].value).endswith("__")
        ):
            target = node.args[0]
            while isinstance(target, ast.Attribute):
                target = target.value
            if isinstance(target, ast.Name) and target.id in ours:
                found.append(f"line {node.lineno}: {node.args[1].value}")
    return found


def test_the_scanner_finds_a_private_patch() -> None:
    source = "from flask import _plain\ndef t(m):\n    m.setattr(_plain, '_error_pages', {})\n"
    assert _private_patches(source) == ["line 3: _error_pages"]
    assert _private_patches("import os\ndef t(m):\n    m.setattr(os, '_x', 1)\n") == []


def test_private_names_are_patched_only_through_seams() -> None:
    found = {
        str(p.relative_to(TESTS)): hits
        for p in _test_modules()
        if (hits := _private_patches(p.read_text(encoding="utf-8")))
    }
    assert found == {}
