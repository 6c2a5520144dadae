"""Every benchmark figure on a page comes from the one results file.

``docs/_static/bench/results.json`` is written by ``make bench`` (and
``make soak``, ``make test-deploy``); benchmarks/figures.py renders
BENCHMARKS.md and the README's marked regions from it, and the docs pages
use its ``{bench}`` role and directive. A figure typed by hand, a region
rendered from another run, or a role the file cannot answer fails here.
"""

from __future__ import annotations

import json
import typing as t
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


# -- the "ours, shortcuts off" participant --------------------------------------


def _run(with_off: bool) -> dict[str, object]:
    """A small WSGI run as benchmarks/run.py stores it: two scenarios, start-up
    and end to end, with or without ours run under FLASK_NO_SHORTCUTS=1."""
    flasks = ("ours", "ours_off", "pallets") if with_off else ("ours", "pallets")
    rps = {"hello": {"ours": 60000.0, "ours_off": 15000.0, "pallets": 6000.0},
           "session": {"ours": 12000.0, "ours_off": 4000.0, "pallets": 3200.0}}
    answer = {"status": "200 OK", "content_type": "text/html; charset=utf-8", "body": "Hello"}
    checks = {}
    for s in rps:
        checks[s] = {p: dict(answer) for p in flasks} | {"match": True, "problems": []}
        if with_off:
            checks[s] |= {"off_match": s != "session", "off_problems": [] if s != "session" else ["body differs"]}
    startup = {"ours": 0.150, "ours_off": 0.200, "pallets": 0.250}
    return {
        "settings": {"rounds": 2, "duration": 0.1, "import_runs": 2, "e2e_rounds": 1, "e2e_duration": 1,
                     "e2e_connections": 4, "quick": True, "partial": True},
        "scenarios": list(rps),
        "machine": {"cpu": "Test CPU", "cores": "2", "python": "3.11.7", "implementation": "CPython",
                    "os": "Linux", "date": "2026-12-07 02:00 UTC", "wrk": ""},
        "versions": {},
        "checks": checks,
        "inprocess": {s: {p: {"rps": [v[p], v[p]], "median": v[p]} for p in flasks} for s, v in rps.items()},
        "import": {p: {"startup_median": startup[p], "median": 0.1, "bare_median": 0.02, "modules": 200,
                       "jinja2": False, "click": False} for p in flasks}
        | {"startup_same_output": {"same": True, **({"off_same": True} if with_off else {})}},
        "e2e": {"results": {"hello": {p: {"rps": {"ours": 1800.0, "ours_off": 1500.0, "pallets": 1200.0}[p],
                                          "p99_ms": 5.0} for p in flasks}}},
    }


def _table(text: str, heading: str) -> list[list[str]]:
    """The cells of the first table under a ``## heading``."""
    section = text.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    table = section[section.index("\n|") + 1:].split("\n\n", 1)[0]
    return [[c.strip() for c in line.strip("|").split("|")]
            for line in table.splitlines() if not line.startswith("|---")]


def test_the_shortcuts_off_participant_is_rendered_against_pallets() -> None:
    import report

    run = _run(with_off=True)
    text = report.render(run)
    rows = _table(text, "In-process (WSGI app called directly)")
    header = rows[0]
    assert header[-2:] == ["ours, shortcuts off req/s", "shortcuts off/Pallets"]
    by_scenario = {r[1]: dict(zip(header, r)) for r in rows[1:]}
    assert by_scenario["hello"]["ours, shortcuts off req/s"] == "15,000"
    assert by_scenario["hello"]["shortcuts off/Pallets"] == f"{15000 / 6000:.2f}x"
    # Its output differed from Pallets' in the check: the figure says so.
    assert by_scenario["session"]["shortcuts off/Pallets"] == f"{4000 / 3200:.2f}x (**output differs**)"
    # The geometric mean, worked out here rather than by report.geomean.
    off_gm = ((15000 / 6000) * (4000 / 3200)) ** 0.5
    assert by_scenario["**geometric mean**"]["shortcuts off/Pallets"] == f"**{off_gm:.2f}x**"
    assert by_scenario["**geometric mean**"]["ours/Pallets"] == f"**{((60000 / 6000) * (12000 / 3200)) ** 0.5:.2f}x**"

    startup = {r[0]: r for r in _table(text, "Start-up")}
    off_row = startup["start-up to first response, shortcuts off (`FLASK_NO_SHORTCUTS=1`)"]
    assert off_row[1:] == ["200.0 ms", "250.0 ms", f"**{0.200 / 0.250:.2f}x**"]

    correctness = _table(text, "Correctness check")
    assert correctness[0][-2:] == ["shortcuts off status", "shortcuts off result"]
    assert correctness[2][-1] == "**MISMATCH**: body differs"
    assert "**MISMATCH** in `session` between ours with shortcuts off and Pallets: body differs" in text

    e2e = _table(text, "End to end: gunicorn + wrk")
    assert dict(zip(e2e[0], e2e[1]))["shortcuts off/Pallets"] == f"{1500 / 1200:.2f}x"
    assert f"geometric mean {off_gm:.2f}x (2 scenarios), start-up {0.200 / 0.250:.2f}x" in report.summary(run)
    assert report.OFF_ABSENT not in text


def test_a_run_without_the_shortcuts_off_participant_still_renders() -> None:
    import report

    run = _run(with_off=False)
    text = report.render(run)
    for heading in ("In-process (WSGI app called directly)", "Correctness check", "End to end: gunicorn + wrk"):
        rows = _table(text, heading)
        assert all(len(r) == len(rows[0]) for r in rows), heading
        assert not any("shortcuts off" in cell for cell in rows[0]), heading
    assert "shortcuts off (`FLASK_NO_SHORTCUTS=1`) |" not in text
    assert report.OFF_ABSENT in text
    assert "[info]" not in report.summary(run)
    # The same through the results file's renderer, as BENCHMARKS.md is made.
    assert report.OFF_ABSENT in figures.region({"wsgi": run}, "wsgi")


def test_the_shortcuts_off_harness_must_have_its_shortcuts_off() -> None:
    import types

    import run

    src = str(figures.ROOT / "src" / "flask")
    names = ["url-matcher", "plain-answer", "werkzeug-reloader"]

    def worker(off: dict[str, str]) -> t.Any:
        shortcuts = {"all": names, "bridges": ["werkzeug-reloader"], "off": off}
        return types.SimpleNamespace(info={"targets": {"flask": {"location": src, "shortcuts": shortcuts}}})

    switched = "switched off by FLASK_NO_SHORTCUTS"
    all_off = {"url-matcher": switched, "plain-answer": switched}
    assert run.check_identity({"ours": worker({}), "ours_off": worker(all_off)}) == {}
    problems = run.check_identity({"ours_off": worker({"url-matcher": switched})})
    assert "plain-answer" in problems["ours_off"]
    assert "ours_off" in run.check_identity({"ours_off": worker({})})


# -- the streaming part ---------------------------------------------------------


def test_the_streaming_targets_say_whether_each_was_met(data: dict[str, t.Any]) -> None:
    import copy

    run = copy.deepcopy(data["streaming"])
    targets = run["targets"]
    targets["sse_memory"]["value"] = 0.5  # at most 1.0x: met
    targets["sse_p99"]["value"] = 1.0  # exactly the bound: met
    targets["background"]["value"] = 0.5  # at least 0.8x: missed
    targets["upload_rss"]["value"] = 50.0  # under 50 MiB: missed
    targets["upload_first_chunk"]["value"] = 1.0  # only once the whole body was sent: missed
    text = figures.region({**data, "streaming": run}, "streaming-targets")
    rows = {r[0]: r[1:] for r in (
        [c.strip() for c in line.strip("|").split("|")] for line in text.splitlines()
        if line.startswith("|") and not line.startswith("|---"))}
    by_id = {tid: rows[target["label"]] for tid, target in targets.items()}
    assert by_id["sse_memory"] == ["≤ 1.00x", "0.50x", "yes"]
    assert by_id["sse_p99"][1:] == ["1.00x", "yes"]
    assert by_id["background"] == ["≥ 0.80x", "0.50x", "**no**"]
    assert by_id["upload_rss"] == ["< 50.0 MiB", "50.0 MiB", "**no**"]
    assert by_id["upload_first_chunk"][1:] == ["100.0%", "**no**"]
    assert figures.source(data, "streaming") in text.replace("\n", " ")


def test_the_streaming_page_shows_the_targets_table() -> None:
    text = (DOCS / "streaming.md").read_text(encoding="utf-8")
    assert "```{bench} streaming-targets\n```" in text
