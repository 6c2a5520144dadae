"""Runs inside a benchmark venv: WebSocket rates for one framework.

Usage: python ws_harness.py TARGET MODE SCENARIO SECONDS [PORT]
  TARGET    ours | starlette | quart  (benchmarks/apps/ws_apps.py)
  MODE      inproc: the ASGI app driven directly by in-memory messages;
            client: the `websockets` client against a server on PORT
  SCENARIO  echo: round trips over one connection;
            broadcast: one message fanned out to 100 connections
Prints one JSON line: {"rate": per second, "n": count, "seconds": ...}.
In-process rates are per second of the process's CPU time (the machine is
shared, and wall time there mostly measures the neighbours); client rates
are per wall-clock second.
An echo round trip is one message in and one out; a broadcast is one
message in and 100 out (the rate counts broadcasts).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import typing as t
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent / "apps"))

FANOUT = 100
TEXT = "hello, websocket"


def _scope(path: str) -> dict[str, t.Any]:
    return {
        "type": "websocket",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "scheme": "ws",
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
        "root_path": "",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [(b"host", b"127.0.0.1:8000"), (b"upgrade", b"websocket"), (b"connection", b"Upgrade")],
        "subprotocols": [],
        "extensions": {},
        "state": {},
    }


async def _lifespan(app: t.Any) -> t.Callable[[], t.Awaitable[None]]:
    """Start the app the way servers do (Quart sets itself up here); returns
    the coroutine function that shuts it down."""
    inbox: asyncio.Queue[dict[str, t.Any]] = asyncio.Queue()
    started = asyncio.Event()
    inbox.put_nowait({"type": "lifespan.startup"})

    async def send(message: dict[str, t.Any]) -> None:
        if message["type"].startswith("lifespan.startup"):
            started.set()

    task = asyncio.ensure_future(app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, inbox.get, send))
    waiter = asyncio.ensure_future(started.wait())
    await asyncio.wait([task, waiter], timeout=10, return_when=asyncio.FIRST_COMPLETED)
    waiter.cancel()

    async def stop() -> None:
        inbox.put_nowait({"type": "lifespan.shutdown"})
        await asyncio.wait([task], timeout=5)
        task.cancel()

    return stop


async def _echo_connection(app: t.Any, limit: int) -> int:
    """One connection of ``limit`` round trips in lockstep, like a client
    waiting for each echo: the next message is handed over only after the
    previous one came back (immediately for apps that receive in the
    handler; frameworks that read in a task of their own wait there)."""
    sent = given = 0
    first = True
    echoed = asyncio.Event()
    incoming = {"type": "websocket.receive", "text": TEXT}

    async def receive() -> dict[str, t.Any]:
        nonlocal first, given
        if first:
            first = False
            return {"type": "websocket.connect"}
        if given > sent:
            echoed.clear()
            await echoed.wait()
        if given < limit:
            given += 1
            return incoming
        return {"type": "websocket.disconnect", "code": 1000}

    async def send(message: dict[str, t.Any]) -> None:
        nonlocal sent
        if message["type"] == "websocket.send":
            sent += 1
            echoed.set()

    await asyncio.wait_for(app(_scope("/echo"), receive, send), 60)
    return sent


async def inproc_echo(app: t.Any, seconds: float) -> tuple[int, float]:
    total = 0
    elapsed = 0.0
    while elapsed < seconds:
        start = time.process_time()
        total += await _echo_connection(app, 2000)
        elapsed += time.process_time() - start
    return total, elapsed


async def inproc_broadcast(app: t.Any, seconds: float) -> tuple[int, float]:
    queues = [asyncio.Queue() for _ in range(FANOUT)]  # type: ignore[var-annotated]
    delivered = 0
    everyone = asyncio.Event()
    accepted = 0
    all_in = asyncio.Event()

    def connection(i: int) -> t.Any:
        q = queues[i]
        q.put_nowait({"type": "websocket.connect"})

        async def send(message: dict[str, t.Any]) -> None:
            nonlocal delivered, accepted
            if message["type"] == "websocket.send":
                delivered += 1
                if delivered == FANOUT:
                    everyone.set()
            elif message["type"] == "websocket.accept":
                accepted += 1
                if accepted == FANOUT:
                    all_in.set()

        return app(_scope("/broadcast"), q.get, send)

    tasks = [asyncio.ensure_future(connection(i)) for i in range(FANOUT)]
    await asyncio.wait_for(all_in.wait(), 30)
    await asyncio.sleep(0.01)  # every handler is in its receive loop
    message = {"type": "websocket.receive", "text": TEXT}
    count = 0
    start = time.process_time()
    while time.process_time() - start < seconds:
        delivered = 0
        everyone.clear()
        queues[count % FANOUT].put_nowait(message)
        await everyone.wait()
        count += 1
    elapsed = time.process_time() - start
    for q in queues:
        q.put_nowait({"type": "websocket.disconnect", "code": 1000})
    await asyncio.wait(tasks, timeout=10)
    return count, elapsed


async def client_echo(port: int, seconds: float) -> tuple[int, float]:
    from websockets.asyncio.client import connect

    async with connect(f"ws://127.0.0.1:{port}/echo", compression=None) as ws:
        for _ in range(50):  # warm up
            await ws.send(TEXT)
            await ws.recv()
        count = 0
        start = time.perf_counter()
        while time.perf_counter() - start < seconds:
            for _ in range(100):
                await ws.send(TEXT)
                await ws.recv()
            count += 100
        return count, time.perf_counter() - start


async def client_broadcast(port: int, seconds: float) -> tuple[int, float]:
    from websockets.asyncio.client import connect

    conns = [await connect(f"ws://127.0.0.1:{port}/broadcast", compression=None) for _ in range(FANOUT)]
    try:
        await asyncio.sleep(0.2)
        count = 0
        start = time.perf_counter()
        while time.perf_counter() - start < seconds:
            await conns[count % FANOUT].send(TEXT)
            await asyncio.gather(*(c.recv() for c in conns))
            count += 1
        return count, time.perf_counter() - start
    finally:
        await asyncio.gather(*(c.close() for c in conns), return_exceptions=True)


def main() -> None:
    target, mode, scenario, seconds = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
    if mode == "inproc":
        import ws_apps

        app = getattr(ws_apps, f"make_{target}")()

        async def run() -> tuple[int, float]:
            stop = await _lifespan(app)
            try:
                if scenario == "echo":
                    await inproc_echo(app, min(seconds, 0.2))  # warm up
                    return await inproc_echo(app, seconds)
                return await inproc_broadcast(app, seconds)
            finally:
                await stop()

        n, elapsed = asyncio.run(run())
    else:
        port = int(sys.argv[5])
        func = client_echo if scenario == "echo" else client_broadcast
        n, elapsed = asyncio.run(func(port, seconds))
    print(json.dumps({"rate": n / elapsed, "n": n, "seconds": elapsed}), flush=True)


if __name__ == "__main__":
    main()
