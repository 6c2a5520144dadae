"""Renders BENCHMARKS.md's WSGI and ASGI parts from their runs in the results
file (benchmarks/figures.py puts the parts together)."""

from __future__ import annotations

import math
import typing as t

import ws_bench

import harness

TARGET_SCENARIO = 3.0
TARGET_GEOMEAN = 5.0
TARGET_HELLO_VS_BOTTLE = 0.8
TARGET_STARTUP = 0.6
TARGET_E2E = 1.3
E2E_TARGET_SCENARIOS = ("hello", "param")

PASS = "✅ pass"
FAIL = "❌ **FAIL**"
NA = "— n/a"

DESCRIPTIONS = {
    "hello": "`GET /` returns a str",
    "param": "`GET /user/<int:uid>` returns a dict (JSON)",
    "template": "Jinja template extending a base, 20 rows, `url_for` per row",
    "json_in": "`POST` JSON, `request.get_json()`, `jsonify` back",
    "form_in": "`POST` urlencoded, `request.form[...]`",
    "session": "read and write the signed-cookie session (cookie sent)",
    "blueprint": "blueprint route, `before_request` hook, path parameter",
    "404": "unknown URL",
}
NAMES = {"ours": "ours", "ours_off": "ours, shortcuts off", "pallets": "Pallets", "bottle": "Bottle",
         "falcon": "Falcon", "raw": "raw WSGI"}
OFF = "ours_off"  # the ours venv with FLASK_NO_SHORTCUTS=1: what the shortcuts buy
OFF_ABSENT = ("This run predates the \"ours, shortcuts off\" participant (the same venv with "
              "`FLASK_NO_SHORTCUTS=1`); the next `make bench` adds its figures.")


def ratio(a: dict[str, t.Any] | None, b: dict[str, t.Any] | None, key: str = "median") -> float | None:
    if not a or not b or key not in a or key not in b or not b[key]:
        return None
    return float(a[key]) / float(b[key])


def _outcome(x: float | None, ours: dict[str, t.Any] | None, ok: t.Callable[[float], bool]) -> bool | None:
    """Pass/fail of a ratio target; ours failing to run at all is a fail, not n/a."""
    if x is not None:
        return ok(x)
    return False if ours and "error" in ours else None


def mark(ok: bool | None) -> str:
    return NA if ok is None else (PASS if ok else FAIL)


def fmt_rps(slot: dict[str, t.Any] | None, key: str = "median") -> str:
    if not slot:
        return "—"
    if key in slot:
        return f"{slot[key]:,.0f}"
    if "error" in slot:
        return "**ERROR**"
    return "—"


def fmt_x(x: float | None) -> str:
    return "—" if x is None else f"{x:.2f}x"


def geomean(values: list[float]) -> float | None:
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else None


def has_off(data: dict[str, t.Any]) -> bool:
    """Whether the run measured ours with shortcuts off (older runs did not)."""
    return any(OFF in r for r in data.get("inprocess", {}).values())


def off_geomean(data: dict[str, t.Any]) -> tuple[float | None, int]:
    """Geometric mean of ours-with-shortcuts-off / Pallets, and over how many scenarios."""
    xs = [x for x in (ratio(r.get(OFF), r.get("pallets")) for r in data.get("inprocess", {}).values())
          if x is not None]
    return geomean(xs), len(xs)


def _first_line(text: str) -> str:
    lines = [ln for ln in str(text).strip().splitlines() if ln.strip()]
    return (lines[-1] if lines else "error")[:160].replace("|", "\\|")


def targets(data: dict[str, t.Any]) -> list[tuple[str, str, str, bool | None]]:
    """(target, goal, measured, ok) rows."""
    rows: list[tuple[str, str, str, bool | None]] = []
    inproc = data.get("inprocess", {})
    checks = data.get("checks", {})
    ratios: dict[str, float | None] = {s: ratio(r.get("ours"), r.get("pallets")) for s, r in inproc.items()}
    done = {s: x for s, x in ratios.items() if x is not None}
    all_scen = list(harness.SCENARIOS)
    if ratios:
        # A scenario whose output differs from Pallets' cannot pass, whatever its speed.
        failing = [s for s in ratios if ratios[s] is None or ratios[s] < TARGET_SCENARIO
                   or not checks.get(s, {}).get("match", False)]
        worst = min(done, key=lambda s: done[s]) if done else None
        measured = f"lowest {done[worst]:.2f}x ({worst})" if worst else "no scenario ran"
        if failing:
            measured += "; not met: " + ", ".join(failing)
        rows.append((f"every scenario, ours/Pallets in-process ({len(ratios)} scenarios)", f">= {TARGET_SCENARIO:g}x",
                     measured, not failing))
    gm = geomean(list(done.values()))
    complete = all(s in done for s in all_scen)
    gm_text = fmt_x(gm) + ("" if complete else f" (only {len(done)} of {len(all_scen)} scenarios)")
    rows.append(("geometric mean of the eight ratios", f">= {TARGET_GEOMEAN:g}x", gm_text,
                 None if gm is None else (complete and gm >= TARGET_GEOMEAN)))
    hello = inproc.get("hello", {})
    hb = ratio(hello.get("ours"), hello.get("bottle"))
    rows.append(("hello, ours/Bottle in-process", f">= {TARGET_HELLO_VS_BOTTLE:g}x", fmt_x(hb),
                 _outcome(hb, hello.get("ours"), lambda x: x >= TARGET_HELLO_VS_BOTTLE)))
    imp = data.get("import", {})
    sr = ratio(imp.get("ours"), imp.get("pallets"), "startup_median")
    same = imp.get("startup_same_output", {}).get("same", True)
    rows.append(("start-up to first response (import, `Flask()`, 30 routes, one request), ours/Pallets",
                 f"<= {TARGET_STARTUP:g}x", fmt_x(sr) + ("" if same else " (answers differ)"),
                 None if sr is None and "error" not in imp.get("ours", {})
                 else (sr is not None and same and sr <= TARGET_STARTUP)))
    e2e = data.get("e2e", {}).get("results", {})
    for s in E2E_TARGET_SCENARIOS:
        r = e2e.get(s, {})
        er = ratio(r.get("ours"), r.get("pallets"), "rps")
        note = fmt_x(er) if "skipped" not in data.get("e2e", {}) else "skipped"
        rows.append((f"gunicorn + wrk {s}, ours/Pallets req/s", f">= {TARGET_E2E:g}x", note,
                     _outcome(er, r.get("ours"), lambda x: x >= TARGET_E2E)))
    return rows


def render(data: dict[str, t.Any]) -> str:
    m = data["machine"]
    st = data["settings"]
    vers = data.get("versions", {})
    out: list[str] = []
    out.append(f"Generated by `make bench` (`benchmarks/run.py`) on {m['date']}; the whole run took "
               f"{data.get('elapsed_s', 0):.0f} s. Do not edit by hand: re-run `make bench`, or "
               "`python benchmarks/figures.py` to render the committed results file again.")
    out.append("")
    if st["quick"] or st["partial"]:
        what = []
        if st["quick"]:
            what.append("`--quick` (very short runs: smoke test only, the numbers are noisy)")
        if st["partial"]:
            what.append("`--scenarios " + ",".join(data["scenarios"]) + "` (a subset of the scenarios)")
        out += ["> **Note:** this report comes from a run with " + " and ".join(what) + ".", ""]

    problems = _problem_lines(data)
    if problems:
        out += ["> ## ⚠ Problems in this run", ">"]
        out += [f"> - {p}" for p in problems]
        out.append("")

    out += ["## Machine", "", "| CPU | cores | Python | OS |", "|---|---|---|---|",
            f"| {m['cpu']} | {m['cores']} | {m['implementation']} {m['python']} | {m['os']} |", ""]
    ours_v = vers.get("ours", {}).get("flask", "?")
    pal_v = vers.get("pallets", {}).get("flask", "?")
    ref = vers.get("pallets") or vers.get("ours") or {}
    oth = vers.get("others", {})
    out.append(
        f"Packages: ours = Flask {ours_v} (this repo, editable), Pallets = Flask {pal_v}; both on "
        f"Werkzeug {ref.get('werkzeug', '?')}, Jinja2 {ref.get('jinja2', '?')}, "
        f"itsdangerous {ref.get('itsdangerous', '?')}, Blinker {ref.get('blinker', '?')}. "
        f"References: Bottle {oth.get('bottle', '?')}, Falcon {oth.get('falcon', '?')} (pure-Python build). "
        f"gunicorn {ref.get('gunicorn', '?')}" + (f", {m['wrk'].split(' [')[0]}" if m.get("wrk") else "") + "."
    )
    out.append("")

    out += ["## Targets", "", "| target | goal | measured | result |", "|---|---|---|---|"]
    for name, goal, measured, ok in targets(data):
        out.append(f"| {name} | {goal} | {measured} | {mark(ok)} |")
    out.append("")

    out += _correctness(data)
    out += _inprocess(data)
    out += _references(data)
    out += _import(data)
    out += _e2e(data)
    out += ws_bench.section(data)
    out += _method(data)
    return "\n".join(out).rstrip() + "\n"


def _problem_lines(data: dict[str, t.Any]) -> list[str]:
    lines = []
    for venv, err in data.get("venv_errors", {}).items():
        lines.append(f"venv `{venv}` could not be built: {_first_line(err)}")
    for venv, err in data.get("worker_errors", {}).items():
        lines.append(f"harness `{venv}` failed: {_first_line(err)}")
    for s, c in data.get("checks", {}).items():
        if not c["match"]:
            why = [f"{NAMES[p]} raised {_first_line(c[p]['error'])}" for p in ("ours", "pallets") if "error" in c[p]]
            lines.append(f"**MISMATCH** in `{s}` between ours and Pallets: "
                         + ", ".join(why or c["problems"]))
        if OFF in c and not c["off_match"]:
            why = [f"{NAMES[p]} raised {_first_line(c[p]['error'])}" for p in (OFF, "pallets") if "error" in c[p]]
            lines.append(f"**MISMATCH** in `{s}` between ours with shortcuts off and Pallets: "
                         + ", ".join(why or c["off_problems"]))
    ours = data.get("workers", {}).get("ours", {}).get("targets", {}).get("flask", {})
    off = (ours.get("shortcuts") or {}).get("off")
    if off:
        lines.append("ours ran with shortcuts off: " + "; ".join(f"`{k}`: {_first_line(v)}" for k, v in off.items()))
    return lines


def _status(c: dict[str, t.Any]) -> str:
    return f"ERROR: {_first_line(c['error'])}" if "error" in c else f"`{c['status']}`"


def _correctness(data: dict[str, t.Any]) -> list[str]:
    checks = data.get("checks", {})
    out = ["## Correctness check", ""]
    if not checks:
        return out + ["Not run.", ""]
    bad = [s for s, c in checks.items() if not c["match"]]
    if bad:
        out.append(f"**⚠ MISMATCH: {len(bad)} of {len(checks)} scenarios do not give the same status and body "
                   f"on ours and Pallets: {', '.join(bad)}.** Their timings are shown but cannot pass a target.")
    else:
        out.append(f"All {len(checks)} scenarios give the same status and body on ours and Pallets "
                   "(checked before timing).")
    off = any(OFF in c for c in checks.values())
    if off:
        bad_off = [s for s, c in checks.items() if not c.get("off_match", False)]
        out.append(f"**⚠ MISMATCH with shortcuts off (`FLASK_NO_SHORTCUTS=1`): {len(bad_off)} of {len(checks)} "
                   f"scenarios differ from Pallets: {', '.join(bad_off)}.**" if bad_off else
                   "With shortcuts off (`FLASK_NO_SHORTCUTS=1`) too, every scenario gives Pallets' status and body.")
    out += ["", "| scenario | ours status | Pallets status | same body | result |"
            + (" shortcuts off status | shortcuts off result |" if off else ""),
            "|---|---|---|---|---|" + ("---|---|" if off else "")]
    for s, c in checks.items():
        o, p = c["ours"], c["pallets"]
        same = "—" if "error" in o or "error" in p else ("yes" if o["body"] == p["body"] else "**no**")
        res = "same" if c["match"] else "**MISMATCH**"
        if c.get("warning"):
            res += f" (note: {c['warning']})"
        row = f"| {s} | {_status(o)} | {_status(p)} | {same} | {res} |"
        if off:
            if OFF in c:
                off_res = "same" if c["off_match"] else "**MISMATCH**: " + ", ".join(c["off_problems"])
                if c.get("off_warning"):
                    off_res += f" (note: {c['off_warning']})"
                row += f" {_status(c[OFF])} | {off_res} |"
            else:
                row += " — | — |"
        out.append(row)
    out.append("")
    details = [(s, c) for s, c in checks.items() if not c["match"] and "error" not in c["ours"]
               and "error" not in c["pallets"]]
    for s, c in details:
        out += [f"<details><summary>{s}: bodies</summary>", "", "ours:", "```",
                c["ours"]["body"][:600], "```", "Pallets:", "```", c["pallets"]["body"][:600], "```",
                "</details>", ""]
    return out


def _inprocess(data: dict[str, t.Any]) -> list[str]:
    st = data["settings"]
    res = data.get("inprocess", {})
    off = has_off(data)
    out = ["## In-process (WSGI app called directly)", "",
           f"Median requests/s of {st['rounds']} runs of {st['duration']:g} s each, "
           + ("ours, ours with shortcuts off and Pallets alternating." if off else "ours and Pallets alternating."),
           "The range column gives the lowest and highest ratio of the rounds taken pairwise."]
    if off:
        out.append("\"ours, shortcuts off\" is the same venv with `FLASK_NO_SHORTCUTS=1`, every shortcut of "
                   "`flask/_accel/` switched off (docs: Shortcuts and the gate): what a user gets with the "
                   "switch, and what the shortcuts buy. It has no target.")
    out += ["", "| # | scenario | what | ours req/s | Pallets req/s | ours/Pallets | range | >= 3x |"
            + (" ours, shortcuts off req/s | shortcuts off/Pallets |" if off else ""),
            "|---|---|---|---|---|---|---|---|" + ("---|---|" if off else "")]
    ratios = []
    for i, s in enumerate(harness.SCENARIOS, 1):
        if s not in res:
            continue
        r = res[s]
        x = ratio(r.get("ours"), r.get("pallets"))
        if x is not None:
            ratios.append(x)
        ok = None if x is None else (x >= TARGET_SCENARIO and data["checks"][s]["match"])
        if x is None and "error" in r.get("ours", {}):
            ok = False
        row = (f"| {i} | {s} | {DESCRIPTIONS[s]} | {fmt_rps(r.get('ours'))} | {fmt_rps(r.get('pallets'))} "
               f"| {fmt_x(x)} | {_spread(r.get('ours'), r.get('pallets'))} | {mark(ok)} |")
        if off:
            differs = not data["checks"].get(s, {}).get("off_match", True)
            row += (f" {fmt_rps(r.get(OFF))} | {fmt_x(ratio(r.get(OFF), r.get('pallets')))}"
                    + (" (**output differs**)" if differs else "") + " |")
        out.append(row)
    gm = geomean(ratios)
    gm_row = (f"| | **geometric mean** | {len(ratios)} scenarios | | | **{fmt_x(gm)}** | | "
              f"{mark(None if gm is None else gm >= TARGET_GEOMEAN)} (>= 5x) |")
    if off:
        off_gm, n = off_geomean(data)
        gm_row += f" | **{fmt_x(off_gm)}**" + ("" if n == len(ratios) else f" ({n} scenarios)") + " |"
    out += [gm_row, ""]
    if not off and res:
        out += [OFF_ABSENT, ""]
    errors = [(s, p, v["error"]) for s, r in res.items() for p, v in r.items() if "error" in v]
    if errors:
        out += ["Errors:", ""]
        out += [f"- `{s}` on {NAMES[p]}: {_first_line(e)}" for s, p, e in errors]
        out.append("")
    return out


def _spread(a: dict[str, t.Any] | None, b: dict[str, t.Any] | None) -> str:
    if not a or not b or not a.get("rps") or len(a["rps"]) != len(b.get("rps", ())):
        return "—"
    pairs = [x / y for x, y in zip(a["rps"], b["rps"])]
    return f"{min(pairs):.2f}–{max(pairs):.2f}"


def _references(data: dict[str, t.Any]) -> list[str]:
    res = data.get("inprocess", {})
    rows = [s for s in ("hello", "param") if s in res]
    if not rows:
        return []
    out = ["## Reference points (in-process)", "",
           "Same harness and rounds; Bottle, Falcon and a hand-written WSGI callable serve only these two.", "",
           "| scenario | ours | Pallets | Bottle | Falcon | raw WSGI | ours/Bottle | ours/Falcon | ours/raw |",
           "|---|---|---|---|---|---|---|---|---|"]
    for s in rows:
        r = res[s]
        cells = [fmt_rps(r.get(p)) for p in ("ours", "pallets", "bottle", "falcon", "raw")]
        xs = [fmt_x(ratio(r.get("ours"), r.get(p))) for p in ("bottle", "falcon", "raw")]
        out.append(f"| {s} | " + " | ".join(cells + xs) + " |")
    out.append("")
    return out


def _import(data: dict[str, t.Any]) -> list[str]:
    imp = data.get("import", {})
    st = data["settings"]
    out = ["## Start-up", "",
           "Start-up as a user feels it: wall time of a whole process that imports flask, creates the app, "
           "registers 30 routes (10 static, 20 with converters) and answers one request by calling the WSGI "
           "app directly (`benchmarks/apps/startup_app.py`; both print the same answer, checked). "
           f"Median of {st['import_runs']} runs, "
           + ("ours, ours with shortcuts off and Pallets" if OFF in imp else "ours and Pallets")
           + " alternating. `python -c \"import flask\"` "
           "and the bare interpreter (`python -c pass`) are shown for scale. The Werkzeug and Blinker row "
           "times a process that imports only the library modules `import flask` needs, without flask.", ""]
    if not imp:
        return out + ["Not run.", ""]
    o, p = imp.get("ours", {}), imp.get("pallets", {})

    def ms(d: dict[str, t.Any], k: str) -> str:
        return f"{d[k] * 1000:.1f} ms" if k in d else ("**ERROR**" if "error" in d else "—")

    def net(d: dict[str, t.Any], k: str) -> float | None:
        return d[k] - d["bare_median"] if k in d and "bare_median" in d else None

    sr = ratio(o, p, "startup_median")
    ir = ratio(o, p)
    same = imp.get("startup_same_output", {}).get("same", True)
    off_same = imp.get("startup_same_output", {}).get("off_same", True)
    f = imp.get(OFF)
    off_rows = [] if f is None else [
        "| start-up to first response, shortcuts off (`FLASK_NO_SHORTCUTS=1`) | "
        f"{ms(f, 'startup_median')} | {ms(p, 'startup_median')} | **{fmt_x(ratio(f, p, 'startup_median'))}**"
        + ("" if off_same else " (answers differ)") + " |"]
    ok = None if sr is None else (same and sr <= TARGET_STARTUP)
    sn, sp = net(o, "startup_median"), net(p, "startup_median")
    out += ["| | ours | Pallets | ours/Pallets |", "|---|---|---|---|",
            f"| **start-up to first response** | {ms(o, 'startup_median')} | {ms(p, 'startup_median')} | "
            f"**{fmt_x(sr)}**" + (f" {mark(ok)} (<= {TARGET_STARTUP:g}x) |" if sr is not None else " |"),
            *off_rows,
            "| the same less the bare interpreter | "
            + " | ".join("—" if v is None else f"{v * 1000:.1f} ms" for v in (sn, sp))
            + f" | {fmt_x(sn / sp) if sn is not None and sp else '—'} |",
            f"| `python -c \"import flask\"` | {ms(o, 'median')} | {ms(p, 'median')} | {fmt_x(ir)} |",
            f"| `python -c pass` | {ms(o, 'bare_median')} | {ms(p, 'bare_median')} | |",
            f"| modules in `sys.modules` after `import flask` | {o.get('modules', '—')} | {p.get('modules', '—')} | |",
            *([f"| Werkzeug and Blinker alone, as `import flask` loads them | {ms(o, 'floor_median')} | "
               f"| {fmt_x(_floor_ratio(o, p))} of Pallets' start-up |"]
              if "floor_median" in o else []),
            f"| Jinja2 / Click imported by `import flask` | {_yn(o)} | {_yn(p)} | |", ""]
    if not same:
        out += ["**The start-up app printed different answers on ours and Pallets.**", ""]
    if not off_same:
        out += ["**The start-up app printed different answers on ours with shortcuts off and Pallets.**", ""]
    for name, d in imp.items():
        if isinstance(d, dict) and "error" in d:
            out += [f"Start-up failed in `{name}`: {_first_line(d['error'])}", ""]
    return out


def _floor_ratio(o: dict[str, t.Any], p: dict[str, t.Any]) -> float | None:
    """The library floor against Pallets' whole start-up: no implementation
    on these libraries can start faster than this."""
    if "floor_median" not in o or not p.get("startup_median"):
        return None
    return float(o["floor_median"]) / float(p["startup_median"])


def _yn(d: dict[str, t.Any]) -> str:
    if "jinja2" not in d:
        return "—"
    return f"{'yes' if d['jinja2'] else 'no'} / {'yes' if d['click'] else 'no'}"


def _e2e(data: dict[str, t.Any]) -> list[str]:
    e2e = data.get("e2e", {})
    st = data["settings"]
    out = ["## End to end: gunicorn + wrk", ""]
    if "skipped" in e2e:
        return out + [f"Skipped: {e2e['skipped']}.", ""]
    res = e2e.get("results", {})
    off = any(OFF in r for r in res.values())
    out += [f"gunicorn, 1 sync worker on 127.0.0.1 (a free port), loaded by `wrk -t1 -c{st['e2e_connections']} "
            f"-d{st['e2e_duration']}s --latency`; median of {st['e2e_rounds']} rounds, frameworks in turn. "
            "The sync worker closes every connection, so each request includes a TCP connect; wrk and gunicorn "
            "share the machine's cores.", "",
            "| scenario | ours req/s | Pallets req/s | ours/Pallets | ours p99 | Pallets p99 | >= 1.3x |"
            + (" ours, shortcuts off req/s | shortcuts off/Pallets |" if off else ""),
            "|---|---|---|---|---|---|---|" + ("---|---|" if off else "")]
    for s, r in res.items():
        x = ratio(r.get("ours"), r.get("pallets"), "rps")
        target = (mark(_outcome(x, r.get("ours"), lambda v: v >= TARGET_E2E))
                  if s in E2E_TARGET_SCENARIOS else "")
        row = (f"| {s} | {fmt_rps(r.get('ours'), 'rps')} | {fmt_rps(r.get('pallets'), 'rps')} | {fmt_x(x)} "
               f"| {_p99(r.get('ours'))} | {_p99(r.get('pallets'))} | {target} |")
        if off:
            row += f" {fmt_rps(r.get(OFF), 'rps')} | {fmt_x(ratio(r.get(OFF), r.get('pallets'), 'rps'))} |"
        out.append(row)
    out.append("")
    refs = [s for s in ("hello", "param") if s in res]
    if refs:
        out += ["| scenario | ours | Pallets | Bottle | Falcon | raw WSGI |", "|---|---|---|---|---|---|"]
        for s in refs:
            cells = [f"{fmt_rps(res[s].get(p), 'rps')} req/s, p99 {_p99(res[s].get(p))}"
                     if "rps" in res[s].get(p, {}) else fmt_rps(res[s].get(p), "rps")
                     for p in ("ours", "pallets", "bottle", "falcon", "raw")]
            out.append(f"| {s} | " + " | ".join(cells) + " |")
        out.append("")
    notes = [f"- `{s}` on {NAMES[p]}: {_first_line(v['error'])}" for s, r in res.items() for p, v in r.items()
             if "error" in v]
    notes += [f"- `{s}` on {NAMES[p]}: {v['non2xx']} non-2xx responses" for s, r in res.items()
              for p, v in r.items() if v.get("non2xx")]
    if notes:
        out += ["Problems:", "", *notes, ""]
    return out


def _p99(slot: dict[str, t.Any] | None) -> str:
    return f"{slot['p99_ms']:.2f} ms" if slot and "p99_ms" in slot else "—"


def _method(data: dict[str, t.Any]) -> list[str]:
    return [
        "## Method", "",
        "- `make bench` runs `benchmarks/run.py`; options: `--quick` (smoke test), "
        "`--scenarios hello,param,...`, `--no-e2e`, `--only-startup` (prints start-up only). Every figure of this page, the README and the docs comes from one file, `docs/_static/bench/results.json` (`benchmarks/figures.py` renders them).",
        "- Three virtualenvs under `.cache/bench/`: `ours` (`pip install -e .`), `pallets` (`flask==3.1.3`), "
        "`others` (Bottle, Falcon); shared dependencies are pinned to the same versions in all of them.",
        "- One application, `benchmarks/apps/flask_app.py`, runs unchanged on both Flask implementations. "
        "Besides the measured routes it has 50 other parameterised routes and a blueprint.",
        "- In-process: `benchmarks/harness.py` runs in each venv as a subprocess and calls "
        "`app(environ, start_response)` directly with a copy of a prebuilt environ and a fresh `wsgi.input` "
        "per request, consumes the body and closes the iterator. The session cookie is made once at set-up "
        "by the same app. Each participant gets an untimed warm-up first.",
        "- Before timing, every scenario's status and body are compared between ours and Pallets.",
        "- \"ours, shortcuts off\": the `ours` venv run with `FLASK_NO_SHORTCUTS=1` in a harness (and "
        "start-up and gunicorn processes) of its own, checked against Pallets and timed in the same "
        "alternating rounds; its harness must report every shortcut but the bridges off "
        "(`flask._accel.status()`).",
        "- Start-up and import time: wall time of the whole process (no `-X importtime`); "
        "`--only-startup` times just this part and prints it.",
        "",
    ]


def summary(data: dict[str, t.Any]) -> str:
    """A short plain-text version of the targets table for the terminal."""
    lines = ["targets:"]
    for name, goal, measured, ok in targets(data):
        word = "n/a " if ok is None else ("PASS" if ok else "FAIL")
        lines.append(f"  [{word}] {name} {goal}: {measured}")
    if has_off(data):
        gm, n = off_geomean(data)
        sr = ratio(data.get("import", {}).get(OFF), data.get("import", {}).get("pallets"), "startup_median")
        lines.append(f"  [info] ours, shortcuts off (FLASK_NO_SHORTCUTS=1) / Pallets: geometric mean {fmt_x(gm)} "
                     f"({n} scenarios), start-up {fmt_x(sr)}")
    return "\n".join(lines)


def asgi_section(run: dict[str, t.Any]) -> str:
    """BENCHMARKS.md's ASGI section, from one run of the results file."""
    st = run["settings"]
    m = run["machine"]
    lines = ["## ASGI (`benchmarks/asgi_bench.py`)", ""]
    lines.append(
        f"Measured on {m['date']}: {m['cpu']}, {m['cores']} cores, {m['implementation']} {m['python']}, "
        f"{m['os']}. "
        "**In-process**: requests per second of the harness process's CPU time "
        "(`time.process_time()`, all threads, so a pool hop's work counts), "
        "the ASGI callable awaited in one event loop with a prepared scope, "
        "receive and send, the same `receive`/`send` for every participant; "
        f"{st['rounds']} rounds of about {st['slice_s']} CPU seconds per participant, participants "
        "alternating; the table gives medians, the ratios are the median of per-round ratios. "
        "CPU time rather than wall time: on this shared machine other processes take the "
        "cores for seconds at a time, which wall time counts against whoever is running. "
        "**End to end**: 1 server worker on loopback, `wrk -t1 -c10`, the servers of a "
        "scenario running side by side and measured in alternating "
        f"{st['e2e_seconds']} s slices ({st['e2e_rounds']} rounds): wall-clock requests/s and the server's CPU "
        "time per request (its process and children, Linux schedstat). wrk shares the cores "
        "with the server, so wall-clock figures also measure the machine's load."
    )
    lines.append("")
    if run.get("problems"):
        lines += ["**Differences found:**", ""] + [f"- {p}" for p in run["problems"]] + [""]
    names = run["participants"]
    lines += ["| in-process (req per CPU s) | " + " | ".join(names) + " |",
              "|---|" + "---|" * len(names)]
    for scenario, values in run["inprocess"].items():
        lines.append(f"| {scenario} | " + " | ".join(
            f"{values[n]:,.0f}" if n in values else "" for n in names) + " |")
    e2e = run.get("e2e") or {}
    if e2e:
        servers = sorted({p for v in e2e.values() for p in v})
        lines += ["", "End to end: requests/s (server CPU us per request).", "",
                  "| end to end | " + " | ".join(servers) + " |", "|---|" + "---|" * len(servers)]
        for scenario, values in e2e.items():
            lines.append(f"| {scenario} | " + " | ".join(
                (f"{values[n]['rps']:,.0f} ({values[n]['cpu_us']:,.0f} us)"
                 + (f" ({values[n]['non2xx']} non-2xx)" if values[n]["non2xx"] else ""))
                if n in values else "" for n in servers) + " |")
    lines += ["", "| target | goal | ratio by CPU time | ratio by wall-clock req/s | met (CPU / wall) |",
              "|---|---|---|---|---|"]
    for target in run["targets"].values():
        goal, cpu, wall = target["goal"], target["cpu"], target["wall"]
        if cpu is None or wall is None:
            lines.append(f"| {target['label']} | {goal}x | n/a | n/a | not measured |")
        elif goal is None:
            lines.append(f"| {target['label']} | - | {cpu:.2f}x | {wall:.2f}x | - |")
        else:
            met = f"{'yes' if cpu >= goal else 'NO'} / {'yes' if wall >= goal else 'NO'}"
            lines.append(f"| {target['label']} | {goal}x | {cpu:.2f}x | {wall:.2f}x | {met} |")
    return "\n".join(lines) + "\n"
