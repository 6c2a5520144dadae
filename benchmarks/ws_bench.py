"""WebSocket benchmarks for `make bench`: our Flask against Starlette and Quart.

Two scenarios (benchmarks/apps/ws_apps.py, driven by ws_harness.py):
  echo       text round trips per second over one connection;
  broadcast  one message sent to 100 open connections, per second.
Two settings:
  in-process  the ASGI app driven by in-memory messages (framework cost only);
  uvicorn     one uvicorn worker on a loopback port, the `websockets` client.
Runs alternate the frameworks within each round; the median is reported.
Venvs (.cache/bench): ws_ours (this repo + uvicorn + websockets) and
ws_others (starlette, quart + uvicorn + websockets).
"""

from __future__ import annotations

import json
import socket
import statistics
import subprocess
import time
import typing as t

from common import BENCH
from common import CHILDREN
from common import ROOT
from common import clean_env
from common import kill_group
from common import log
from common import venv_python

VENVS: dict[str, list[str]] = {
    "ws_ours": ["-e", str(ROOT), "uvicorn", "websockets"],
    "ws_others": ["starlette", "quart", "uvicorn", "websockets"],
}
TARGETS = {"ours": "ws_ours", "starlette": "ws_others", "quart": "ws_others"}
SCENARIOS = ("echo", "broadcast")
HARNESS = BENCH / "ws_harness.py"
# The project's goals for the echo rate, as ratios to the others.
GOALS = {"starlette": 1.0, "quart": 1.5}


def _cpu_seconds(pid: int) -> float:
    """CPU time of a process's threads so far, in nanosecond resolution
    (Linux schedstat; /proc/PID/stat counts 10 ms ticks, too coarse for a
    one-second run)."""
    import os

    total = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/schedstat") as f:
                total += int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            pass  # a thread that just ended
    return total / 1e9


def _harness(target: str, mode: str, scenario: str, seconds: float, port: int = 0) -> dict[str, float] | None:
    cmd = [str(venv_python(TARGETS[target])), str(HARNESS), target, mode, scenario, str(seconds)]
    if port:
        cmd.append(str(port))
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=clean_env(), timeout=seconds * 10 + 60)
    except subprocess.TimeoutExpired:
        log(f"  {target} {mode} {scenario}: timed out")
        return None
    try:
        return {k: float(v) for k, v in json.loads(proc.stdout.strip().splitlines()[-1]).items()}
    except (ValueError, IndexError, KeyError):
        log(f"  {target} {mode} {scenario} failed: {proc.stderr[-1500:]}")
        return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _uvicorn(target: str) -> tuple[subprocess.Popen[bytes], int] | None:
    port = _free_port()
    cmd = [
        str(venv_python(TARGETS[target])), "-m", "uvicorn", "--factory", f"ws_apps:make_{target}",
        "--app-dir", str(BENCH / "apps"), "--port", str(port), "--log-level", "warning",
        "--workers", "1",
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, env=clean_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    CHILDREN.append(proc)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            log(f"  uvicorn for {target} exited: {proc.stderr.read().decode()[-1500:]}")  # type: ignore[union-attr]
            return None
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return proc, port
        except OSError:
            time.sleep(0.1)
    kill_group(proc)
    return None


def run_ws(venvs_ok: dict[str, bool], settings: dict[str, t.Any]) -> dict[str, t.Any]:
    """All rows of the WebSocket section, as {setting: {scenario: {target: stats}}}."""
    targets = [name for name, venv in TARGETS.items() if venvs_ok.get(venv)]
    rounds = 2 if settings["quick"] else 5
    seconds = 0.3 if settings["quick"] else 1.0
    out: dict[str, t.Any] = {"rounds": rounds, "seconds": seconds, "inprocess": {}, "uvicorn": {}, "uvicorn_cpu": {}}
    for scenario in SCENARIOS:
        rates: dict[str, list[float]] = {name: [] for name in targets}
        for i in range(rounds):
            for name in targets[i % len(targets):] + targets[: i % len(targets)]:
                got = _harness(name, "inproc", scenario, seconds)
                if got is not None:
                    rates[name].append(got["rate"])
        out["inprocess"][scenario] = _stats(rates)
        log(f"  in-process {scenario}: " + _line(out["inprocess"][scenario]))
    servers = {}
    try:
        for name in targets:
            started = _uvicorn(name)
            if started is not None:
                servers[name] = started
        for scenario in SCENARIOS:
            rates = {name: [] for name in servers}
            per_cpu: dict[str, list[float]] = {name: [] for name in servers}
            for i in range(rounds):
                names = list(servers)
                for name in names[i % len(names):] + names[: i % len(names)]:
                    proc, port = servers[name]
                    before = _cpu_seconds(proc.pid)
                    got = _harness(name, "client", scenario, seconds, port)
                    used = _cpu_seconds(proc.pid) - before
                    if got is not None:
                        rates[name].append(got["rate"])
                        if used > 0:
                            per_cpu[name].append(got["n"] / used)
            out["uvicorn"][scenario] = _stats(rates)
            out["uvicorn_cpu"][scenario] = _stats(per_cpu)
            log(f"  uvicorn {scenario}: " + _line(out["uvicorn"][scenario]))
            log(f"  uvicorn {scenario} per server CPU second: " + _line(out["uvicorn_cpu"][scenario]))
    finally:
        for proc, _ in servers.values():
            kill_group(proc)
    return out


def _stats(rates: dict[str, list[float]]) -> dict[str, t.Any]:
    return {
        name: {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values)}
        for name, values in rates.items()
        if values
    }


def _line(stats: dict[str, t.Any]) -> str:
    return ", ".join(f"{name} {slot['median']:,.0f}/s" for name, slot in stats.items())


def _ratio(stats: dict[str, t.Any], other: str) -> float | None:
    ours, theirs = stats.get("ours"), stats.get(other)
    if not ours or not theirs:
        return None
    return float(ours["median"] / theirs["median"])


def section(data: dict[str, t.Any]) -> list[str]:
    """The BENCHMARKS.md section."""
    ws = data.get("ws")
    if not ws:
        return []
    out = [
        "## WebSockets",
        "",
        "Echo: text round trips per second over one connection. Broadcast: one",
        "message sent on to 100 open connections, per second. In-process: the",
        "ASGI app fed in-memory messages, rated per second of the process's",
        "CPU time; uvicorn: 1 worker on loopback with the `websockets` client,",
        "rated per wall-clock second and per second of the server process's",
        "CPU time (on a shared machine the wall-clock rate mostly measures",
        "scheduling delays between client and server).",
        f"Median of {ws['rounds']} runs of {ws['seconds']} s, frameworks alternating",
        "(`benchmarks/ws_bench.py`).",
        "",
        "| setting | scenario | ours | Starlette | Quart | ours / Starlette | ours / Quart |",
        "|---|---|---|---|---|---|---|",
    ]
    rows = (
        ("inprocess", "in-process (per CPU second)"),
        ("uvicorn", "uvicorn (per second)"),
        ("uvicorn_cpu", "uvicorn (per server CPU second)"),
    )
    for setting, label in rows:
        for scenario in SCENARIOS:
            stats = ws.get(setting, {}).get(scenario, {})
            cells = [f"{stats[n]['median']:,.0f}" if n in stats else "-" for n in ("ours", "starlette", "quart")]
            ratios = []
            for other in ("starlette", "quart"):
                x = _ratio(stats, other)
                goal = GOALS[other] if scenario == "echo" else None
                mark = "" if x is None or goal is None else (" ✅" if x >= goal else " ❌")
                ratios.append("-" if x is None else f"{x:.2f}x{mark}")
            out.append(f"| {label} | {scenario} | " + " | ".join(cells + ratios) + " |")
    out += ["", "The project's goals for the echo rate: at least 1.0x Starlette and 1.5x Quart.", ""]
    return out
