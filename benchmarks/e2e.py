"""End to end: each app behind gunicorn (1 sync worker, loopback) loaded by wrk."""

from __future__ import annotations

import os
import re
import shutil
import socket
import statistics
import subprocess
import time
import typing as t
import urllib.error
import urllib.request
from pathlib import Path

import harness
from common import APPS
from common import CACHE
from common import PARTICIPANTS
from common import REF_SCENARIOS
from common import CHILDREN
from common import FLASKS
from common import kill_group
from common import log
from common import participant_env

E2E_FLASK_SCENARIOS = ("hello", "param", "template", "json_in")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wrk_scripts() -> dict[str, Path]:
    """Lua scripts for the POST scenarios (wrk sends GET otherwise)."""
    out: dict[str, Path] = {}
    d = CACHE / "wrk"
    d.mkdir(exist_ok=True)
    for scenario in E2E_FLASK_SCENARIOS:
        method, _, _, body, ctype = harness.SCENARIOS[scenario]
        if method == "GET":
            continue
        path = d / f"{scenario}.lua"
        path.write_text(
            f'wrk.method = "{method}"\n'
            f"wrk.body = [[{body.decode()}]]\n"
            f'wrk.headers["Content-Type"] = "{ctype}"\n'
        )
        out[scenario] = path
    return out


class Server:
    """gunicorn with one sync worker on a free loopback port."""

    def __init__(self, part: str) -> None:
        venv, _, module = PARTICIPANTS[part]
        self.port = free_port()
        self.log_path = CACHE / f"gunicorn-{part}.log"
        self.log_file = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [str(CACHE / venv / "bin" / "gunicorn"), "--workers", "1", "--worker-class", "sync",
             "--bind", f"127.0.0.1:{self.port}", "--chdir", str(APPS), "--log-level", "warning",
             "--graceful-timeout", "2", "--timeout", "30", f"{module}:app"],
            stdout=self.log_file, stderr=self.log_file, env=participant_env(part), cwd=CACHE, start_new_session=True,
        )
        CHILDREN.append(self.proc)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {self.log_path.read_text()[-1500:]}")
            try:
                with urllib.request.urlopen(self.url("/"), timeout=2) as resp:
                    resp.read()
                return
            except urllib.error.HTTPError:
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("gunicorn did not answer in time")

    def request(self, scenario: str) -> int:
        method, path, _, body, ctype = harness.SCENARIOS[scenario]
        req = urllib.request.Request(self.url(path), data=body or None, method=method)
        if ctype:
            req.add_header("Content-Type", ctype)
        try:
            with urllib.request.urlopen(req, timeout=5) as resp:
                resp.read()
                return int(resp.status)
        except urllib.error.HTTPError as e:
            return int(e.code)

    def stop(self) -> None:
        kill_group(self.proc)
        self.log_file.close()


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


def parse_wrk(out: str) -> dict[str, t.Any]:
    rps = re.search(r"Requests/sec:\s*([\d.]+)", out)
    p99 = re.search(r"^\s*99%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
    if not rps or not p99:
        return {"error": "could not parse wrk output:\n" + out[-800:]}
    res: dict[str, t.Any] = {"rps": float(rps.group(1)), "p99_ms": float(p99.group(1)) * _UNITS[p99.group(2)]}
    bad = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", out)
    sock = re.search(r"Socket errors:.*", out)
    if bad:
        res["non2xx"] = int(bad.group(1))
    if sock:
        res["socket_errors"] = sock.group(0)
    return res


def install_wrk() -> bool:
    """Machines are not kept between sessions, so fetch wrk from Debian when we can."""
    if not shutil.which("apt-get") or os.geteuid() != 0:
        return False
    log("  wrk is missing: apt-get install wrk ...")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for cmd in (["apt-get", "install", "-y", "-qq", "wrk"], ["apt-get", "update", "-qq"],
                ["apt-get", "install", "-y", "-qq", "wrk"]):
        try:
            subprocess.run(cmd, env=env, capture_output=True, timeout=300)
        except subprocess.TimeoutExpired:
            return False
        if shutil.which("wrk"):
            return True
    return False


def run_e2e(
    venvs_ok: dict[str, bool], scenarios: list[str], rounds: int, duration: int, connections: int,
) -> dict[str, dict[str, dict[str, t.Any]]]:
    """scenario -> participant -> {"runs": [...], "rps": median, "p99_ms": median} or error."""
    scripts = wrk_scripts()
    plan: dict[str, list[str]] = {}
    for part, (venv, _, _) in PARTICIPANTS.items():
        if not venvs_ok.get(venv):
            continue
        allowed = E2E_FLASK_SCENARIOS if part in FLASKS else REF_SCENARIOS
        plan[part] = [s for s in scenarios if s in allowed]
    runs: dict[str, dict[str, dict[str, t.Any]]] = {}
    for _ in range(rounds):
        for part, scens in plan.items():
            if not scens:
                continue
            server = Server(part)
            try:
                try:
                    server.wait_ready()
                except RuntimeError as e:
                    for s in scens:
                        runs.setdefault(s, {})[part] = {"error": str(e)}
                    continue
                for scenario in scens:
                    slot = runs.setdefault(scenario, {}).setdefault(part, {"runs": []})
                    if "error" in slot:
                        continue
                    status = server.request(scenario)
                    if status >= 500:
                        slot.clear()
                        slot["error"] = f"status {status}"
                        continue
                    for _ in range(20):  # warm-up
                        server.request(scenario)
                    path = harness.SCENARIOS[scenario][1]
                    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency"]
                    if scenario in scripts:
                        cmd += ["-s", str(scripts[scenario])]
                    cmd.append(server.url(path))
                    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 30)
                    parsed = parse_wrk(proc.stdout)
                    if "error" in parsed:
                        slot.clear()
                        slot.update(parsed)
                    else:
                        slot["runs"].append(parsed)
            finally:
                server.stop()
    for scenario, parts in runs.items():
        for part, slot in parts.items():
            if slot.get("runs"):
                slot["rps"] = statistics.median(r["rps"] for r in slot["runs"])
                slot["p99_ms"] = statistics.median(r["p99_ms"] for r in slot["runs"])
                slot["non2xx"] = sum(r.get("non2xx", 0) for r in slot["runs"])
            elif "error" not in slot:
                slot["error"] = "no run completed"
            desc = f"{slot['rps']:,.0f}/s p99 {slot['p99_ms']:.2f} ms" if "rps" in slot else "ERROR"
            log(f"  {scenario:<10} {part:<8} {desc}")
    return runs
