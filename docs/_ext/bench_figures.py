"""Benchmark figures on the docs pages, rendered from the results file.

- ``{bench}`SPEC``` (a role) is one figure, ``SPEC`` as
  :func:`benchmarks.figures.value` reads it, for example
  ``{bench}`asgi.targets.inproc_hello_starlette.cpu```; its tooltip names the
  run's machine and date.
- ``{bench-source}`PART``` is the sentence that names them, for the text.
- ```` ```{bench} NAME ```` (a directive) is a whole region (a table and its
  source line), the Markdown :func:`benchmarks.figures.region` renders.

The figures are read from ``docs/_static/bench/results.json`` at build time,
so a page cannot state a figure the file does not hold; a spec the file
cannot answer fails the build. tests/test_figures.py checks that no figure
is typed by hand around them.
"""

from __future__ import annotations

import sys
import typing as t
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst.states import Inliner
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import figures  # noqa: E402  (benchmarks/figures.py, standard library only)


def _data() -> dict[str, t.Any]:
    return figures.load()


def _fail(inliner: Inliner, lineno: int, rawtext: str, error: Exception) -> tuple[list[nodes.Node], list[nodes.system_message]]:
    msg = inliner.reporter.error(f"{rawtext}: {error}", line=lineno)
    return [inliner.problematic(rawtext, rawtext, msg)], [msg]


def bench_role(
    name: str, rawtext: str, text: str, lineno: int, inliner: Inliner,
    options: dict[str, t.Any] | None = None, content: list[str] | None = None,
) -> tuple[list[nodes.Node], list[nodes.system_message]]:
    """One figure from the results file."""
    try:
        data = _data()
        shown = figures.value(data, text)
        where = figures.source(data, figures.part_of(text))
    except (KeyError, ValueError, OSError) as e:
        return _fail(inliner, lineno, rawtext, e)
    inliner.document.settings.env.note_dependency(str(figures.RESULTS))
    node = nodes.abbreviation(rawtext, shown, explanation=f"make bench, {where}")
    return [node], []


def bench_source_role(
    name: str, rawtext: str, text: str, lineno: int, inliner: Inliner,
    options: dict[str, t.Any] | None = None, content: list[str] | None = None,
) -> tuple[list[nodes.Node], list[nodes.system_message]]:
    """The machine and date of one part's run."""
    try:
        where = figures.source(_data(), text.strip())
    except (KeyError, ValueError, OSError) as e:
        return _fail(inliner, lineno, rawtext, e)
    inliner.document.settings.env.note_dependency(str(figures.RESULTS))
    return [nodes.Text(where)], []


class BenchRegion(SphinxDirective):
    """A named region of figures, as Markdown rendered from the results file."""

    required_arguments = 1
    has_content = False

    def run(self) -> list[nodes.Node]:
        self.env.note_dependency(str(figures.RESULTS))
        try:
            text = figures.region(_data(), self.arguments[0])
        except (KeyError, ValueError, OSError) as e:
            raise self.error(f"bench {self.arguments[0]!r}: {e}") from e
        container = nodes.container(classes=["bench-figures"])
        self.state.nested_parse(StringList(text.splitlines(), source=str(figures.RESULTS)), self.content_offset, container)
        return [container]


def setup(app: Sphinx) -> dict[str, t.Any]:
    app.add_role("bench", bench_role)
    app.add_role("bench-source", bench_source_role)
    app.add_directive("bench", BenchRegion)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
