"""Every benchmark figure on a page comes from the one results file.

``docs/_static/bench/results.json`` is written by ``make bench`` (and
``make soak``, ``make test-deploy``); benchmarks/figures.py renders
BENCHMARKS.md and the README's marked regions from it, and the docs pages
use its ``{bench}`` role and directive. A figure typed by hand, a region
rendered from another run, or a role the file cannot answer fails here.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import figures  # noqa: E402

DOCS = ROOT / "docs"
# What reads as a measured figure: a ratio (9.68x, 1.9-2.0x) or a time or
# rate with its unit.
FIGURE = re.compile(
    r"(?<![\w.`/-])\d[\d,]*(?:\.\d+)?(?:[-–]\d[\d,]*(?:\.\d+)?)?(?:x(?![\w-])| ?(?:ms|us|µs|req/s|requests/s)\b)"
)
ROLE = re.compile(r"\{bench(?P<kind>-source)?\}`(?P<spec>[^`]+)`")
DIRECTIVE = re.compile(r"^```\{bench\} *(?P<name>\S+)\n```$", re.M)


def pages() -> list[Path]:
    docs = [p for p in DOCS.rglob("*") if p.suffix in (".md", ".rst") and "_build" not in p.parts]
    return [ROOT / "README.md", ROOT / "BENCHMARKS.md", *sorted(docs)]


@pytest.fixture(scope="module")
def data() -> dict[str, object]:
    return figures.load()


def _outside_rendered(text: str) -> str:
    """The page less what the results file renders (regions, roles,
    directives), line numbers kept."""
    def blank(m: re.Match[str]) -> str:
        return "\n" * m.group(0).count("\n")

    text = figures.REGION.sub(blank, text)
    text = DIRECTIVE.sub(blank, text)
    return ROLE.sub("", text)


def test_every_run_says_which_machine_and_date_it_comes_from(data: dict[str, object]) -> None:
    assert set(data) == set(figures.PARTS)
    for part in figures.PARTS:
        text = figures.source(data, part)
        assert figures.DATE.match(text), (part, text)
        assert len(text.split(", ", 1)[1]) > 5, (part, text)


def test_no_page_states_a_figure_by_hand() -> None:
    found = []
    for page in pages():
        text = _outside_rendered(page.read_text(encoding="utf-8"))
        for n, line in enumerate(text.splitlines(), 1):
            found += [f"{page.relative_to(ROOT)}:{n}: {m.group(0)!r} in {line.strip()!r}"
                      for m in FIGURE.finditer(line)]
    assert not found, (
        "figures typed by hand, which the results file does not vouch for; render them "
        "with {bench}`SPEC` (docs) or a <!-- bench:NAME --> region (benchmarks/figures.py):\n"
        + "\n".join(found))


def _first_difference(name: str, page: str, rendered: str) -> str:
    """Says whether the page's region is from another run, or else where it differs."""
    page_dates, new_dates = figures.DATE.findall(page), figures.DATE.findall(rendered)
    if page_dates[:1] != new_dates[:1]:
        return (f"region {name!r} comes from the run of {page_dates[:1] or 'no date'}, "
                f"but the results file holds the run of {new_dates[:1]}")
    for n, (a, b) in enumerate(zip(page.splitlines(), rendered.splitlines()), 1):
        if a != b:
            return f"region {name!r} line {n}: the page says {a!r}, the results file renders {b!r}"
    return f"region {name!r} has {len(page.splitlines())} lines, the results file renders {len(rendered.splitlines())}"


@pytest.mark.parametrize("page", [figures.BENCHMARKS, figures.README], ids=lambda p: p.name)
def test_marked_regions_are_what_the_results_file_renders(page: Path, data: dict[str, object]) -> None:
    text = page.read_text(encoding="utf-8")
    regions = list(figures.REGION.finditer(text))
    assert regions, f"{page.name} has no <!-- bench:NAME --> region"
    problems = []
    for m in regions:
        name, body = m.group("name"), m.group("body")
        assert name in figures.REGIONS, f"{page.name}: no region {name!r} in benchmarks/figures.py"
        rendered = figures.wrap(name, figures.region(data, name)).split("\n", 1)[1].rsplit("<!-- /bench -->", 1)[0]
        if body != rendered:
            problems.append(f"{page.name}: " + _first_difference(name, body, rendered))
    assert not problems, "\n".join(problems) + "\n(python benchmarks/figures.py renders them again)"
    if page == figures.BENCHMARKS:
        assert [m.group("name") for m in regions] == [n for n in figures.BENCHMARKS_LAYOUT if n in data]
        assert text == figures.render_benchmarks(data), "BENCHMARKS.md has text outside its regions"


def test_every_role_and_directive_names_a_figure_the_file_holds(data: dict[str, object]) -> None:
    problems = []
    for page in pages():
        text = page.read_text(encoding="utf-8")
        cited, named = set(), set()
        for m in ROLE.finditer(text):
            spec = m.group("spec")
            try:
                if m.group("kind"):
                    figures.source(data, spec.strip())
                    named.add(spec.strip())
                else:
                    figures.value(data, spec)
                    cited.add(figures.part_of(spec))
            except KeyError as e:
                problems.append(f"{page.relative_to(ROOT)}: {m.group(0)}: {e}")
        for m in DIRECTIVE.finditer(text):
            if m.group("name") not in figures.REGIONS:
                problems.append(f"{page.relative_to(ROOT)}: no region {m.group('name')!r}")
        # The figures of a run travel with its machine and date.
        problems += [f"{page.relative_to(ROOT)}: cites the {part} run's figures but never "
                     f"{{bench-source}}`{part}`" for part in sorted(cited - named)]
    assert not problems, "\n".join(problems)


# -- the renderer itself ------------------------------------------------------


def test_a_figure_is_the_stored_number_formatted(data: dict[str, object]) -> None:
    raw = json.loads(figures.RESULTS.read_text())["wsgi"]["inprocess"]["hello"]
    spec = "wsgi.inprocess.hello.ours.median / wsgi.inprocess.hello.pallets.median"
    assert figures.value(data, spec) == f"{raw['ours']['median'] / raw['pallets']['median']:.2f}x"
    assert figures.value(data, spec + "|x1") == f"{raw['ours']['median'] / raw['pallets']['median']:.1f}x"
    assert figures.value(data, "wsgi.inprocess.hello.ours.median") == f"{raw['ours']['median']:,.0f}"
    assert figures.value(data, "wsgi.inprocess.hello.ours.median|us_per") == f"{1e6 / raw['ours']['median']:,.0f} us"
    with pytest.raises(KeyError, match="no 'nowhere'"):
        figures.value(data, "wsgi.inprocess.nowhere.ours.median")
    with pytest.raises(KeyError, match="not a number"):
        figures.value(data, "wsgi.machine.cpu")


def test_a_page_is_rewritten_from_the_file(data: dict[str, object]) -> None:
    stale = "before\n<!-- bench:asgi-targets -->\n| typed | 0.99x |\n<!-- /bench -->\nafter\n"
    fresh = figures.rewrite(stale, data)
    assert fresh == "before\n" + figures.wrap("asgi-targets", figures.region(data, "asgi-targets")) + "after\n"
    assert figures.rewrite(fresh, data) == fresh
    assert figures.source(data, "asgi") in fresh


def test_storing_a_run_keeps_the_other_parts(tmp_path: Path, data: dict[str, object]) -> None:
    path = tmp_path / "results.json"
    path.write_text(json.dumps(data))
    figures.store("soak", {**data["soak"], "duration": 1.0}, path)  # type: ignore[dict-item]
    figures.store("failover", {"label": "4", "requests": 1}, path)
    stored = figures.load(path)
    assert stored["wsgi"] == data["wsgi"]
    assert stored["soak"]["duration"] == 1.0
    assert stored["failover"]["runs"][-1] == {"label": "4", "requests": 1}
    assert stored["failover"]["runs"][:-1] == data["failover"]["runs"]  # type: ignore[index]
    with pytest.raises(ValueError, match="unknown part"):
        figures.store("other", {}, path)
