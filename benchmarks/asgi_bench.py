"""ASGI benchmarks: our app.asgi_app against Starlette, FastAPI, Quart and
Pallets Flask (through a2wsgi, and under gunicorn or granian's WSGI).

Usage: python benchmarks/asgi_bench.py [--quick] [--no-e2e]
(``make bench`` runs it after the WSGI benchmarks; it stores its run as the
``asgi`` part of the results file, docs/_static/bench/results.json, and
benchmarks/figures.py renders BENCHMARKS.md's ASGI section from it.)

Each framework lives in its own virtualenv under .cache/bench/asgi-*:
  asgi-ours       pip install -e <repo>, uvicorn, granian, gunicorn, asgiref
  asgi-starlette  starlette, fastapi, uvicorn
  asgi-quart      quart, uvicorn
  asgi-pallets    flask==3.1.3, a2wsgi, asgiref, uvicorn, gunicorn, granian
Shared libraries are pinned to the same versions (common.CONSTRAINTS).

Parts:
  1. correctness: every participant's answer to each scenario has the
     same status and body;
  2. in-process: a subprocess per participant calls its ASGI callable in
     one event loop with a prepared scope, receive and send, alternating
     participants per round; the median requests/s is reported;
  3. end to end: uvicorn (1 worker) and wrk -c10 on loopback, the same
     scenarios; Pallets' async view under gunicorn (1 sync worker); ours
     and Pallets under granian's WSGI interface.
This file is both the driver (standard library only) and, with
``--harness NAME``, the in-process harness run inside a venv.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
import typing as t
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CACHE = ROOT / ".cache" / "bench"

CONSTRAINTS = """\
Werkzeug==3.1.9
Jinja2==3.1.6
MarkupSafe==3.0.4
itsdangerous==2.2.0
click==8.5.1
blinker==1.9.0
gunicorn==27.0.1
uvicorn==0.54.0
granian==2.8.9
"""

VENVS: dict[str, list[str]] = {
    "asgi-ours": ["-e", str(ROOT), "uvicorn", "granian", "gunicorn", "asgiref"],
    "asgi-starlette": ["starlette", "fastapi", "uvicorn", "sse-starlette"],
    "asgi-quart": ["quart", "uvicorn"],
    "asgi-pallets": ["flask==3.1.3", "a2wsgi", "asgiref", "uvicorn", "gunicorn", "granian"],
}

# participant -> venv
PARTICIPANTS = {
    "ours": "asgi-ours",
    "starlette": "asgi-starlette",
    "fastapi": "asgi-starlette",
    "quart": "asgi-quart",
    "pallets-a2wsgi": "asgi-pallets",
    "raw": "asgi-ours",
}

# scenario -> (path, participants)
SCENARIOS: dict[str, tuple[str, tuple[str, ...]]] = {
    "async_hello": ("/", ("ours", "starlette", "fastapi", "quart", "raw")),
    "async_param": ("/user/42", ("ours", "starlette", "fastapi", "quart")),
    "sync_hello": ("/sync", ("ours", "pallets-a2wsgi")),
}

# The goals are those the project set for the one request path (async
# hello and param 1.0x Starlette in process, 0.95x under uvicorn; sync
# hello 4x Pallets through a2wsgi), plus two of our own (Quart, the async view).
TARGETS = {
    "async hello in-process: ours / Starlette": ("inproc", "async_hello", "ours", "starlette", 1.0),
    "async param in-process: ours / Starlette": ("inproc", "async_param", "ours", "starlette", 1.0),
    "async hello in-process: ours / Quart": ("inproc", "async_hello", "ours", "quart", 2.0),
    "sync hello in-process: ours / Pallets+a2wsgi": ("inproc", "sync_hello", "ours", "pallets-a2wsgi", 4.0),
    "async hello under uvicorn: ours / Starlette": ("e2e", "async_hello", "ours", "starlette", 0.95),
    "sync hello under uvicorn: ours / Pallets+a2wsgi": ("e2e", "sync_hello", "ours", "pallets-a2wsgi", 4.0),
    "async view: ours under uvicorn / Pallets under gunicorn": (
        "e2e", "async_view", "ours", "pallets-gunicorn", 5.0),
}


# -- the apps (built inside the harness venv) ----------------------------------


def _flask_like(module: t.Any, name: str) -> t.Any:
    app = module(name)

    @app.route("/")
    async def hello() -> str:
        return "Hello, World!"

    for i in range(50):
        app.add_url_rule(f"/other{i}/<int:x>", f"other{i}", lambda x: "other")

    @app.route("/user/<int:user_id>")
    async def user(user_id: int) -> dict[str, t.Any]:
        return {"id": user_id, "name": "user"}

    @app.route("/sync")
    def sync_hello() -> str:
        return "Hello, World!"

    return app


def build(name: str) -> t.Any:
    """The ASGI callable for a participant."""
    if name == "ours":
        import flask

        assert getattr(flask, "__implementation__", None) == "nimble"
        return _flask_like(flask.Flask, "bench").asgi_app
    if name == "pallets-a2wsgi":
        import flask
        from a2wsgi import WSGIMiddleware

        return WSGIMiddleware(_flask_like(flask.Flask, "bench"))
    if name == "quart":
        import quart

        return _flask_like(quart.Quart, "bench")
    if name == "starlette":
        from starlette.applications import Starlette
        from starlette.responses import JSONResponse, PlainTextResponse
        from starlette.routing import Route

        async def hello(request: t.Any) -> t.Any:
            return PlainTextResponse("Hello, World!")

        async def user(request: t.Any) -> t.Any:
            return JSONResponse({"id": request.path_params["user_id"], "name": "user"})

        async def other(request: t.Any) -> t.Any:
            return PlainTextResponse("other")

        routes = [Route("/", hello)]
        routes += [Route(f"/other{i}/{{x:int}}", other) for i in range(50)]
        routes.append(Route("/user/{user_id:int}", user))
        return Starlette(routes=routes)
    if name == "fastapi":
        from fastapi import FastAPI
        from fastapi.responses import PlainTextResponse

        api = FastAPI()

        @api.get("/", response_class=PlainTextResponse)
        async def fhello() -> str:
            return "Hello, World!"

        for i in range(50):
            api.add_api_route(f"/other{i}/{{x}}", lambda x: "other", methods=["GET"])

        @api.get("/user/{user_id}")
        async def fuser(user_id: int) -> dict[str, t.Any]:
            return {"id": user_id, "name": "user"}

        return api
    if name == "raw":
        start = {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/plain"), (b"content-length", b"13")],
        }
        body = {"type": "http.response.body", "body": b"Hello, World!"}

        async def raw(scope: t.Any, receive: t.Any, send: t.Any) -> None:
            await send(start)
            await send(body)

        return raw
    raise ValueError(name)


# -- in-process harness ---------------------------------------------------------


def _scope(path: str) -> dict[str, t.Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1:8000"), (b"user-agent", b"bench"), (b"accept", b"*/*")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }


async def _once(app: t.Any, scope: dict[str, t.Any], out: list[t.Any] | None) -> None:
    # The same receive for everyone: the body once, then a disconnect only
    # after the response (frameworks that watch for one must not spin).
    done = asyncio.Event()
    state = [False]

    async def receive() -> dict[str, t.Any]:
        if not state[0]:
            state[0] = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, t.Any]) -> None:
        if out is not None:
            out.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body"):
            done.set()

    await app(dict(scope), receive, send)
    done.set()


def harness(names: list[str]) -> None:
    """Answer commands on stdin, one JSON line each, for the driver."""
    apps = {name: build(name) for name in names}
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    for name, app in apps.items():
        if name in ("quart", "starlette", "fastapi"):
            _lifespan_start(loop, app)
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        cmd = json.loads(line)
        app, scope = apps[cmd["name"]], _scope(cmd["path"])
        if cmd["op"] == "check":
            out: list[t.Any] = []
            loop.run_until_complete(_once(app, scope, out))
            status = next(m["status"] for m in out if m["type"] == "http.response.start")
            body = b"".join(m.get("body", b"") for m in out if m["type"] == "http.response.body")
            print(json.dumps({"status": status, "body": body.decode("latin-1")}), flush=True)
        else:
            n = cmd["n"]

            async def many(n: int = n, app: t.Any = app, scope: t.Any = scope) -> tuple[float, float]:
                wall, cpu = time.perf_counter(), time.process_time()
                for _ in range(n):
                    await _once(app, scope, None)
                return time.perf_counter() - wall, time.process_time() - cpu

            # CPU time of the whole process (every thread: a pool hop's
            # work counts too): what other processes on a loaded machine
            # take from it does not. Wall time is reported alongside.
            wall, cpu = loop.run_until_complete(many())
            print(json.dumps({"rps": n / max(cpu, 1e-9), "wall_rps": n / wall}), flush=True)


def _lifespan_start(loop: asyncio.AbstractEventLoop, app: t.Any) -> None:
    queue: asyncio.Queue[dict[str, t.Any]] = asyncio.Queue()
    started = asyncio.Event()

    async def receive() -> dict[str, t.Any]:
        return await queue.get()

    async def send(message: dict[str, t.Any]) -> None:
        started.set()

    queue.put_nowait({"type": "lifespan.startup"})
    loop.create_task(app({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send))
    loop.run_until_complete(asyncio.wait_for(started.wait(), 10))


# -- driver -------------------------------------------------------------------------


def log(msg: str) -> None:
    print(msg, flush=True)


def py(venv: str) -> Path:
    return CACHE / venv / "bin" / "python"


def ensure_venv(name: str) -> str | None:
    vdir = CACHE / name
    stamp = vdir / ".asgi-stamp"
    text = json.dumps({"reqs": VENVS[name], "c": CONSTRAINTS, "py": sys.version})
    if stamp.exists() and stamp.read_text() == text:
        return None
    log(f"  creating venv {vdir.relative_to(ROOT)} ...")
    shutil.rmtree(vdir, ignore_errors=True)
    CACHE.mkdir(parents=True, exist_ok=True)
    constraints = CACHE / "asgi-constraints.txt"
    constraints.write_text(CONSTRAINTS)
    for cmd in (
        [sys.executable, "-m", "venv", str(vdir)],
        [str(py(name)), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "-c", str(constraints), *VENVS[name]],
    ):
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode:
            return proc.stderr[-2000:]
    stamp.write_text(text)
    return None


class Harness:
    def __init__(self, venv: str, names: list[str]) -> None:
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
        self.proc = subprocess.Popen(
            [str(py(venv)), str(Path(__file__)), "--harness", ",".join(names)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, cwd=CACHE,
        )
        self._read()

    def _read(self) -> dict[str, t.Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("harness exited")
        return t.cast(dict[str, t.Any], json.loads(line))

    def ask(self, **cmd: t.Any) -> dict[str, t.Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()
        return self._read()

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        self.proc.wait(10)


# scenario -> participant -> per-round requests/s (in-process), for ratios
# taken round by round: on a shared machine the load shifts between rounds.
SAMPLES: dict[str, dict[str, list[float]]] = {}
# The same rounds by wall-clock requests/s, for comparison.
WALL: dict[str, dict[str, list[float]]] = {}


def _ratio(scenario: str, ours: str, other: str, fallback: dict[str, dict[str, float]]) -> float:
    rounds = SAMPLES.get(scenario, {})
    if ours in rounds and other in rounds:
        return statistics.median(a / b for a, b in zip(rounds[ours], rounds[other]))
    return fallback[scenario][ours] / fallback[scenario][other]


def run_inprocess(rounds: int, seconds: float) -> tuple[dict[str, dict[str, float]], list[str]]:
    by_venv: dict[str, list[str]] = {}
    for name, venv in PARTICIPANTS.items():
        by_venv.setdefault(venv, []).append(name)
    harnesses = {venv: Harness(venv, names) for venv, names in by_venv.items()}
    problems: list[str] = []
    results: dict[str, dict[str, float]] = {}
    try:
        for scenario, (path, names) in SCENARIOS.items():
            answers = {n: harnesses[PARTICIPANTS[n]].ask(op="check", name=n, path=path) for n in names}
            bodies = {json.dumps(a, sort_keys=True) for n, a in answers.items() if n != "raw"}
            if scenario == "async_param":
                # Same JSON value; the spacing is each framework's own.
                bodies = {json.dumps(json.loads(a["body"])) + str(a["status"]) for a in answers.values()}
            if len(bodies) != 1:
                problems.append(f"{scenario}: answers differ: {answers}")
            samples: dict[str, list[float]] = {n: [] for n in names}
            walls: dict[str, list[float]] = {n: [] for n in names}
            for _ in range(rounds):
                for n in names:
                    h = harnesses[PARTICIPANTS[n]]
                    warm = h.ask(op="run", name=n, path=path, n=200)["rps"]
                    count = max(200, int(warm * seconds))
                    got = h.ask(op="run", name=n, path=path, n=count)
                    samples[n].append(got["rps"])
                    walls[n].append(got["wall_rps"])
            results[scenario] = {n: statistics.median(v) for n, v in samples.items()}
            SAMPLES[scenario] = samples
            WALL[scenario] = walls
            log(f"  in-process {scenario}: " + ", ".join(f"{n} {v:,.0f}" for n, v in results[scenario].items()))
    finally:
        for h in harnesses.values():
            h.close()
    return results, problems


# -- end to end ---------------------------------------------------------------------------

SERVER_APP = '''
import sys
sys.path.insert(0, {here!r})
import asgi_bench
{name} = asgi_bench.build({participant!r})
'''


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wrk(port: int, path: str, seconds: int, pid: int | None = None) -> tuple[float, int, float]:
    """``(requests/s, non-2xx count, server CPU seconds per request)``; the
    CPU time is that of the server process and its children (gunicorn's
    and granian's workers) while wrk ran, from Linux schedstat (ns)."""
    before = _tree_cpu(pid) if pid else 0.0
    out = subprocess.run(
        ["wrk", "-t1", "-c10", f"-d{seconds}s", f"http://127.0.0.1:{port}{path}"],
        capture_output=True, text=True, timeout=seconds + 30,
    ).stdout
    used = _tree_cpu(pid) - before if pid else 0.0
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    count = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return rps, int(bad.group(1)) if bad else 0, used / max(count, 1)


def _tree_cpu(pid: int) -> float:
    """CPU seconds used so far by a process and its descendants' threads."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    # The field after the parenthesised name: state, then ppid.
                    parents[int(entry)] = int(f.read().rpartition(")")[2].split()[1])
            except (OSError, ValueError, IndexError):
                pass
    tree, todo = {pid}, [pid]
    while todo:
        parent = todo.pop()
        for child, ppid in parents.items():
            if ppid == parent and child not in tree:
                tree.add(child)
                todo.append(child)
    total = 0
    for proc in tree:
        try:
            tasks = os.listdir(f"/proc/{proc}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                with open(f"/proc/{proc}/task/{task}/schedstat") as f:
                    total += int(f.read().split()[0])
            except (OSError, ValueError, IndexError):
                pass  # a thread that just ended
    return total / 1e9


def _serve(kind: str, venv: str, participant: str, port: int) -> subprocess.Popen[bytes]:
    module_dir = CACHE / "asgi-apps"
    module_dir.mkdir(parents=True, exist_ok=True)
    mod = f"app_{participant.replace('-', '_')}"
    (module_dir / f"{mod}.py").write_text(
        SERVER_APP.format(here=str(HERE), name="application", participant=participant)
    )
    python = str(py(venv))
    if kind == "uvicorn":
        cmd = [python, "-m", "uvicorn", f"{mod}:application", "--port", str(port),
               "--host", "127.0.0.1", "--workers", "1", "--log-level", "warning", "--no-access-log"]
    elif kind == "gunicorn":
        # Pallets Flask's own app object over WSGI (its async view runs
        # through asgiref in the sync worker).
        (module_dir / f"{mod}_wsgi.py").write_text(
            f"import sys\nsys.path.insert(0, {str(HERE)!r})\nimport asgi_bench, flask\n"
            f"application = asgi_bench._flask_like(flask.Flask, 'bench')\n"
        )
        cmd = [python, "-m", "gunicorn", "-w", "1", "-b", f"127.0.0.1:{port}", f"{mod}_wsgi:application"]
    else:  # granian-wsgi
        (module_dir / f"{mod}_wsgi.py").write_text(
            f"import sys\nsys.path.insert(0, {str(HERE)!r})\nimport asgi_bench, flask\n"
            f"application = asgi_bench._flask_like(flask.Flask, 'bench')\n"
        )
        cmd = [python, "-m", "granian", "--interface", "wsgi", "--host", "127.0.0.1",
               "--port", str(port), "--workers", "1", "--log-level", "warning", f"{mod}_wsgi:application"]
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PYTHONPATH"] = str(module_dir)
    proc = subprocess.Popen(cmd, cwd=module_dir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"{kind} for {participant} did not start")


# (label, scenario, server, venv, participant, path)
E2E = [
    ("async_hello", "uvicorn", "asgi-ours", "ours", "/"),
    ("async_hello", "uvicorn", "asgi-starlette", "starlette", "/"),
    ("async_hello", "uvicorn", "asgi-starlette", "fastapi", "/"),
    ("async_hello", "uvicorn", "asgi-quart", "quart", "/"),
    ("async_param", "uvicorn", "asgi-ours", "ours", "/user/42"),
    ("async_param", "uvicorn", "asgi-starlette", "starlette", "/user/42"),
    ("async_param", "uvicorn", "asgi-starlette", "fastapi", "/user/42"),
    ("async_param", "uvicorn", "asgi-quart", "quart", "/user/42"),
    ("sync_hello", "uvicorn", "asgi-ours", "ours", "/sync"),
    ("sync_hello", "uvicorn", "asgi-pallets", "pallets-a2wsgi", "/sync"),
    ("async_view", "uvicorn", "asgi-ours", "ours", "/"),
    ("async_view", "gunicorn", "asgi-pallets", "pallets-gunicorn", "/"),
    # For scale: our same app object under gunicorn over WSGI, where an
    # async view runs through asgiref as Pallets' does. Same server, same
    # view: what is left between it and pallets-gunicorn is the framework.
    ("async_view", "gunicorn", "asgi-ours", "ours-gunicorn", "/"),
    ("wsgi_hello", "granian-wsgi", "asgi-ours", "ours-granian", "/sync"),
    ("wsgi_hello", "granian-wsgi", "asgi-pallets", "pallets-granian", "/sync"),
]


# scenario -> participant -> per-round (req/s, non-2xx, server CPU s/request)
E2E_SAMPLES: dict[str, dict[str, list[tuple[float, int, float]]]] = {}


def run_e2e(seconds: int, rounds: int) -> dict[str, dict[str, tuple[float, int, float]]]:
    """Per scenario, all its servers run at once and wrk alternates between
    them in short slices: load from elsewhere on a shared machine comes and
    goes within seconds, and alternating lets every participant see it."""
    if shutil.which("wrk") is None:
        log("  wrk is not installed: end-to-end part skipped")
        return {}
    out: dict[str, dict[str, tuple[float, int, float]]] = {}
    for scenario in dict.fromkeys(row[0] for row in E2E):
        rows = [row for row in E2E if row[0] == scenario]
        servers: dict[str, tuple[subprocess.Popen[bytes], int, str]] = {}
        try:
            for _, server, venv, participant, path in rows:
                port = _free_port()
                servers[participant] = (_serve(server, venv, participant, port), port, path)
            for _, port, path in servers.values():
                _wrk(port, path, 2)  # warm-up
            samples: dict[str, list[tuple[float, int, float]]] = {p: [] for p in servers}
            for _ in range(rounds):
                for participant, (proc, port, path) in servers.items():
                    samples[participant].append(_wrk(port, path, seconds, proc.pid))
        finally:
            for proc, _, _ in servers.values():
                proc.terminate()
                proc.wait(10)
        E2E_SAMPLES[scenario] = samples
        for participant, values in samples.items():
            rps = statistics.median(v[0] for v in values)
            bad = sum(v[1] for v in values)
            cpu = statistics.median(v[2] for v in values)
            out.setdefault(scenario, {})[participant] = (rps, bad, cpu)
            log(f"  e2e {scenario} {participant}: {rps:,.0f} req/s, server CPU {cpu * 1e6:,.0f} us/request, non-2xx {bad}")
    return out


# -- report ---------------------------------------------------------------------------------


def _e2e_ratio(scenario: str, ours: str, other: str, cpu: bool) -> float:
    """Median of per-round ratios (rounds alternate the servers): by
    requests/s, or by server CPU time per request (other's / ours)."""
    rounds = E2E_SAMPLES[scenario]
    pairs = zip(rounds[ours], rounds[other])
    if cpu:
        return statistics.median(b[2] / a[2] for a, b in pairs if a[2] > 0)
    return statistics.median(a[0] / b[0] for a, b in pairs)


# Target id -> (label, part, scenario, ours, other, goal).
TARGET_IDS = {
    "inproc_hello_starlette": "async hello in-process: ours / Starlette",
    "inproc_param_starlette": "async param in-process: ours / Starlette",
    "inproc_hello_quart": "async hello in-process: ours / Quart",
    "inproc_sync_pallets": "sync hello in-process: ours / Pallets+a2wsgi",
    "uvicorn_hello_starlette": "async hello under uvicorn: ours / Starlette",
    "uvicorn_sync_pallets": "sync hello under uvicorn: ours / Pallets+a2wsgi",
    "async_view_pallets": "async view: ours under uvicorn / Pallets under gunicorn",
}


def collect(inproc: dict[str, dict[str, float]], e2e: dict[str, dict[str, tuple[float, int, float]]],
            problems: list[str], settings: dict[str, t.Any]) -> dict[str, t.Any]:
    """The run as it goes into the results file (benchmarks/figures.py):
    medians, and each target's ratios, taken round by round here because
    only this run has the rounds."""
    from common import machine_info

    targets: dict[str, dict[str, t.Any]] = {}
    for tid, label in TARGET_IDS.items():
        part, scenario, ours, other, goal = TARGETS[label]
        entry: dict[str, t.Any] = {"label": label, "goal": goal, "cpu": None, "wall": None}
        try:
            if part == "inproc":
                entry["cpu"] = _ratio(scenario, ours, other, inproc)
                walls = WALL.get(scenario, {})
                entry["wall"] = statistics.median(a / b for a, b in zip(walls[ours], walls[other]))
            else:
                entry["cpu"] = _e2e_ratio(scenario, ours, other, cpu=True)
                entry["wall"] = _e2e_ratio(scenario, ours, other, cpu=False)
        except (KeyError, ZeroDivisionError, statistics.StatisticsError):
            pass
        targets[tid] = entry
    if {"ours-granian", "pallets-granian"} <= set(E2E_SAMPLES.get("wsgi_hello", {})):
        targets["granian_wsgi_pallets"] = {
            "label": "WSGI hello under granian: ours / Pallets", "goal": None,
            "cpu": _e2e_ratio("wsgi_hello", "ours-granian", "pallets-granian", cpu=True),
            "wall": _e2e_ratio("wsgi_hello", "ours-granian", "pallets-granian", cpu=False),
        }
    return {
        "machine": machine_info(),
        "settings": settings,
        "problems": problems,
        "participants": list(PARTICIPANTS),
        "inprocess": inproc,
        "inprocess_rounds": SAMPLES,
        "wall_rounds": WALL,
        "e2e": {s: {p: {"rps": v[0], "non2xx": v[1], "cpu_us": v[2] * 1e6} for p, v in parts.items()}
                for s, parts in e2e.items()},
        "targets": targets,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--harness")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--no-e2e", action="store_true")
    args = parser.parse_args(argv)
    if args.harness:
        harness(args.harness.split(","))
        return 0
    log("ASGI benchmarks")
    for venv in VENVS:
        error = ensure_venv(venv)
        if error:
            log(f"!!! venv {venv} could not be built:\n{error}")
            return 1
    rounds, seconds = (3, 0.2) if args.quick else (15, 0.3)
    e2e_seconds, e2e_rounds = (1, 2) if args.quick else (2, 5)
    inproc, problems = run_inprocess(rounds, seconds)
    e2e = {} if args.no_e2e else run_e2e(e2e_seconds, e2e_rounds)
    settings = {"rounds": rounds, "slice_s": seconds, "e2e_rounds": e2e_rounds, "e2e_seconds": e2e_seconds,
                "quick": args.quick}
    run = collect(inproc, e2e, problems, settings)
    import figures  # the results file, and the pages rendered from it
    import report

    figures.store("asgi", run)
    log(report.asgi_section(run))
    for path in figures.render_pages():
        log(f"wrote {path.relative_to(ROOT)}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
