"""One marker for what this implementation adds to Flask 3.1's API.

``.. beyond-flask:: one-line description`` (in a docstring or a page)
renders a visible note, "Beyond Flask 3.1", with the description. Every
marker of the build is collected, and ``.. beyond-flask-list::`` (on
``docs/switching.md``) renders the list of them at build time: the
documented object (or the section) each one sits in, its description, and a
link to it. The list therefore cannot miss a marked feature; a test in
``tests/test_docs.py`` checks it against the markers in the sources.

Flask's own ``versionadded`` markers are not used for these: a version
number would read as a Pallets Flask release that has the feature.
"""

from __future__ import annotations

import typing as t

from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.util.docutils import SphinxDirective

TITLE = "Beyond Flask 3.1"


class Entry(t.TypedDict):
    docname: str
    anchor: str
    name: str
    section: bool
    text: str


class beyond_flask_list(nodes.General, nodes.Element):
    """Where the list goes; replaced when the page is resolved."""


def _entries(env: BuildEnvironment) -> list[Entry]:
    if not hasattr(env, "beyond_flask_entries"):
        env.beyond_flask_entries = []  # type: ignore[attr-defined]
    return t.cast("list[Entry]", env.beyond_flask_entries)  # type: ignore[attr-defined]


def _list_docs(env: BuildEnvironment) -> set[str]:
    if not hasattr(env, "beyond_flask_list_docs"):
        env.beyond_flask_list_docs = set()  # type: ignore[attr-defined]
    return t.cast("set[str]", env.beyond_flask_list_docs)  # type: ignore[attr-defined]


class BeyondFlask(SphinxDirective):
    """``.. beyond-flask:: description``: a note, and an entry in the list."""

    required_arguments = 1
    final_argument_whitespace = True
    has_content = False

    def run(self) -> list[nodes.Node]:
        text = " ".join(self.arguments[0].split())
        env = self.env
        anchor = f"beyond-flask-{env.new_serialno('beyond-flask')}"
        note = nodes.admonition(classes=["note", "beyond-flask"], ids=[anchor])
        note["beyond_flask"] = text
        note += nodes.title(TITLE, TITLE)
        inline, messages = self.state.inline_text(text, self.lineno)
        note += nodes.paragraph(text, "", *inline)
        return [note, *messages]


class BeyondFlaskList(SphinxDirective):
    """``.. beyond-flask-list::``: every marker of the build, as a list."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        env = self.env
        _list_docs(env).add(env.docname)
        return [beyond_flask_list()]


def _owner(node: nodes.Element) -> tuple[str, bool]:
    """The documented object a marker is in, else its section's title
    (and True)."""
    parent = node.parent
    while parent is not None:
        if isinstance(parent, addnodes.desc):
            for signature in parent.findall(addnodes.desc_signature):
                if signature["ids"]:
                    return str(signature["ids"][0]), False
        if isinstance(parent, nodes.section):
            return parent[0].astext(), True
        parent = parent.parent
    return "", True


def collect(app: Sphinx, doctree: nodes.document) -> None:
    env = app.env
    for node in doctree.findall(nodes.admonition):
        if "beyond_flask" in node:
            name, section = _owner(node)
            _entries(env).append(
                Entry(docname=env.docname, anchor=node["ids"][0], name=name,
                      section=section, text=node["beyond_flask"])
            )


def purge(app: Sphinx, env: BuildEnvironment, docname: str) -> None:
    entries = _entries(env)
    entries[:] = [e for e in entries if e["docname"] != docname]
    _list_docs(env).discard(docname)


def merge(app: Sphinx, env: BuildEnvironment, docnames: set[str], other: BuildEnvironment) -> None:
    _entries(env).extend(e for e in _entries(other) if e["docname"] in docnames)
    _list_docs(env).update(_list_docs(other) & docnames)


def outdated(
    app: Sphinx, env: BuildEnvironment, added: set[str], changed: set[str], removed: set[str]
) -> list[str]:
    # The list is made of other pages' markers: rebuild its page with them.
    return sorted(_list_docs(env)) if added or changed or removed else []


def render(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    # Sections (what a whole part of the API adds) first, then objects.
    entries = sorted(_entries(app.env), key=lambda e: (not e["section"], e["name"].lower()))
    for placeholder in list(doctree.findall(beyond_flask_list)):
        items = nodes.bullet_list(classes=["beyond-flask-list"])
        for entry in entries:
            uri = app.builder.get_relative_uri(docname, entry["docname"]) + "#" + entry["anchor"]
            link = nodes.reference("", "", internal=True, refuri=uri)
            if entry["section"]:
                link += nodes.Text(entry["name"])
            else:
                link += nodes.literal(entry["name"], entry["name"])
            items += nodes.list_item("", nodes.paragraph("", "", link, nodes.Text(": " + entry["text"])))
        placeholder.replace_self(items if entries else nodes.paragraph("", "(none)"))


def _skip(self: t.Any, node: nodes.Element) -> None:
    raise nodes.SkipNode


def setup(app: Sphinx) -> dict[str, t.Any]:
    app.add_node(beyond_flask_list, html=(_skip, None), text=(_skip, None))
    app.add_directive("beyond-flask", BeyondFlask)
    app.add_directive("beyond-flask-list", BeyondFlaskList)
    app.connect("doctree-read", collect)
    app.connect("env-purge-doc", purge)
    app.connect("env-merge-info", merge)
    app.connect("env-get-outdated", outdated)
    app.connect("doctree-resolved", render)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True, "env_version": 1}
