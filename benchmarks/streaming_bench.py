"""Streaming benchmarks: Server-Sent Events, background tasks and streamed
uploads, each against the Starlette way of doing the same.

Usage: python benchmarks/streaming_bench.py [--quick] [--connections N]
           [--upload-mb N] [--json FILE]
(``make bench`` runs it after the ASGI part, ``benchmarks/run.py
--only-streaming`` alone; it stores its run as the ``streaming`` part of the
results file, docs/_static/bench/results.json, from which
benchmarks/figures.py renders BENCHMARKS.md's section and the table on the
streaming page. ``--json FILE`` writes the run there instead, for
``figures.py --store streaming FILE`` or for a look.)

The apps run in the ASGI part's venvs (asgi_bench.VENVS): ours in
.cache/bench/asgi-ours, Starlette and sse-starlette in asgi-starlette, both
under the same uvicorn, h11 and asyncio loop, one worker each.

Parts, participants alternating round by round:
  1. SSE (sse_bench.py): flask.EventStream against sse-starlette's
     EventSourceResponse: memory per idle connection with as many
     connections as the descriptor limit allows (up to 2,000), and the time
     for one event to reach every connection, p50 and p99;
  2. background task, in-process (no server, as asgi_bench.py's harness):
     a hello route that calls ``current_app.add_background_task(noop)``
     against the plain hello route of the same app, per CPU second, the
     tasks' own run included;
  3. streamed upload under uvicorn: a ``--upload-mb`` body (1 GiB; 256 MiB
     with --quick) to a ``stream_body=True`` view writing each chunk to a
     temporary file, against Starlette's ``request.stream()`` doing the
     same: the server's peak RSS growth, when the first chunk reached the
     view, and the throughput.
This file is the driver (standard library only) and, with ``--harness``,
the in-process harness of part 2 inside the asgi-ours venv.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import typing as t
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CACHE = ROOT / ".cache" / "bench"
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import asgi_bench  # noqa: E402  (its venvs, paths and in-process request)
import sse_bench  # noqa: E402
from common import kill_group  # noqa: E402

OURS_VENV, STARLETTE_VENV = "asgi-ours", "asgi-starlette"

# target id -> (label, goal, comparison); the renderer says whether each was met.
TARGETS: dict[str, tuple[str, float, str]] = {
    "sse_memory": ("SSE: memory per idle connection, flask.EventStream / sse-starlette", 1.0, "<="),
    "sse_p50": ("SSE: one event to every connection, p50, flask.EventStream / sse-starlette", 1.0, "<="),
    "sse_p99": ("SSE: one event to every connection, p99, flask.EventStream / sse-starlette", 1.0, "<="),
    "background": ("hello adding a no-op background task / plain hello, in-process, per CPU second", 0.8, ">="),
    "upload_rss": ("streamed upload: the server's peak RSS growth (MiB)", 50.0, "<"),
    "upload_first_chunk": ("streamed upload: share of the body sent when the first chunk reached the view",
                           1.0, "<"),
    "upload_throughput": ("streamed upload: throughput, ours / Starlette", 1.0, ">="),
}


def log(msg: str) -> None:
    print(msg, flush=True)


def child_env() -> dict[str, str]:
    """The driver's environment without what could mix one venv into another."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}


def versions(venv: str) -> dict[str, str]:
    code = ("import json, importlib.metadata as m\n"
            "names = ('flask', 'werkzeug', 'uvicorn', 'h11', 'starlette', 'sse-starlette', 'anyio')\n"
            "out = {}\n"
            "for n in names:\n"
            "    try: out[n] = m.version(n)\n"
            "    except m.PackageNotFoundError: pass\n"
            "print(json.dumps(out))\n")
    proc = subprocess.run([str(asgi_bench.py(venv)), "-c", code], capture_output=True, text=True, env=child_env())
    return t.cast("dict[str, str]", json.loads(proc.stdout)) if proc.returncode == 0 else {}


# -- 1. Server-Sent Events --------------------------------------------------------


def run_sse(connections: int, broadcasts: int, rounds: int) -> dict[str, t.Any]:
    count, why = sse_bench.connection_cap(connections)
    log(f"-- SSE: {count} idle connections, {broadcasts} broadcasts, {rounds} rounds ({why})")
    pythons = {"flask.EventStream": str(asgi_bench.py(OURS_VENV)),
               "sse-starlette": str(asgi_bench.py(STARLETTE_VENV))}
    result = sse_bench.run(pythons, count, broadcasts, rounds, child_env())
    # Keys without dots: the results file's figures are addressed by dotted paths.
    for key in ("best", "runs"):
        result[key] = {("ours" if name == "flask.EventStream" else name): v for name, v in result[key].items()}
    result["connections_requested"] = connections
    result["connections_note"] = why
    for name, best in result["best"].items():
        log(f"  sse {name}: {best['kib_per_connection']:.1f} KiB/connection, "
            f"p50 {best['p50_ms']:.1f} ms, p99 {best['p99_ms']:.1f} ms")
    return result


# -- 2. background task, in-process ---------------------------------------------------

PATHS = {"plain": "/", "task": "/task"}


def _background_app() -> t.Any:
    import flask

    assert getattr(flask, "__implementation__", None) == "nimble"
    app = flask.Flask("bench")
    done = [0]

    async def noop() -> None:
        done[0] += 1

    @app.route("/")
    async def hello() -> str:
        return "Hello, World!"

    @app.route("/task")
    async def hello_task() -> str:
        flask.current_app.add_background_task(noop)
        return "Hello, World!"

    return app.asgi_app, done


def harness() -> None:
    """Answer the driver's commands (one JSON line each) in the asgi-ours venv."""
    app, done = _background_app()
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        cmd = json.loads(line)
        scope = asgi_bench._scope(PATHS[cmd["name"]])
        if cmd["op"] == "check":
            out: list[t.Any] = []
            before = done[0]
            loop.run_until_complete(asgi_bench._once(app, scope, out))
            loop.run_until_complete(asyncio.sleep(0.01))
            body = b"".join(m.get("body", b"") for m in out if m["type"] == "http.response.body")
            status = next(m["status"] for m in out if m["type"] == "http.response.start")
            print(json.dumps({"status": status, "body": body.decode(), "tasks": done[0] - before}), flush=True)
            continue

        async def many(n: int, scope: dict[str, t.Any] = scope, tasks: bool = cmd["name"] == "task",
                       ) -> tuple[float, float, int]:
            start, wall, cpu = done[0], time.perf_counter(), time.process_time()
            for _ in range(n):
                await asgi_bench._once(app, scope, None)
                # A server's loop turns between requests: the tasks started
                # after each response run there, inside the timed window.
                await asyncio.sleep(0)
            while tasks and done[0] - start < n:
                await asyncio.sleep(0)
            return time.perf_counter() - wall, time.process_time() - cpu, done[0] - start

        wall, cpu, ran = loop.run_until_complete(many(cmd["n"]))
        print(json.dumps({"rps": cmd["n"] / max(cpu, 1e-9), "wall_rps": cmd["n"] / wall, "tasks": ran}), flush=True)


class Harness(asgi_bench.Harness):
    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [str(asgi_bench.py(OURS_VENV)), str(Path(__file__)), "--harness"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=child_env(), cwd=CACHE,
        )
        self._read()


def run_background(rounds: int, seconds: float) -> dict[str, t.Any]:
    log(f"-- background task, in-process ({rounds} rounds x {seconds} s, alternating)")
    h = Harness()
    problems = []
    samples: dict[str, list[float]] = {n: [] for n in PATHS}
    walls: dict[str, list[float]] = {n: [] for n in PATHS}
    try:
        checks = {n: h.ask(op="check", name=n) for n in PATHS}
        if checks["plain"]["body"] != checks["task"]["body"] or checks["task"]["tasks"] != 1:
            problems.append(f"the two routes do not answer alike, or the task did not run: {checks}")
        for _ in range(rounds):
            for n in PATHS:
                warm = h.ask(op="run", name=n, n=200)["rps"]
                got = h.ask(op="run", name=n, n=max(200, int(warm * seconds)))
                if n == "task" and got["tasks"] < 1:
                    problems.append("a timed round ran no background task")
                samples[n].append(got["rps"])
                walls[n].append(got["wall_rps"])
    finally:
        h.close()
    cpu = statistics.median(a / b for a, b in zip(samples["task"], samples["plain"]))
    wall = statistics.median(a / b for a, b in zip(walls["task"], walls["plain"]))
    log(f"  plain {statistics.median(samples['plain']):,.0f}/s, with a task {statistics.median(samples['task']):,.0f}/s"
        f" per CPU second: {cpu:.2f}x ({wall:.2f}x by wall clock)")
    return {
        "rounds": rounds, "slice_s": seconds, "problems": problems,
        "plain": statistics.median(samples["plain"]), "task": statistics.median(samples["task"]),
        "ratio_cpu": cpu, "ratio_wall": wall, "cpu_rounds": samples, "wall_rounds": walls,
    }


# -- 3. streamed upload under uvicorn -----------------------------------------------------

UPLOAD_OURS = textwrap.dedent(
    """
    import tempfile, time
    import flask

    app = flask.Flask(__name__)

    @app.post("/upload", stream_body=True)
    async def upload():
        first, size = None, 0
        with tempfile.TemporaryFile() as out:
            async for chunk in flask.request.stream_chunks():
                if first is None:
                    first = time.time()
                out.write(chunk)
                size += len(chunk)
        return {"bytes": size, "first_chunk_at": first}

    asgi = app.asgi_app
    """
)

UPLOAD_STARLETTE = textwrap.dedent(
    """
    import tempfile, time
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def upload(request):
        first, size = None, 0
        with tempfile.TemporaryFile() as out:
            async for chunk in request.stream():
                if not chunk:
                    continue
                if first is None:
                    first = time.time()
                out.write(chunk)
                size += len(chunk)
        return JSONResponse({"bytes": size, "first_chunk_at": first})

    asgi = Starlette(routes=[Route("/upload", upload, methods=["POST"])])
    """
)

UPLOADERS = {"ours": (OURS_VENV, UPLOAD_OURS), "starlette": (STARLETTE_VENV, UPLOAD_STARLETTE)}
BLOCK = 1 << 20  # what the client writes at a time


def _status_kib(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {key} for {pid}")


def _reset_peak(pid: int) -> bool:
    """Restart the kernel's peak-RSS count (VmHWM) at the current RSS."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _serve_upload(name: str, workdir: Path) -> tuple[subprocess.Popen[bytes], int]:
    venv, source = UPLOADERS[name]
    module = f"upload_{name}"
    (workdir / f"{module}.py").write_text(source)
    port = sse_bench.free_port()
    env = {**child_env(), "PYTHONPATH": str(workdir), "TMPDIR": str(workdir)}
    proc = subprocess.Popen(
        [str(asgi_bench.py(venv)), "-m", "uvicorn", f"{module}:asgi", "--port", str(port), "--host", "127.0.0.1",
         "--log-level", "warning", "--no-access-log", "--http", "h11", "--loop", "asyncio"],
        cwd=workdir, env=env, start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return proc, port
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.1)
    kill_group(proc)
    raise RuntimeError(f"uvicorn for the {name} upload app did not start")


def _upload(port: int, pid: int, size: int) -> dict[str, t.Any]:
    """One upload of ``size`` bytes; the server's memory, CPU and answer."""
    block = os.urandom(BLOCK)
    rss_before = _status_kib(pid, "VmRSS")
    reset = _reset_peak(pid)
    peak = [rss_before]
    stop = threading.Event()

    def sample() -> None:  # where VmHWM cannot be reset
        while not stop.wait(0.01):
            try:
                peak[0] = max(peak[0], _status_kib(pid, "VmRSS"))
            except (OSError, RuntimeError):
                return

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    cpu_before = asgi_bench._tree_cpu(pid)
    sent_at: list[tuple[float, int]] = []
    with socket.create_connection(("127.0.0.1", port)) as sock:
        start = time.perf_counter()
        sock.sendall(f"POST /upload HTTP/1.1\r\nHost: bench\r\nContent-Type: application/octet-stream\r\n"
                     f"Content-Length: {size}\r\nConnection: close\r\n\r\n".encode())
        sent = 0
        while sent < size:
            piece = block if size - sent >= BLOCK else block[: size - sent]
            sock.sendall(piece)
            sent += len(piece)
            sent_at.append((time.time(), sent))
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
        elapsed = time.perf_counter() - start
    cpu = asgi_bench._tree_cpu(pid) - cpu_before
    stop.set()
    sampler.join()
    head, _, body = answer.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200"):
        raise RuntimeError(f"upload answered {head[:200]!r}")
    got = json.loads(body)
    if got["bytes"] != size:
        raise RuntimeError(f"the view received {got['bytes']} of {size} bytes")
    peak_kib = _status_kib(pid, "VmHWM") if reset else peak[0]
    first = got["first_chunk_at"]
    # How much of the body the client had handed to the socket when the view
    # saw its first chunk: under 1, the view ran while the upload went on.
    share = next((n / size for when, n in sent_at if when >= first), 1.0)
    return {
        "mb_per_s": size / elapsed / 1e6, "elapsed_s": elapsed, "server_cpu_s": cpu,
        "rss_before_kib": rss_before, "rss_peak_kib": max(peak_kib, peak[0]),
        "rss_growth_mib": (max(peak_kib, peak[0]) - rss_before) / 1024, "peak_from": "VmHWM" if reset else "sampled",
        "first_chunk_share": share, "first_chunk_before_end": share < 1.0,
    }


def run_upload(size_mb: int, rounds: int) -> dict[str, t.Any]:
    size = size_mb << 20
    log(f"-- streamed upload under uvicorn: {size_mb} MiB x {rounds} rounds, alternating")
    runs: dict[str, list[dict[str, t.Any]]] = {n: [] for n in UPLOADERS}
    with tempfile.TemporaryDirectory(prefix="streambench-") as tmp:
        servers = {}
        try:
            for name in UPLOADERS:
                servers[name] = _serve_upload(name, Path(tmp))
            for proc, port in servers.values():
                _upload(port, proc.pid, 4 << 20)  # warm-up: imports, first-request paths
            for _ in range(rounds):
                for name, (proc, port) in servers.items():
                    r = _upload(port, proc.pid, size)
                    runs[name].append(r)
                    log(f"  upload {name}: {r['mb_per_s']:,.0f} MB/s, peak RSS +{r['rss_growth_mib']:.1f} MiB, "
                        f"first chunk at {r['first_chunk_share']:.1%} of the body, server CPU {r['server_cpu_s']:.2f} s")
        finally:
            for proc, _ in servers.values():
                kill_group(proc)
    summary = {
        name: {
            "mb_per_s": statistics.median(r["mb_per_s"] for r in rs),
            "server_cpu_s_per_gib": statistics.median(r["server_cpu_s"] for r in rs) / (size / (1 << 30)),
            # The worst round: a memory bound holds only if it holds every time.
            "rss_growth_mib": max(r["rss_growth_mib"] for r in rs),
            "first_chunk_share": max(r["first_chunk_share"] for r in rs),
            "first_chunk_before_end": all(r["first_chunk_before_end"] for r in rs),
        }
        for name, rs in runs.items()
    }
    pairs = list(zip(runs["ours"], runs["starlette"]))
    return {
        "size_mib": size_mb, "rounds": rounds, **summary,
        "ratio_wall": statistics.median(a["mb_per_s"] / b["mb_per_s"] for a, b in pairs),
        "ratio_cpu": statistics.median(b["server_cpu_s"] / a["server_cpu_s"] for a, b in pairs),
        "runs": runs,
    }


# -- the run ---------------------------------------------------------------------------------


def collect(sse: dict[str, t.Any], background: dict[str, t.Any], upload: dict[str, t.Any],
            settings: dict[str, t.Any]) -> dict[str, t.Any]:
    from common import machine_info

    measured = {
        "sse_memory": sse["ratio_vs_sse_starlette"]["kib_per_connection"],
        "sse_p50": sse["ratio_vs_sse_starlette"]["p50_ms"],
        "sse_p99": sse["ratio_vs_sse_starlette"]["p99_ms"],
        "background": background["ratio_cpu"],
        "upload_rss": upload["ours"]["rss_growth_mib"],
        "upload_first_chunk": upload["ours"]["first_chunk_share"],
        "upload_throughput": upload["ratio_wall"],
    }
    targets = {tid: {"label": label, "goal": goal, "op": op, "value": measured[tid]}
               for tid, (label, goal, op) in TARGETS.items()}
    return {
        "machine": machine_info(),
        "settings": settings,
        "versions": {venv: versions(venv) for venv in (OURS_VENV, STARLETTE_VENV)},
        "problems": background["problems"],
        "sse": sse,
        "background": background,
        "upload": upload,
        "targets": targets,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--harness", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--quick", action="store_true", help="short runs, for smoke-testing only")
    ap.add_argument("--connections", type=int, help="SSE connections (default 2000; 200 with --quick)")
    ap.add_argument("--broadcasts", type=int, help="SSE events timed per round (default 20; 5 with --quick)")
    ap.add_argument("--upload-mb", type=int, help="upload size in MiB (default 1024; 256 with --quick)")
    ap.add_argument("--json", type=Path, help="write the run to FILE instead of the results file")
    args = ap.parse_args(argv)
    if args.harness:
        harness()
        return 0
    quick = args.quick
    settings = {
        "quick": quick,
        "sse_connections": args.connections or (200 if quick else 2000),
        "sse_broadcasts": args.broadcasts or (5 if quick else 20),
        "sse_rounds": 1 if quick else 3,
        "background_rounds": 3 if quick else 15,
        "background_slice_s": 0.2 if quick else 0.3,
        "upload_mib": args.upload_mb or (256 if quick else 1024),
        "upload_rounds": 1 if quick else 5,
    }
    log("Streaming benchmarks")
    for venv in (OURS_VENV, STARLETTE_VENV):
        error = asgi_bench.ensure_venv(venv)
        if error:
            log(f"!!! venv {venv} could not be built:\n{error}")
            return 1
    sse = run_sse(settings["sse_connections"], settings["sse_broadcasts"], settings["sse_rounds"])
    background = run_background(settings["background_rounds"], settings["background_slice_s"])
    upload = run_upload(settings["upload_mib"], settings["upload_rounds"])
    run = collect(sse, background, upload, settings)
    if args.json:
        args.json.write_text(json.dumps(run, indent=1) + "\n")
        log(f"wrote {args.json}")
        return 1 if run["problems"] else 0
    import figures  # the results file, and the pages rendered from it

    figures.store("streaming", run)
    log(figures.region(figures.load(), "streaming-targets"))
    for path in figures.render_pages():
        log(f"wrote {path.relative_to(ROOT)}")
    return 1 if run["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
