"""Run the blog's deployment on this machine: for ``test_deploy`` and ``soak``.

Every process is started from the shipped files (the Procfile's command
lines, ``gunicorn.conf.py``, the nginx site) on free loopback ports, in its
own process group so it can be killed whole, with its output in a log file.
nginx runs as a foreground child with its own prefix and a wrapper
``nginx.conf`` in a temporary folder, so nothing of the system's nginx
setup is used or touched.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import typing as t
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
APP_DIR = HERE.parent  # examples/blog: the Procfile's working directory
PROCFILE = APP_DIR / "Procfile"
NGINX_SITE = HERE / "nginx" / "blog.conf"
WRK_SCRIPT = HERE / "wrk" / "mix.lua"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
WRK = shutil.which("wrk") or "/usr/bin/wrk"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, proc: subprocess.Popen[bytes] | None, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process for port {port} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), 0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listens on port {port} after {timeout}s")


def wait_healthy(port: int, proc: subprocess.Popen[bytes] | None, timeout: float = 90) -> None:
    """Wait until the app answers ``/health`` (gunicorn listens before its
    workers have imported the app)."""
    wait_for_port(port, proc, timeout)
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"port {port} never answered /health")
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process for port {port} exited with {proc.returncode}")
        time.sleep(0.2)


def procfile() -> dict[str, str]:
    """The Procfile's process types and their command lines."""
    entries = {}
    for line in PROCFILE.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, command = line.partition(":")
            entries[name.strip()] = command.strip()
    return entries


#: The shipped uWSGI command, in place of the Procfile's gunicorn ``web``.
UWSGI_COMMAND = "uwsgi --ini deploy/uwsgi.ini"


class Process:
    """One command from the Procfile (or ``command``), run through the
    shell as Heroku does."""

    def __init__(self, name: str, env: t.Mapping[str, str], log_dir: Path, command: str | None = None) -> None:
        self.name = name
        self.command = procfile()[name] if command is None else command
        self.env = dict(env)
        self.log_path = log_dir / f"{name}-{self.env.get('PORT', 'x')}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Process:
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            ["bash", "-c", f"exec {self.command}"],
            cwd=APP_DIR,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        return self

    def run(self, timeout: float = 120) -> str:
        """Run to completion (``release``); return its output or raise."""
        result = subprocess.run(
            ["bash", "-c", self.command], cwd=APP_DIR, env=self.env,
            capture_output=True, text=True, timeout=timeout,
        )
        if result.returncode != 0:
            raise RuntimeError(f"{self.name} failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout + result.stderr

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Signal the whole process group (a gunicorn master and its workers)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        self.kill(signal.SIGTERM)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def children(self) -> list[int]:
        """Pids of the direct children (a gunicorn master's workers)."""
        assert self.proc is not None
        path = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        return [int(p) for p in path.read_text().split()] if path.exists() else []


def site_config(listen: int, upstreams: t.Sequence[int], static_dir: Path) -> str:
    """The shipped nginx site with this machine's ports and paths filled in.

    Each replaced piece must occur exactly once, so an edit of the shipped
    file that the tests would no longer exercise fails loudly here.
    """
    text = NGINX_SITE.read_text()
    replacements = [
        ("listen 80;", f"listen 127.0.0.1:{listen};"),
        ("server 127.0.0.1:8000 ", f"server 127.0.0.1:{upstreams[0]} "),
        ("server 127.0.0.1:8001 ", f"server 127.0.0.1:{upstreams[1]} "),
        ("server 127.0.0.1:8001;", f"server 127.0.0.1:{upstreams[1]};"),
        ("alias /srv/blog/blog/static/;", f"alias {static_dir}/;"),
    ]
    for old, new in replacements:
        if text.count(old) != 1:
            raise ValueError(f"{NGINX_SITE.name} should contain {old!r} exactly once")
        text = text.replace(old, new)
    return text


class Nginx:
    """nginx in the foreground with its own prefix, in front of ``upstreams``."""

    def __init__(self, workdir: Path, upstreams: t.Sequence[int], site: str | None = None) -> None:
        self.dir = workdir
        self.port = free_port()
        self.dir.mkdir(parents=True, exist_ok=True)
        for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (self.dir / sub).mkdir(exist_ok=True)
        if site is None:
            site = site_config(self.port, upstreams, APP_DIR / "blog" / "static")
        (self.dir / "blog.conf").write_text(site)
        user = "user root;\n" if os.geteuid() == 0 else ""
        d = self.dir
        (self.dir / "nginx.conf").write_text(
            f"""{user}daemon off;
master_process on;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log info;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    client_body_temp_path {d}/body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    log_format upstream '$msec $status $upstream_addr "$upstream_status" "$request"';
    access_log {d}/access.log upstream;
    include {d}/blog.conf;
}}
"""
        )
        self.proc: subprocess.Popen[bytes] | None = None

    def check(self) -> None:
        """``nginx -t`` on the configuration."""
        subprocess.run(
            [NGINX, "-t", "-p", f"{self.dir}/", "-c", f"{self.dir}/nginx.conf", "-e", f"{self.dir}/error.log"],
            check=True, capture_output=True, timeout=30,
        )

    def start(self) -> Nginx:
        self.check()
        log = open(self.dir / "stdout.log", "ab")
        self.proc = subprocess.Popen(
            [NGINX, "-p", f"{self.dir}/", "-c", f"{self.dir}/nginx.conf", "-e", f"{self.dir}/error.log"],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        log.close()
        wait_for_port(self.port, self.proc, 20)
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            # QUIT: graceful shutdown of the master and its worker.
            os.killpg(self.proc.pid, signal.SIGQUIT)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def access_log(self) -> list[str]:
        path = self.dir / "access.log"
        return path.read_text().splitlines() if path.exists() else []


def run_wrk(
    url: str, duration: float, *, connections: int = 8, threads: int = 2,
    env: t.Mapping[str, str] | None = None, timeout_s: int = 5,
    done: t.Callable[[], bool] | None = None,
) -> tuple[str, dict[str, float]]:
    """wrk with the mixed-traffic script; its output and parsed totals.

    wrk always sleeps out its duration, even once every thread has
    stopped; ``done`` is polled, and when it says so wrk gets SIGINT,
    after which it prints its summary as usual.
    """
    cmd = [
        WRK, "-t", str(threads), "-c", str(connections), "-d", f"{duration}s",
        "--timeout", f"{timeout_s}s", "-s", str(WRK_SCRIPT), url,
    ]
    proc = subprocess.Popen(
        cmd, env={**os.environ, **(env or {})}, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )
    deadline = time.monotonic() + duration + 60
    while proc.poll() is None:
        if (done is not None and done()) or time.monotonic() > deadline:
            time.sleep(0.2)  # let the last responses land in the logs
            proc.send_signal(signal.SIGINT)
            break
        time.sleep(0.1)
    out, err = proc.communicate(timeout=60)
    if proc.returncode != 0:
        raise RuntimeError(f"wrk failed: {err}")
    totals: dict[str, float] = {"non_2xx_3xx": 0, "socket_errors": 0}
    m = re.search(r"(\d+) requests in", out)
    totals["requests"] = float(m.group(1)) if m else 0
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if m:
        totals["non_2xx_3xx"] = float(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if m:
        totals["socket_errors"] = float(sum(int(g) for g in m.groups()))
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    totals["rps"] = float(m.group(1)) if m else 0
    return out, totals


def api_token(base: str, username: str, password: str) -> str:
    req = urllib.request.Request(
        base + "/api/tokens",
        data=f'{{"username": "{username}", "password": "{password}"}}'.encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=10) as r:
        import json

        return str(json.load(r)["token"])


def venv_env(**extra: str) -> dict[str, str]:
    """This interpreter's environment with its bin folder first on PATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "REDIS_URL", "CELERY_"))}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def shell_quote(text: str) -> str:
    return shlex.quote(text)
