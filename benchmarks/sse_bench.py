"""Server-Sent Events side by side: flask.EventStream against sse-starlette's
EventSourceResponse on Starlette, both under uvicorn, one worker each.

For each participant, in alternating rounds: open ``--connections`` idle
streams, read the server's resident memory before and after (per idle
connection), then publish ``--broadcasts`` events one after another and
time each from the publish request to its arrival on every connection
(p50 and p99 over all connections and broadcasts). Both apps keep
subscribers in a set of ``asyncio.Queue`` and ping far less often than the
run lasts, so only events are measured.

``make bench`` runs it through benchmarks/streaming_bench.py, each app in
its own venv (.cache/bench/asgi-ours and asgi-starlette), and stores it as
the ``streaming`` part of the results file. On its own it runs both apps
with the interpreter it is started with, which then needs uvicorn,
starlette and sse-starlette beside this package's dependencies::

    PYTHONPATH=src .cache/bench/asgi-starlette/bin/python benchmarks/sse_bench.py --json out.json

and prints one JSON object.
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
import time
import typing as t
from pathlib import Path

from common import kill_group

OURS = textwrap.dedent(
    """
    import asyncio
    import flask

    app = flask.Flask(__name__)
    subscribers = set()

    @app.get("/feed")
    async def feed():
        async def events():
            queue = asyncio.Queue()
            subscribers.add(queue)
            try:
                while True:
                    yield await queue.get()
            finally:
                subscribers.discard(queue)

        return flask.EventStream(events(), interval=3600)

    @app.post("/publish/<int:n>")
    async def publish(n):
        for queue in subscribers:
            queue.put_nowait(f"tick-{n}")
        return "ok"

    @app.get("/count")
    async def count():
        return str(len(subscribers))

    asgi = app.asgi_app
    """
)

STARLETTE = textwrap.dedent(
    """
    import asyncio
    from sse_starlette.sse import EventSourceResponse
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    subscribers = set()

    async def feed(request):
        async def events():
            queue = asyncio.Queue()
            subscribers.add(queue)
            try:
                while True:
                    yield {"data": await queue.get()}
            finally:
                subscribers.discard(queue)

        return EventSourceResponse(events(), ping=3600)

    async def publish(request):
        n = request.path_params["n"]
        for queue in subscribers:
            queue.put_nowait(f"tick-{n}")
        return PlainTextResponse("ok")

    async def count(request):
        return PlainTextResponse(str(len(subscribers)))

    asgi = Starlette(routes=[
        Route("/feed", feed),
        Route("/publish/{n:int}", publish, methods=["POST"]),
        Route("/count", count),
    ])
    """
)

APPS = {"flask.EventStream": OURS, "sse-starlette": STARLETTE}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


async def http(port: int, method: str, path: str) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode())
    await writer.drain()
    data = await reader.read()
    writer.close()
    return data.split(b"\r\n\r\n", 1)[1]


async def wait_for(condition: t.Callable[[], t.Awaitable[bool]], what: str, bound: float = 120) -> None:
    deadline = time.monotonic() + bound
    while not await condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"hang bound reached waiting for {what}")
        await asyncio.sleep(0.05)


class Stream:
    def __init__(self) -> None:
        self.seen: dict[int, float] = {}
        self.arrived = asyncio.Event()
        self.writer: asyncio.StreamWriter | None = None

    async def run(self, port: int, opened: asyncio.Event) -> None:
        reader, self.writer = await asyncio.open_connection("127.0.0.1", port)
        self.writer.write(b"GET /feed HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n")
        await self.writer.drain()
        buffer = b""
        while b"\r\n\r\n" not in buffer:
            buffer += await reader.read(4096)
        opened.set()
        while True:
            chunk = await reader.read(65536)
            if not chunk:
                return
            now = time.perf_counter()
            buffer += chunk
            while b"tick-" in buffer:
                _, _, rest = buffer.partition(b"tick-")
                digits = rest[: len(rest) - len(rest.lstrip(b"0123456789"))]
                if len(digits) == len(rest):  # the number may continue
                    break
                self.seen.setdefault(int(digits), now)
                buffer = rest[len(digits):]
                self.arrived.set()


async def measure(port: int, pid: int, connections: int, broadcasts: int) -> dict[str, float]:
    await wait_for(lambda: _ok(port), "the server")
    # Warm the paths up, so the baseline holds the code, not just the import.
    await http(port, "GET", "/count")
    await http(port, "POST", "/publish/0")
    await asyncio.sleep(0.5)
    before = rss_kib(pid)
    streams = [Stream() for _ in range(connections)]
    tasks = []
    for i in range(0, connections, 100):
        batch = streams[i:i + 100]
        opened = [asyncio.Event() for _ in batch]
        tasks += [asyncio.create_task(s.run(port, o)) for s, o in zip(batch, opened)]
        await asyncio.gather(*(o.wait() for o in opened))
    await wait_for(lambda: _count_is(port, connections), f"{connections} subscribers")
    await asyncio.sleep(1)  # let allocations settle before reading memory
    after = rss_kib(pid)
    latencies: list[float] = []
    for n in range(1, broadcasts + 1):
        for s in streams:
            s.arrived.clear()
        start = time.perf_counter()
        await http(port, "POST", f"/publish/{n}")
        await wait_for(lambda n=n: _all_seen(streams, n), f"broadcast {n}")  # type: ignore[misc]
        latencies += [s.seen[n] - start for s in streams]
    for s in streams:
        if s.writer is not None:
            s.writer.close()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    latencies.sort()
    return {
        "kib_per_connection": (after - before) / connections,
        "p50_ms": 1000 * statistics.median(latencies),
        "p99_ms": 1000 * latencies[int(0.99 * (len(latencies) - 1))],
        "rss_before_kib": before,
        "rss_after_kib": after,
    }


async def _ok(port: int) -> bool:
    try:
        await http(port, "GET", "/count")
        return True
    except OSError:
        return False


async def _count_is(port: int, n: int) -> bool:
    return int(await http(port, "GET", "/count")) >= n


async def _all_seen(streams: list[Stream], n: int) -> bool:
    return all(n in s.seen for s in streams)


def connection_cap(wanted: int) -> tuple[int, str]:
    """As many connections as this machine's descriptor limit allows, up
    to ``wanted``: the client and the server each hold one per stream.
    The soft limit is raised to the hard one first (children inherit it)."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    room = soft - 200  # the interpreter's own files, the control requests
    if room >= wanted:
        return wanted, f"{wanted} requested; the descriptor limit ({soft}) allows it"
    return max(room, 1), f"{wanted} requested; the descriptor limit ({soft}) allows {max(room, 1)}"


def run_one(name: str, workdir: Path, connections: int, broadcasts: int,
            python: str = sys.executable, env: dict[str, str] | None = None) -> dict[str, float]:
    module = "sse_" + name.replace(".", "_").replace("-", "_").lower()
    (workdir / f"{module}.py").write_text(APPS[name])
    port = free_port()
    base = os.environ if env is None else env
    env = {**base, "PYTHONPATH": os.pathsep.join([os.fspath(workdir), base.get("PYTHONPATH", "")])}
    proc = subprocess.Popen(
        [python, "-m", "uvicorn", f"{module}:asgi", "--port", str(port), "--log-level", "warning",
         "--backlog", "4096", "--timeout-keep-alive", "3600", "--http", "h11", "--loop", "asyncio"],
        cwd=workdir, env=env, start_new_session=True,
    )
    try:
        return asyncio.run(measure(port, proc.pid, connections, broadcasts))
    finally:
        kill_group(proc)


KEYS = ("kib_per_connection", "p50_ms", "p99_ms")


def run(pythons: dict[str, str], connections: int, broadcasts: int, rounds: int,
        env: dict[str, str] | None = None) -> dict[str, t.Any]:
    """Both apps, alternating round by round, each under uvicorn started by
    its own interpreter (``pythons``: participant -> python)."""
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in APPS}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(rounds):
            for name in APPS:  # alternating, so drift hits both alike
                runs[name].append(run_one(name, Path(tmp), connections, broadcasts, pythons[name], env))
                print(f"  sse {name}: " + json.dumps(runs[name][-1]), file=sys.stderr, flush=True)
    # The best round of each: what is left when the shared machine's other
    # load is least in the way.
    best = {name: {key: min(r[key] for r in rs) for key in KEYS} for name, rs in runs.items()}
    ours, theirs = best["flask.EventStream"], best["sse-starlette"]
    return {
        "connections": connections,
        "broadcasts": broadcasts,
        "rounds": rounds,
        "best": best,
        "ratio_vs_sse_starlette": {key: ours[key] / theirs[key] for key in ours},
        "runs": runs,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=2000)
    parser.add_argument("--broadcasts", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    connections, _ = connection_cap(args.connections)
    python = sys.executable
    result = run({name: python for name in APPS}, connections, args.broadcasts, args.rounds)
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()
