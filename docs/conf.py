"""Sphinx configuration for the documentation site (``make docs``)."""

from __future__ import annotations

import sys
from importlib.metadata import version as _version
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE / "_ext"))

project = "Flask (Nimble)"
author = "the Flask (Nimble) authors"
copyright = "2026, the Flask (Nimble) authors"
release = _version("flask")
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.intersphinx",
    "sphinx.ext.doctest",
    "sphinx.ext.napoleon",
    "sphinx_copybutton",
    "myst_parser",
    "offline_inventories",
    "beyond_flask",
    "bench_figures",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "samples/README.md", "Thumbs.db", ".DS_Store"]
myst_heading_anchors = 3
myst_enable_extensions = ["colon_fence"]

# Filled in by _ext/offline_inventories.py from the installed libraries.
intersphinx_mapping: dict[str, tuple[str, str]] = {}
intersphinx_disabled_reftypes = ["*"]

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_typehints_format = "short"
autodoc_default_options = {"members": True, "show-inheritance": True}
autodoc_preserve_defaults = True
suppress_warnings: list[str] = []

html_theme = "furo"
html_title = f"Flask (Nimble) {release}"
html_static_path: list[str] = []
html_show_sourcelink = False

# The pages' doctests import the samples they show.
doctest_global_setup = f"import sys; sys.path.insert(0, {str(HERE / 'samples')!r})"
