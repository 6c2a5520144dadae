"""One source for every figure: the results file, and the pages drawn from it.

``docs/_static/bench/results.json`` holds one run per part, each with the
machine and the date it was measured on:

- ``wsgi``: ``make bench`` (benchmarks/run.py), in-process, start-up,
  gunicorn + wrk and WebSockets (``ws``);
- ``asgi``: benchmarks/asgi_bench.py, which ``make bench`` runs next;
- ``streaming``: benchmarks/streaming_bench.py (SSE, background tasks,
  streamed uploads), which ``make bench`` runs after that and
  ``benchmarks/run.py --only-streaming`` runs alone;
- ``soak``: ``make soak`` (examples/blog/deploy/soak.py);
- ``failover``: ``make test-deploy``, one entry per run.

Nothing on a page is typed by hand. BENCHMARKS.md is rendered whole; the
README's figures sit between ``<!-- bench:NAME -->`` and ``<!-- /bench -->``
and are rewritten here; the docs pages use the ``{bench}`` role and
directive (docs/_ext/bench_figures.py), which call :func:`value` and
:func:`region` at build time. tests/test_figures.py fails when a page
states a figure outside these, or when a rendered region differs from what
this module renders from the file.

``python benchmarks/figures.py`` rewrites the pages from the file;
``--check`` only reports the stale ones; ``--store PART FILE`` puts a run
(``soak``, ``streaming``) or adds one (``failover``) into the file first.
Standard library only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import sys
import textwrap
import typing as t
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = ROOT / "docs" / "_static" / "bench" / "results.json"
README = ROOT / "README.md"
BENCHMARKS = ROOT / "BENCHMARKS.md"
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

PARTS = ("wsgi", "asgi", "streaming", "soak", "failover")
REGION = re.compile(r"<!-- bench:(?P<name>[\w-]+) -->\n(?P<body>.*?)<!-- /bench -->\n", re.S)
DATE = re.compile(r"\b20\d\d-\d\d-\d\d(?: \d\d:\d\d UTC)?")


def load(path: Path = RESULTS) -> dict[str, t.Any]:
    return t.cast("dict[str, t.Any]", json.loads(path.read_text(encoding="utf-8")))


def store(part: str, run: dict[str, t.Any], path: Path = RESULTS) -> None:
    """Replace one part's run, keeping the others (a failover run is added)."""
    if part not in PARTS:
        raise ValueError(f"unknown part {part!r}; one of {', '.join(PARTS)}")
    data = load(path) if path.exists() else {}
    if part == "failover" and "runs" not in run:
        previous = data.get("failover", {"runs": []})
        run = {**previous, "runs": [*previous["runs"], run]}
    data[part] = run
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1, default=str) + "\n", encoding="utf-8")


def source(data: t.Mapping[str, t.Any], part: str) -> str:
    """Which machine and date a part's figures come from, as a sentence."""
    m = data[part]["machine"]
    if "cpu" in m:
        where = f"{m['cpu']}, {m['cores']} cores, {m['implementation']} {m['python']}, {m['os']}"
    else:
        where = m["description"]
    return f"{m['date']}, {where}"


# -- single figures ----------------------------------------------------------


def _lookup(data: t.Mapping[str, t.Any], path: str) -> float:
    node: t.Any = data
    for key in path.strip().split("."):
        if not isinstance(node, t.Mapping) or key not in node:
            raise KeyError(f"the results file has no {path.strip()!r} (no {key!r})")
        node = node[key]
    if node is None:  # a target this run could not measure (no wrk, say)
        return float("nan")
    if not isinstance(node, (int, float)) or isinstance(node, bool):
        raise KeyError(f"{path.strip()!r} in the results file is not a number")
    return float(node)


FORMATS: dict[str, t.Callable[[float], str]] = {
    "x": lambda v: f"{v:.2f}x",
    "x1": lambda v: f"{v:.1f}x",
    "n": lambda v: f"{v:,.0f}",
    "us": lambda v: f"{v:,.0f} us",
    "us_per": lambda v: f"{1e6 / v:,.0f} us",  # a rate as the time per request
    "ms": lambda v: f"{v * 1000:.1f} ms",
    "in_ms": lambda v: f"{v:.1f} ms",  # stored in milliseconds already
    "kib": lambda v: f"{v:.1f} KiB",
    "mib": lambda v: f"{v:.1f} MiB",
    "mbs": lambda v: f"{v:,.0f} MB/s",
    "s": lambda v: f"{v:.2f} s",
    "pct": lambda v: f"{v:.1%}",
}


def value(data: t.Mapping[str, t.Any], spec: str) -> str:
    """One figure: ``PATH``, ``PATH / PATH`` (a ratio), then ``|FORMAT``.

    ``wsgi.inprocess.hello.ours.median / wsgi.inprocess.hello.pallets.median``
    gives ``9.68x``; ``asgi.e2e.async_view.ours.cpu_us|us`` gives ``280 us``.
    A ratio (and a stored ratio, ``cpu`` or ``wall``) defaults to the ``x``
    format, anything else to ``n``.
    """
    expr, _, fmt = spec.partition("|")
    if " / " in expr:
        top, bottom = expr.split(" / ")
        number = _lookup(data, top) / _lookup(data, bottom)
        fmt = fmt or "x"
    else:
        number = _lookup(data, expr)
        # A target's stored ratios are ratios already.
        fmt = fmt or ("x" if expr.strip().rsplit(".", 1)[-1] in ("cpu", "wall") else "n")
    if fmt.strip() not in FORMATS:
        raise KeyError(f"unknown format {fmt!r} in {spec!r}; one of {', '.join(FORMATS)}")
    if number != number:  # NaN: not measured in this run
        return "n/a (not measured)"
    return FORMATS[fmt.strip()](number)


def part_of(spec: str) -> str:
    return spec.strip().split(".", 1)[0]


def fill(data: t.Mapping[str, t.Any], template: str) -> str:
    """``{{spec}}`` placeholders replaced by their figures, paragraphs
    (not tables) wrapped again."""
    text = re.sub(r"\{\{(.+?)\}\}", lambda m: value(data, m.group(1)), template)
    blocks = []
    for block in text.split("\n\n"):
        if not block.lstrip().startswith("|"):
            block = textwrap.fill(" ".join(block.split()), 76, break_on_hyphens=False, break_long_words=False)
        blocks.append(block)
    return "\n\n".join(blocks)


# -- regions -----------------------------------------------------------------


def _asgi_targets(data: t.Mapping[str, t.Any]) -> str:
    run = data["asgi"]
    lines = ["| target | goal | by CPU time | by wall clock | met (CPU / wall) |", "|---|---|---|---|---|"]
    for tid, target in run["targets"].items():
        goal = "-" if target["goal"] is None else f"{target['goal']}x"
        if target["cpu"] is None:
            lines.append(f"| {target['label']} | {goal} | n/a | n/a | not measured |")
            continue
        cpu = value(data, f"asgi.targets.{tid}.cpu|x")
        wall = value(data, f"asgi.targets.{tid}.wall|x")
        met = "-" if target["goal"] is None else " / ".join(
            "yes" if target[k] >= target["goal"] else "no" for k in ("cpu", "wall"))
        lines.append(f"| {target['label']} | {goal} | {cpu} | {wall} | {met} |")
    lines += ["", f"Measured by `benchmarks/asgi_bench.py` (`make bench`) on {source(data, 'asgi')}."]
    return "\n".join(lines) + "\n"


def _wsgi(data: t.Mapping[str, t.Any]) -> str:
    import report

    return report.render(dict(data["wsgi"]))


def _asgi(data: t.Mapping[str, t.Any]) -> str:
    import report

    return report.asgi_section(dict(data["asgi"]))


def _soak(data: t.Mapping[str, t.Any]) -> str:
    run = data["soak"]
    lines = [
        "## Soak (`make soak`)", "",
        f"Measured on {source(data, 'soak')}; gunicorn with 2 workers on PostgreSQL and Redis, "
        f"wrk -t2 -c8 for {run['duration']:g} s per worker class on the example blog: index page, "
        "a post's page (session write), JSON list and `POST /api/posts` in turn. RSS and descriptors "
        "are the two workers' totals, at 10% and 100% of the run (descriptors: the most seen in a "
        "3 s window there, since pooled connections come and go).", "",
        "| workers | requests | req/s | non-2xx/3xx + socket errors | RSS at 10% | RSS at 100% "
        "| RSS change | fds at 10% | fds at 100% | pass |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in run["runs"]:
        lines.append(
            f"| 2 {r['worker_class']} | {r['requests']} | {r['rps']:.0f} | {r['errors']} | "
            f"{r['rss_10'] / 1024:.1f} MiB | {r['rss_100'] / 1024:.1f} MiB | {r['rss_growth']:+.1%} | "
            f"{r['fds_10']} | {r['fds_100']} | {'yes' if r['passed'] else 'NO'} |")
    lines += ["", f"Pass: 0 errors, RSS within {run['rss_tolerance']:.0%}, no descriptor growth."]
    return "\n".join(lines) + "\n"


def _failover(data: t.Mapping[str, t.Any]) -> str:
    run = data["failover"]
    lines = ["## Failover (`make test-deploy`)", "", run["setup"], "",
             "| run | measured on | requests | writes acknowledged (201) | non-2xx during the kill "
             "| writes lost | restarted server's share of the next requests |",
             "|---|---|---|---|---|---|---|"]
    for r in run["runs"]:
        by_status = sorted(r["non_2xx_by_status"].items())
        if len(by_status) == 1:
            failed = f"{r['non_2xx']} ({by_status[0][0]})"
        else:
            failed = f"{r['non_2xx']}" + (" (" + ", ".join(f"{code}: {n}" for code, n in by_status) + ")"
                                          if by_status else "")
        m = r.get("machine") or run["machine"]
        where = m.get("description") or f"{m['cpu']}, {m['cores']} cores"
        lines.append(
            f"| {r['label']} | {m['date']}, {where} | {r['requests']} | {r['writes_acknowledged']} | {failed} "
            f"| {r['writes_lost']} | {r['served_by_restarted_server']} of {r['requests_after_rejoin']} |")
    lines += ["", run["notes"]]
    return "\n".join(lines) + "\n"


# How each streaming target's measure reads, and its goal.
_STREAMING_UNITS = {"upload_rss": "mib", "upload_first_chunk": "pct"}


def _rounds(n: int) -> str:
    return f"{n} round" + ("" if n == 1 else "s")


def _streaming_met(target: t.Mapping[str, t.Any]) -> str:
    v, goal = target["value"], target["goal"]
    if v is None:
        return "not measured"
    ok = {"<=": v <= goal, "<": v < goal, ">=": v >= goal}[target["op"]]
    return "yes" if ok else "**no**"


def _streaming_targets(data: t.Mapping[str, t.Any]) -> str:
    run = data["streaming"]
    lines = ["| target | goal | measured | met |", "|---|---|---|---|"]
    for tid, target in run["targets"].items():
        unit = _STREAMING_UNITS.get(tid, "x")
        if tid == "upload_first_chunk":
            goal = "before the upload ends (under 100%)"
        else:
            goal = f"{target['op'].replace('<=', '≤').replace('>=', '≥')} {FORMATS[unit](target['goal'])}"
        shown = value(data, f"streaming.targets.{tid}.value|{unit}")
        lines.append(f"| {target['label']} | {goal} | {shown} | {_streaming_met(target)} |")
    sse, upload = run["sse"], run["upload"]
    lines += ["", f"Measured by `benchmarks/streaming_bench.py` (`make bench`, or `benchmarks/run.py "
              f"--only-streaming`) on {source(data, 'streaming')}: SSE with {sse['connections']:,} idle "
              f"connections per server, {sse['broadcasts']} events per round, {_rounds(sse['rounds'])} "
              f"(the best round of each); the upload {upload['size_mib']:,} MiB, {_rounds(upload['rounds'])}; "
              "uvicorn with h11 and the asyncio loop, one worker, for every server."]
    return "\n".join(lines) + "\n"


def _streaming(data: t.Mapping[str, t.Any]) -> str:
    run = data["streaming"]
    sse, bg, up = run["sse"], run["background"], run["upload"]

    def v(spec: str) -> str:
        return value(data, "streaming." + spec)

    lines = [
        "## Streaming", "",
        "Server-Sent Events, work after the response and streamed uploads, each against the "
        "Starlette way of doing the same; participants alternate round by round.", "",
        _streaming_targets(data).rstrip(), "",
        "### Server-Sent Events under uvicorn", "",
        f"Idle streams opened: {sse['connections']:,} ({sse['connections_note']}). An event is published "
        "by a POST to the same server and timed until it has arrived on every stream.", "",
        "| measure | flask.EventStream | sse-starlette | ours / sse-starlette |", "|---|---|---|---|",
    ]
    for key, label, unit in (("kib_per_connection", "memory per idle connection", "kib"),
                             ("p50_ms", "one event to every connection, p50", "in_ms"),
                             ("p99_ms", "one event to every connection, p99", "in_ms")):
        lines.append(f"| {label} | {v(f'sse.best.ours.{key}|{unit}')} "
                     f"| {v(f'sse.best.sse-starlette.{key}|{unit}')} | {v(f'sse.ratio_vs_sse_starlette.{key}|x')} |")
    lines += [
        "", "### Background task, in-process (ASGI, no server)", "",
        "The same app's async hello route, plain and with `current_app.add_background_task(noop)` "
        "(an async no-op, so it runs on the loop); the loop turns once after each request and the "
        f"timed window lasts until every task has run. {_rounds(bg['rounds'])} of {bg['slice_s']:g} s.", "",
        "| route | requests per CPU second |", "|---|---|",
        f"| plain hello | {v('background.plain|n')} |",
        f"| hello adding a no-op task | {v('background.task|n')} |",
        f"| with a task / plain | {v('background.ratio_cpu|x')} per CPU second, "
        f"{v('background.ratio_wall|x')} by wall clock |",
        "", "### Streamed upload under uvicorn", "",
        f"One {up['size_mib']:,} MiB body per round, written by the client 1 MiB at a time over loopback, to a "
        "view that writes each chunk to a temporary file: ours a `stream_body=True` route iterating "
        "`request.stream_chunks()`, Starlette's iterating `request.stream()`. Peak RSS growth is the "
        "server's VmHWM during the upload over its RSS before it (the worst round); the first chunk's "
        "moment is given as the share of the body the client had sent by then (the worst round).", "",
        "| measure | ours | Starlette | ours / Starlette (median of the rounds' ratios) |", "|---|---|---|---|",
        f"| throughput (median) | {v('upload.ours.mb_per_s|mbs')} | {v('upload.starlette.mb_per_s|mbs')} "
        f"| {v('upload.ratio_wall|x')} |",
        f"| server CPU per GiB (median) | {v('upload.ours.server_cpu_s_per_gib|s')} "
        f"| {v('upload.starlette.server_cpu_s_per_gib|s')} | {v('upload.ratio_cpu|x')} (Starlette's CPU / ours: above 1 ours used less) |",
        f"| peak RSS growth | {v('upload.ours.rss_growth_mib|mib')} | {v('upload.starlette.rss_growth_mib|mib')} | - |",
        f"| body sent when the first chunk reached the view | {v('upload.ours.first_chunk_share|pct')} "
        f"| {v('upload.starlette.first_chunk_share|pct')} | - |",
    ]
    ours_v, theirs_v = run["versions"].get("asgi-ours", {}), run["versions"].get("asgi-starlette", {})
    lines += ["", "Versions: " + ", ".join(f"{k} {ours_v[k]}" for k in ("uvicorn", "h11", "werkzeug") if k in ours_v)
              + "; " + ", ".join(f"{k} {theirs_v[k]}" for k in ("starlette", "sse-starlette", "anyio")
                                 if k in theirs_v) + "."]
    if run.get("problems"):
        lines += ["", "**Problems in this run:** " + "; ".join(run["problems"])]
    return "\n".join(lines) + "\n"


README_PERFORMANCE = """\
From the results file of `make bench` ({source_wsgi}; BENCHMARKS.md has
every number, the documentation's performance page the charts). The run
shared a loaded machine, so absolute requests/s are lower than a quiet
machine's; the ratios alternate participants round by round. In-process,
this package against Pallets Flask 3.1.3 on the same Werkzeug:

| scenario | ours / Pallets |
|---|---|
| hello world (`str`) | {{wsgi.inprocess.hello.ours.median / wsgi.inprocess.hello.pallets.median|x1}} \
(and {{wsgi.inprocess.hello.ours.median / wsgi.inprocess.hello.bottle.median}} Bottle) |
| `/user/<int>` returning a dict | {{wsgi.inprocess.param.ours.median / wsgi.inprocess.param.pallets.median|x1}} |
| blueprint route with a `before_request` hook | \
{{wsgi.inprocess.blueprint.ours.median / wsgi.inprocess.blueprint.pallets.median|x1}} |
| unknown URL (404) | {{wsgi.inprocess.404.ours.median / wsgi.inprocess.404.pallets.median|x1}} |
| POST form / POST JSON | {{wsgi.inprocess.form_in.ours.median / wsgi.inprocess.form_in.pallets.median|x1}} \
/ {{wsgi.inprocess.json_in.ours.median / wsgi.inprocess.json_in.pallets.median|x1}} |
| signed-cookie session read and write | \
{{wsgi.inprocess.session.ours.median / wsgi.inprocess.session.pallets.median|x1}} |
| Jinja template, 20 rows with `url_for` | \
{{wsgi.inprocess.template.ours.median / wsgi.inprocess.template.pallets.median|x1}} |
| geometric mean of the eight | {geomean} |

Behind gunicorn with wrk: {{wsgi.e2e.results.hello.ours.rps / wsgi.e2e.results.hello.pallets.rps}} (hello)
and {{wsgi.e2e.results.param.ours.rps / wsgi.e2e.results.param.pallets.rps}} (param). Start-up (process
start to the first response of a 30-route app) takes
{{wsgi.import.ours.startup_median / wsgi.import.pallets.startup_median}} Pallets' time; importing just
the Werkzeug and Blinker modules Flask needs takes
{{wsgi.import.ours.floor_median / wsgi.import.pallets.startup_median}}.
WebSocket echo in-process (per CPU second):
{{wsgi.ws.inprocess.echo.ours.median / wsgi.ws.inprocess.echo.starlette.median}} Starlette,
{{wsgi.ws.inprocess.echo.ours.median / wsgi.ws.inprocess.echo.quart.median|x1}} Quart.

Over ASGI ({source_asgi}; per CPU second, participants alternating):
async hello in-process is {{asgi.targets.inproc_hello_starlette.cpu}} Starlette and
{{asgi.targets.inproc_hello_quart.cpu|x1}} Quart; async param (a dict to JSON, 50 other routes)
{{asgi.inprocess.async_param.ours / asgi.inprocess.async_param.starlette}} Starlette (ratio of medians).
Under uvicorn: async hello {{asgi.targets.uvicorn_hello_starlette.cpu}} Starlette, sync hello
{{asgi.targets.uvicorn_sync_pallets.cpu}} Pallets Flask through a2wsgi, and an async view
{{asgi.targets.async_view_pallets.wall}} Pallets' async view under gunicorn by wall clock
({{asgi.targets.async_view_pallets.cpu}} per server CPU second). Under granian's WSGI server, where
the framework's own cost shows: {{asgi.targets.granian_wsgi_pallets.wall}} Pallets.
"""


def _readme_performance(data: t.Mapping[str, t.Any]) -> str:
    import report

    inproc = data["wsgi"]["inprocess"]
    ratios = [r for r in (report.ratio(v.get("ours"), v.get("pallets")) for v in inproc.values()) if r]
    text = README_PERFORMANCE.replace("\\\n", "")
    text = text.replace("{geomean}", FORMATS["x1"](report.geomean(ratios) or 0.0))
    text = text.replace("{source_wsgi}", source(data, "wsgi")).replace("{source_asgi}", source(data, "asgi"))
    return fill(data, text)


REGIONS: dict[str, t.Callable[[t.Mapping[str, t.Any]], str]] = {
    "wsgi": _wsgi,
    "asgi": _asgi,
    "soak": _soak,
    "failover": _failover,
    "asgi-targets": _asgi_targets,
    "streaming": _streaming,
    "streaming-targets": _streaming_targets,
    "readme-performance": _readme_performance,
}
BENCHMARKS_LAYOUT = ("wsgi", "asgi", "streaming", "soak", "failover")


def region(data: t.Mapping[str, t.Any], name: str) -> str:
    """One named region's Markdown, rendered from the results file."""
    if name not in REGIONS:
        raise KeyError(f"no region {name!r}; one of {', '.join(REGIONS)}")
    return REGIONS[name](data)


def wrap(name: str, body: str) -> str:
    return f"<!-- bench:{name} -->\n{body.rstrip()}\n<!-- /bench -->\n"


def render_benchmarks(data: t.Mapping[str, t.Any]) -> str:
    """BENCHMARKS.md, whole: every part a region of its own."""
    parts = [wrap(name, region(data, name)) for name in BENCHMARKS_LAYOUT if name in data]
    return "# Benchmarks\n\n" + "\n".join(parts)


def rewrite(text: str, data: t.Mapping[str, t.Any]) -> str:
    """A page with each marked region rendered again."""
    return REGION.sub(lambda m: wrap(m.group("name"), region(data, m.group("name"))), text)


def rendered_pages(data: t.Mapping[str, t.Any]) -> dict[Path, str]:
    return {BENCHMARKS: render_benchmarks(data), README: rewrite(README.read_text(encoding="utf-8"), data)}


def render_pages(path: Path = RESULTS) -> list[Path]:
    """Rewrite the pages that differ from what the results file renders."""
    written = []
    for page, text in rendered_pages(load(path)).items():
        if not page.exists() or page.read_text(encoding="utf-8") != text:
            page.write_text(text, encoding="utf-8")
            written.append(page)
    return written


def soak_machine() -> dict[str, str]:
    """What examples/blog/deploy/soak.py records of its machine."""
    return {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "description": f"{platform.node()}, {os.cpu_count()} cores, Python {platform.python_version()}",
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--check", action="store_true", help="report stale pages, write nothing")
    ap.add_argument("--store", nargs=2, metavar=("PART", "FILE"),
                    help="put the run in FILE (JSON) into the results file first")
    args = ap.parse_args(argv)
    if args.store:
        part, file = args.store
        run = json.loads(Path(file).read_text(encoding="utf-8"))
        if part == "failover":
            from common import machine_info

            runs = load().get("failover", {}).get("runs", [])
            run = {"label": f"{len(runs) + 1} (`make test-deploy`)", "machine": machine_info(), **run}
        store(part, run)
    if args.check:
        stale = [p for p, text in rendered_pages(load()).items()
                 if not p.exists() or p.read_text(encoding="utf-8") != text]
        for p in stale:
            print(f"{p.relative_to(ROOT)} differs from what {RESULTS.relative_to(ROOT)} renders")
        return 1 if stale else 0
    for p in render_pages():
        print(f"wrote {p.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
