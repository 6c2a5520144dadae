"""Benchmark our Flask against Pallets Flask 3.1.3, with Bottle, Falcon and a
raw WSGI callable as reference points; stores the run in the results file
(docs/_static/bench/results.json) and renders BENCHMARKS.md, the README's
figures and the docs' charts from it (benchmarks/figures.py).

Usage: python benchmarks/run.py [--quick] [--scenarios hello,param] [--no-e2e]
                                [--only-startup] [--asgi-only] [--only-streaming]

Each implementation lives in its own virtualenv under .cache/bench/ (created
on first use, re-created when its requirements change):
  ours     pip install -e <repo>      (+ gunicorn)
  pallets  pip install flask==3.1.3   (+ gunicorn)
  others   bottle, falcon             (+ gunicorn)
Shared dependencies are pinned to the same versions in every venv, so the
only difference between "ours" and "pallets" is the flask package.

Parts:
  1. correctness: every scenario must give the same status and body on ours
     (shortcuts on and off) and on Pallets; a difference is reported loudly,
     never hidden;
  2. in-process: a harness subprocess per venv (benchmarks/harness.py) calls
     the WSGI app directly; runs alternate ours, ours with shortcuts off,
     Pallets, ... per round and the median requests/s is reported;
  3. start-up: wall time of a whole process that imports flask, creates the
     app, registers 30 routes and answers one request (apps/startup_app.py;
     both must print the same answer), and of `python -c "import flask"`;
     median of runs;
  4. end to end: each app behind gunicorn (1 sync worker, 127.0.0.1, a free
     port) loaded by wrk; skipped with a note when wrk is not installed.
Then, as parts of their own in the results file: the ASGI benchmarks
(asgi_bench.py, alone with --asgi-only) and the streaming ones: SSE,
background tasks and streamed uploads (streaming_bench.py, alone with
--only-streaming).
"ours, shortcuts off" (ours_off) is the ours venv run with
FLASK_NO_SHORTCUTS=1 (every shortcut of flask/_accel/ off), in a harness
process of its own, in parts 1 to 4.
Files: common.py (paths, participants, process helpers), harness.py (runs
inside each venv), e2e.py (gunicorn + wrk), report.py (BENCHMARKS.md's WSGI
part), figures.py (the results file and every page's figures),
apps/ (the applications). These scripts use only the standard library.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import select
import shutil
import signal
import statistics
import subprocess
import sys
import time
import typing as t
from pathlib import Path

import e2e
import report
import ws_bench

from common import APPS
from common import CACHE
from common import CHILDREN
from common import CONSTRAINTS
from common import FLASKS
from common import HARNESS
from common import OUTPUT
from common import PARTICIPANT_ENV
from common import PARTICIPANTS
from common import REF_SCENARIOS
from common import REFERENCES
from common import ROOT
from common import SCENARIOS
from common import VENVS
from common import kill_group
from common import clean_env
from common import log
from common import loud
from common import machine_info
from common import participant_env
from common import venv_python
from common import worker_of

VENVS.update(ws_bench.VENVS)  # the WebSocket section's own venvs


# -- virtualenvs -------------------------------------------------------------


def ensure_venv(name: str) -> str | None:
    """Create or refresh one venv; returns an error text or None."""
    vdir = CACHE / name
    py = venv_python(name)
    constraints = CACHE / "constraints.txt"
    constraints.write_text(CONSTRAINTS)
    fingerprint = {"reqs": VENVS[name], "constraints": CONSTRAINTS, "python": sys.version}
    if name == "ours":
        fingerprint["pyproject"] = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    stamp_text = json.dumps(fingerprint, sort_keys=True)
    stamp = vdir / ".bench-stamp"
    if py.exists() and stamp.exists() and stamp.read_text() == stamp_text:
        return compile_ours(name)
    log(f"  creating venv {vdir.relative_to(ROOT)} ...")
    if vdir.exists():
        shutil.rmtree(vdir)
    cmds = [
        [sys.executable, "-m", "venv", str(vdir)],
        [str(py), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-c", str(constraints), *VENVS[name]],
    ]
    for cmd in cmds:
        proc = subprocess.run(cmd, cwd=CACHE, env=clean_env(), capture_output=True, text=True)
        if proc.returncode != 0:
            return f"`{' '.join(cmd)}` failed:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}"
    stamp.write_text(stamp_text)
    return compile_ours(name)


def compile_ours(name: str) -> str | None:
    """Byte-compile our editable source, as pip compiles an installed wheel
    (Pallets'), so import times compare like with like even where
    PYTHONDONTWRITEBYTECODE keeps imports from writing .pyc files."""
    if name != "ours":
        return None
    cmd = [str(venv_python(name)), "-m", "compileall", "-q", str(ROOT / "src" / "flask")]
    proc = subprocess.run(cmd, cwd=CACHE, env=clean_env(), capture_output=True, text=True)
    if proc.returncode != 0:
        return f"`{' '.join(cmd)}` failed:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}"
    return None


def pip_versions(name: str) -> dict[str, str]:
    proc = subprocess.run(
        [str(venv_python(name)), "-m", "pip", "list", "--format=json", "--disable-pip-version-check"],
        capture_output=True, text=True, env=clean_env(), cwd=CACHE,
    )
    try:
        return {p["name"].lower(): p["version"] for p in json.loads(proc.stdout)}
    except ValueError:
        return {}


# -- in-process harness ------------------------------------------------------


class Worker:
    """One harness subprocess in one venv, driven line by line; ``name``
    (default the venv's) names it where one venv runs two harnesses, and
    ``env`` is added to its environment."""

    def __init__(self, venv: str, targets: list[str], name: str | None = None,
                 env: dict[str, str] | None = None) -> None:
        self.venv = name or venv
        self.log_path = CACHE / f"harness-{self.venv}.log"
        self.log_file = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [str(venv_python(venv)), str(HARNESS), "--targets", ",".join(targets)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log_file,
            text=True, env={**clean_env(), **(env or {})}, cwd=CACHE, start_new_session=True,
        )
        CHILDREN.append(self.proc)
        self.info = self._read(120)

    def _read(self, timeout: float) -> dict[str, t.Any]:
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not ready:
            raise RuntimeError(f"harness in {self.venv} timed out; see {self.log_path}")
        line = self.proc.stdout.readline()
        if not line:
            self.log_file.flush()
            tail = self.log_path.read_text()[-1500:]
            raise RuntimeError(f"harness in {self.venv} exited:\n{tail}")
        return json.loads(line)

    def ask(self, cmd: dict[str, t.Any], timeout: float = 60) -> dict[str, t.Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()
        return self._read(timeout)

    def close(self) -> None:
        try:
            self.ask({"cmd": "quit"}, 5)
        except Exception:
            pass
        kill_group(self.proc)


def decode_check(res: dict[str, t.Any]) -> dict[str, t.Any]:
    if "error" in res:
        return {"error": res["error"]}
    headers = {k.lower(): v for k, v in res["headers"]}
    return {
        "status": res["status"],
        "content_type": headers.get("content-type", ""),
        "body": base64.b64decode(res["body"]).decode("utf-8", "replace"),
    }


def is_failure(check: dict[str, t.Any]) -> bool:
    return "error" in check or check["status"][:1] == "5"


def compare(ours: dict[str, t.Any], pal: dict[str, t.Any]) -> tuple[list[str], str | None]:
    """What differs between one of ours and Pallets: problems, and a warning."""
    if "error" in ours or "error" in pal:
        return ["error"], None
    problems = []
    if ours["status"] != pal["status"]:
        problems.append(f"status {ours['status']!r} != {pal['status']!r}")
    if ours["body"] != pal["body"]:
        problems.append("body differs")
    warning = None
    if ours["content_type"] != pal["content_type"]:
        warning = f"Content-Type {ours['content_type']!r} != {pal['content_type']!r}"
    return problems, warning


def run_checks(workers: dict[str, Worker], scenarios: list[str]) -> dict[str, dict[str, t.Any]]:
    """Compare ours, with shortcuts on (``match``) and off (``off_match``),
    with Pallets on every scenario before any timing."""
    checks: dict[str, dict[str, t.Any]] = {}
    for scenario in scenarios:
        entry: dict[str, t.Any] = {}
        for part in FLASKS:
            w = workers.get(worker_of(part))
            entry[part] = (
                decode_check(w.ask({"cmd": "check", "target": part_target(part), "scenario": scenario}))
                if w else {"error": "venv unavailable"}
            )
        problems, warning = compare(entry["ours"], entry["pallets"])
        if warning:
            entry["warning"] = warning
        entry["match"] = not problems
        entry["problems"] = problems
        off_problems, off_warning = compare(entry["ours_off"], entry["pallets"])
        if off_warning:
            entry["off_warning"] = off_warning
        entry["off_match"] = not off_problems
        entry["off_problems"] = off_problems
        checks[scenario] = entry
        mark = "ok" if not problems else "MISMATCH: " + ", ".join(problems)
        off = "ok" if not off_problems else "MISMATCH: " + ", ".join(off_problems)
        notes = [n for n in (warning, off_warning) if n]
        log(f"  {scenario:<10} {mark}; shortcuts off: {off}" + (f"  (warning: {'; '.join(notes)})" if notes else ""))
    return checks


def part_target(part: str) -> str:
    return PARTICIPANTS[part][1]


def run_inprocess(
    workers: dict[str, Worker], scenarios: list[str], checks: dict[str, dict[str, t.Any]],
    rounds: int, duration: float,
) -> dict[str, dict[str, dict[str, t.Any]]]:
    """scenario -> participant -> {"rps": [...], "median": x} or {"error": text}."""
    results: dict[str, dict[str, dict[str, t.Any]]] = {}
    for scenario in scenarios:
        parts = [*FLASKS] + ([*REFERENCES] if scenario in REF_SCENARIOS else [])
        res: dict[str, dict[str, t.Any]] = {}
        live: list[str] = []
        for part in parts:
            w = workers.get(worker_of(part))
            if w is None:
                res[part] = {"error": "venv unavailable"}
                continue
            if part in FLASKS:
                c = checks[scenario][part]
                if is_failure(c):
                    res[part] = {"error": c.get("error") or f"status {c['status']}"}
                    continue
            # Untimed warm-up: caches, lazy imports, first-request setup.
            warm = w.ask({"cmd": "time", "target": part_target(part), "scenario": scenario, "duration": min(0.2, duration)})
            if "error" in warm:
                res[part] = {"error": warm["error"]}
                continue
            res[part] = {"rps": []}
            live.append(part)
        for _ in range(rounds):
            for part in live:  # A B A B ...: drift hits every participant alike
                if "error" in res[part]:
                    continue
                w = workers[worker_of(part)]
                r = w.ask({"cmd": "time", "target": part_target(part), "scenario": scenario, "duration": duration},
                          timeout=duration + 60)
                if "error" in r:
                    res[part] = {"error": r["error"]}
                else:
                    res[part]["rps"].append(r["n"] / r["elapsed"])
        for part in live:
            if "rps" in res[part]:
                res[part]["median"] = statistics.median(res[part]["rps"])
        results[scenario] = res
        line = "  ".join(
            f"{p}={v['median']:,.0f}/s" if "median" in v else f"{p}=ERROR" for p, v in res.items()
        )
        ratio = report.ratio(res.get("ours"), res.get("pallets"))
        off = report.ratio(res.get("ours_off"), res.get("pallets"))
        log(f"  {scenario:<10} {line}" + (f"  ours/pallets={ratio:.2f}x" if ratio else "")
            + (f"  off/pallets={off:.2f}x" if off else ""))
    return results


# -- import time -------------------------------------------------------------


# The libraries `import flask` needs at import, without flask itself: the
# Werkzeug modules behind Request, Response, the URL map and the proxies,
# and Blinker.
LIBRARY_FLOOR = "import werkzeug.wrappers, werkzeug.routing, werkzeug.local, werkzeug.exceptions, blinker"


STARTUP_APP = APPS / "startup_app.py"


def run_import_times(venvs_ok: dict[str, bool], runs: int) -> dict[str, dict[str, t.Any]]:
    """Start-up to the first response (the target), `import flask`, the bare
    interpreter and the library floor; ours, ours with shortcuts off and
    Pallets alternating."""
    res: dict[str, dict[str, t.Any]] = {}
    names = [n for n in FLASKS if venvs_ok.get(PARTICIPANTS[n][0])]
    envs = {n: participant_env(n) for n in names}

    def once(name: str, *args: str) -> tuple[float, subprocess.CompletedProcess[str]]:
        venv, env = PARTICIPANTS[name][0], envs[name]
        t0 = time.perf_counter()
        proc = subprocess.run([str(venv_python(venv)), *args], env=env, cwd=CACHE, capture_output=True, text=True)
        return time.perf_counter() - t0, proc

    for name in names:
        # Also compiles bytecode, so timed runs read .pyc files as in real use.
        _, proc = once(name, "-c", "import sys, flask; print(len(sys.modules), 'jinja2' in sys.modules, 'click' in sys.modules)")
        _, app_proc = once(name, str(STARTUP_APP))
        if proc.returncode != 0 or app_proc.returncode != 0:
            res[name] = {"error": (proc.stderr + app_proc.stderr).strip()[-1500:]}
            continue
        mods, jinja, click = proc.stdout.split()
        res[name] = {"flask": [], "bare": [], "startup": [], "modules": int(mods), "jinja2": jinja == "True",
                     "click": click == "True", "startup_output": app_proc.stdout}
    live = [n for n in names if "error" not in res[n]]
    if "pallets" in live:
        same_output: dict[str, bool] = {}
        for name, key in (("ours", "same"), ("ours_off", "off_same")):
            if name not in live:
                continue
            same_output[key] = res[name]["startup_output"] == res["pallets"]["startup_output"]
            if not same_output[key]:
                loud(f"start-up app: {name} and Pallets print different answers:\n"
                     f"{name}: {res[name]['startup_output']!r}\npallets: {res['pallets']['startup_output']!r}")
        res["startup_same_output"] = same_output
    floor = "ours" in live and once("ours", "-c", LIBRARY_FLOOR)[1].returncode == 0
    if floor:
        res["ours"]["floor"] = []
    for _ in range(runs):
        for name in live:
            res[name]["startup"].append(once(name, str(STARTUP_APP))[0])
            res[name]["flask"].append(once(name, "-c", "import flask")[0])
            res[name]["bare"].append(once(name, "-c", "pass")[0])
        if floor:
            res["ours"]["floor"].append(once("ours", "-c", LIBRARY_FLOOR)[0])
    for name in live:
        res[name]["median"] = statistics.median(res[name]["flask"])
        res[name]["bare_median"] = statistics.median(res[name]["bare"])
        res[name]["startup_median"] = statistics.median(res[name]["startup"])
        if res[name].get("floor"):
            res[name]["floor_median"] = statistics.median(res[name]["floor"])
        log(f"  {name:<8} start-up to first response {res[name]['startup_median'] * 1000:.1f} ms, "
            f"import flask {res[name]['median'] * 1000:.1f} ms "
            f"(bare interpreter {res[name]['bare_median'] * 1000:.1f} ms, {res[name]['modules']} modules)")
    for name in ("ours", "ours_off"):
        ratio = report.ratio(res.get(name), res.get("pallets"), "startup_median")
        if ratio is not None:
            log(f"  start-up {name}/pallets = {ratio:.2f}x")
    return res


# -- main --------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="short runs, for smoke-testing only")
    ap.add_argument("--scenarios", help=f"comma-separated subset of {','.join(SCENARIOS)}")
    ap.add_argument("--no-e2e", action="store_true", help="skip the gunicorn + wrk part")
    ap.add_argument("--no-ws", action="store_true", help="skip the WebSocket part (ws_bench.py)")

    ap.add_argument("--only-startup", action="store_true",
                    help="time only start-up (ours and Pallets); prints, leaves BENCHMARKS.md alone")
    ap.add_argument("--output", type=Path, default=OUTPUT,
                    help="default BENCHMARKS.md, through the results file; another path gets a report of this run only")
    ap.add_argument("--asgi-only", action="store_true",
                    help="run only the ASGI part (asgi_bench.py), storing its run in the results file")
    ap.add_argument("--only-streaming", action="store_true",
                    help="run only the streaming part (streaming_bench.py), storing its run in the results file")
    args = ap.parse_args(argv)
    if args.only_streaming:
        return run_streaming(args.quick)
    if args.asgi_only:
        import asgi_bench
        return asgi_bench.main([*(["--quick"] if args.quick else []), *(["--no-e2e"] if args.no_e2e else [])])

    scenarios = SCENARIOS
    if args.scenarios:
        scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
        unknown = [s for s in scenarios if s not in SCENARIOS]
        if unknown:
            ap.error(f"unknown scenario(s): {', '.join(unknown)}; choose from {', '.join(SCENARIOS)}")
    settings = {
        # Short slices, many rounds: on a shared machine, load comes and goes
        # within seconds, and fine alternation lets both sides see the same.
        "rounds": 3 if args.quick else 10,
        "duration": 0.15 if args.quick else 0.5,
        "import_runs": 5 if args.quick else 15,
        "e2e_rounds": 1 if args.quick else 3,
        "e2e_duration": 1 if args.quick else 3,
        "e2e_connections": 4,
        "quick": args.quick,
        "partial": bool(args.scenarios),
    }
    # Servers and harnesses run in their own sessions: make sure a TERM that
    # stops this script still reaches the atexit clean-up that stops them.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    started = time.monotonic()
    CACHE.mkdir(parents=True, exist_ok=True)
    data: dict[str, t.Any] = {"settings": settings, "scenarios": scenarios, "machine": machine_info()}

    log("== virtualenvs (.cache/bench)")
    venv_errors: dict[str, str] = {}
    if args.only_startup:
        for name in ("ours", "pallets"):
            err = ensure_venv(name)
            if err:
                loud(f"venv {name!r} could not be built:\n{err}")
        log(f"== start-up ({settings['import_runs']} runs each, alternating)")
        res = run_import_times({"ours": True, "pallets": True}, settings["import_runs"])
        (CACHE / "last-startup.json").write_text(json.dumps(res, indent=1, default=str))
        return 0
    for name in VENVS:
        err = ensure_venv(name)
        if err:
            venv_errors[name] = err
            loud(f"venv {name!r} could not be built:\n{err}")
    venvs_ok = {name: name not in venv_errors for name in VENVS}
    data["venv_errors"] = venv_errors
    data["versions"] = {name: pip_versions(name) for name in VENVS if venvs_ok[name]}

    log("== in-process harness")
    workers: dict[str, Worker] = {}
    worker_errors: dict[str, str] = {}
    # harness -> (venv, targets); "ours_off" is the ours venv, shortcuts off.
    wanted = {"ours": ("ours", ["flask"]), "ours_off": ("ours", ["flask"]), "pallets": ("pallets", ["flask"]),
              "others": ("others", ["bottle", "falcon", "raw"])}
    try:
        for name, (venv, targets) in wanted.items():
            if not venvs_ok[venv]:
                continue
            try:
                w = Worker(venv, targets, name, PARTICIPANT_ENV.get(name))
            except Exception as e:  # a broken package must not stop the others
                worker_errors[name] = str(e)
                loud(f"harness {name!r} failed to start:\n{e}")
                continue
            for target, err in w.info["load_errors"].items():
                worker_errors[f"{name}:{target}"] = err
                loud(f"{name}: cannot load {target} app:\n{err}")
            workers[name] = w
        data["workers"] = {v: w.info for v, w in workers.items()}
        data["worker_errors"] = worker_errors
        identity = check_identity(workers)
        for venv, problem in identity.items():
            # Numbers from the wrong package would be worse than none.
            loud(problem)
            worker_errors[venv] = problem
            workers.pop(venv).close()

        log("-- correctness (ours, shortcuts on and off, vs Pallets: status and body)")
        checks = run_checks(workers, scenarios)
        data["checks"] = checks
        bad = [s for s, c in checks.items() if not c["match"]]
        if bad:
            loud("MISMATCH between ours and Pallets in: " + ", ".join(bad) + "\n(see BENCHMARKS.md for details)")
        bad_off = [s for s, c in checks.items() if not c["off_match"]]
        if bad_off:
            loud("MISMATCH between ours with shortcuts off and Pallets in: " + ", ".join(bad_off)
                 + "\n(see BENCHMARKS.md for details)")

        log(f"-- timing ({settings['rounds']} rounds x {settings['duration']} s, alternating)")
        data["inprocess"] = run_inprocess(workers, scenarios, checks, settings["rounds"], settings["duration"])
    finally:
        for w in workers.values():
            w.close()

    log(f"== start-up and import time ({settings['import_runs']} runs each, alternating)")
    data["import"] = run_import_times(venvs_ok, settings["import_runs"])

    if args.no_e2e:
        data["e2e"] = {"skipped": "skipped by --no-e2e"}
    elif not shutil.which("wrk") and not e2e.install_wrk():
        note = "wrk is not installed (Debian package `wrk`: `apt-get install wrk`), so this part was skipped"
        loud(note)
        data["e2e"] = {"skipped": note}
    else:
        e2e_scen = [s for s in scenarios if s in e2e.E2E_FLASK_SCENARIOS]
        log(f"== end to end: gunicorn (1 sync worker) + wrk ({settings['e2e_rounds']} rounds x "
            f"{settings['e2e_duration']} s, {settings['e2e_connections']} connections)")
        data["e2e"] = {"results": e2e.run_e2e(venvs_ok, e2e_scen, settings["e2e_rounds"],
                                          settings["e2e_duration"], settings["e2e_connections"])}

    data["elapsed_s"] = time.monotonic() - started
    (CACHE / "last-results.json").write_text(json.dumps(data, indent=1, default=str))
    if not args.no_ws:
        log("== WebSockets: ours, Starlette, Quart (in-process and uvicorn)")
        data["ws"] = ws_bench.run_ws(venvs_ok, settings)
    if args.output != OUTPUT:  # a side report; the results file keeps the committed run
        args.output.write_text("# Benchmarks\n\n" + report.render(data))
        log(f"\nwrote {args.output} in {data['elapsed_s']:.0f} s")
        log(report.summary(data))
        return 0
    import charts
    import figures

    # The one results file: BENCHMARKS.md, the README's and the docs'
    # figures and the charts are all drawn from it.
    figures.store("wsgi", data)
    for path in [*figures.render_pages(), *charts.write_charts(data)]:
        log(f"wrote {path.relative_to(ROOT)}")
    log(report.summary(data))
    if not args.scenarios:  # the ASGI and streaming parts store their own runs beside this one
        import asgi_bench
        asgi_rc = asgi_bench.main([*(["--quick"] if args.quick else []), *(["--no-e2e"] if args.no_e2e else [])])
        # A problem in the ASGI part must not cost the streaming figures.
        return max(asgi_rc, run_streaming(args.quick))
    return 0


def run_streaming(quick: bool) -> int:
    import streaming_bench

    log("== streaming: SSE, background tasks, streamed uploads (streaming_bench.py)")
    return streaming_bench.main(["--quick"] if quick else [])


def check_identity(workers: dict[str, Worker]) -> dict[str, str]:
    """Make sure "ours" really runs this repo's flask with its shortcuts,
    "ours_off" the same without them, and "pallets" the release."""
    problems: dict[str, str] = {}
    src = str(ROOT / "src")
    for name in ("ours", "ours_off"):
        w = workers.get(name)
        if not w or "flask" not in w.info["targets"]:
            continue
        info = w.info["targets"]["flask"]
        if not info["location"].startswith(src):
            problems[name] = f"the {name!r} harness imports flask from {info['location']}, not from {src}"
            continue
        shortcuts = info.get("shortcuts") or {}
        off, bridges = shortcuts.get("off", {}), shortcuts.get("bridges", [])
        if name == "ours" and off:
            # Not an identity problem: the run shows what a user gets, but says so.
            loud("ours runs with shortcuts off: "
                 + "; ".join(f"{k}: {v}" for k, v in off.items()))
        if name == "ours_off":
            on = sorted(n for n in shortcuts.get("all", ()) if n not in off and n not in bridges)
            if on or not off:
                problems[name] = (f"the 'ours_off' harness (FLASK_NO_SHORTCUTS=1) still has shortcuts on: "
                                  f"{', '.join(on) or 'it reports none off'}")
    pal = workers.get("pallets")
    if pal and "flask" in pal.info["targets"]:
        info = pal.info["targets"]["flask"]
        if info["location"].startswith(src) or info["version"] != "3.1.3":
            problems["pallets"] = f"the 'pallets' venv imports flask {info['version']} from {info['location']}"
    return problems


if __name__ == "__main__":
    sys.exit(main())
