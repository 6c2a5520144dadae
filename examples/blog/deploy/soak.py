"""Soak: the blog behind gunicorn under a minute of wrk per worker class.

``make soak`` (not part of ``make test``). For each of gunicorn's ``sync``
and ``gevent`` worker classes, two workers serve the example on PostgreSQL
and Redis (the production configuration) on a loopback port, and wrk sends
the mixed load of ``wrk/mix.lua`` for ``--duration`` seconds: the index
page, a post's page (a session write each time), the JSON list and
``POST /api/posts`` with a bearer token. The workers' RSS and open file
descriptors are read from /proc at 10% and at 100% of the run.

Pass: no non-2xx/3xx answer and no socket error, RSS at the end within 5%
of RSS at 10%, and no more descriptors at the end than at 10%. The figures
go to ``--out`` as JSON, which ``make soak`` stores in the results file
(benchmarks/figures.py); the exit status is 1 if any run failed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import tempfile
import threading
import time
import typing as t
import urllib.request
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [os.fspath(HERE), os.fspath(HERE.parent / "tests"), os.fspath(HERE.parent)]

import stack  # noqa: E402
from services import PG_ADMIN, REDIS, reachable, scratch_database  # noqa: E402

RSS_TOLERANCE = 0.05


def sample(pids: list[int]) -> dict[str, int]:
    """Total RSS (KiB) and open descriptors of ``pids``."""
    rss = fds = 0
    for pid in pids:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                rss += int(line.split()[1])
        fds += len(os.listdir(f"/proc/{pid}/fd"))
    return {"rss_kib": rss, "fds": fds}


def prepare(env: dict[str, str], root: Path) -> None:
    stack.Process("release", env, root).run()
    from werkzeug.security import generate_password_hash
    import sqlalchemy as sa

    from blog.settings import database_url

    engine = sa.create_engine(database_url(env["DATABASE_URL"]))
    with engine.begin() as conn:
        conn.execute(
            sa.text("INSERT INTO users (username, password_hash) VALUES ('soak', :h)"),
            {"h": generate_password_hash("soak-1234")},
        )
    engine.dispose()


def one_run(worker_class: str, env: dict[str, str], root: Path, duration: float) -> dict[str, t.Any]:
    port = stack.free_port()
    web = stack.Process(
        "web", {**env, "PORT": str(port), "WEB_CONCURRENCY": "2", "GUNICORN_WORKER_CLASS": worker_class}, root
    ).start()
    try:
        stack.wait_healthy(port, web.proc)
        base = f"http://127.0.0.1:{port}"
        token = stack.api_token(base, "soak", "soak-1234")
        req = urllib.request.Request(
            base + "/api/posts", data=b'{"title": "soak reading"}',
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        )
        with urllib.request.urlopen(req, timeout=10) as r:
            post_id = json.load(r)["id"]
        with urllib.request.urlopen(f"{base}/posts/{post_id}", timeout=10) as r:
            cookie = r.headers["Set-Cookie"].split(";", 1)[0]
        load_env = {"BLOG_TOKEN": token, "BLOG_COOKIE": cookie, "BLOG_POST_IDS": str(post_id)}
        # Warm-up at twice the run's concurrency, so imports, caches and the
        # database and Redis connection pools are at their size before the
        # measured run (pools grow with concurrency, up to their caps).
        stack.run_wrk(base, 5, connections=16, env=load_env)
        workers = web.children()
        samples: dict[str, dict[str, int]] = {}

        def window(seconds: float) -> dict[str, int]:
            # Pool connections open and close as concurrency varies, so
            # descriptors are the most seen over a few seconds: a leak
            # raises that maximum, pool churn under its cap does not.
            seen = [sample(workers)]
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                time.sleep(0.25)
                seen.append(sample(workers))
            return {"rss_kib": seen[-1]["rss_kib"], "fds": max(s["fds"] for s in seen)}

        def sampler() -> None:
            time.sleep(duration * 0.1)
            samples["10%"] = window(3)
            time.sleep(max(0.0, duration * 0.9 - 3 - 4))
            samples["100%"] = window(3)

        thread = threading.Thread(target=sampler)
        thread.start()
        out, totals = stack.run_wrk(base, duration, env=load_env)
        thread.join()
        if web.children() != workers:
            raise RuntimeError(f"{worker_class}: a worker was replaced during the run")
    finally:
        web.stop()
    start, end = samples["10%"], samples["100%"]
    errors = int(totals["non_2xx_3xx"] + totals["socket_errors"])
    rss_growth = end["rss_kib"] / start["rss_kib"] - 1
    return {
        "worker_class": worker_class,
        "requests": int(totals["requests"]),
        "rps": totals["rps"],
        "errors": errors,
        "rss_10": start["rss_kib"],
        "rss_100": end["rss_kib"],
        "rss_growth": rss_growth,
        "fds_10": start["fds"],
        "fds_100": end["fds"],
        "passed": errors == 0 and rss_growth <= RSS_TOLERANCE and end["fds"] <= start["fds"],
        "wrk": out,
    }


def record(runs: list[dict[str, t.Any]], duration: float) -> dict[str, t.Any]:
    """The soak run as the results file holds it (benchmarks/figures.py
    renders BENCHMARKS.md's soak table from it)."""
    return {
        "machine": {
            "date": f"{dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC",
            "description": f"{platform.node()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        },
        "duration": duration,
        "rss_tolerance": RSS_TOLERANCE,
        "runs": runs,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "soak").splitlines()[0])
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--out", type=Path, default=Path(".cache/soak.json"),
                        help="the run as JSON; `benchmarks/figures.py --store soak FILE` files it")
    parser.add_argument("--classes", default="sync,gevent")
    args = parser.parse_args()
    for url, port, what in ((PG_ADMIN, 5432, "PostgreSQL"), (REDIS, 6379, "Redis")):
        if not reachable(url, port):
            print(f"soak: {what} is not running at {url}; start it first", file=sys.stderr)
            return 2
    runs = []  # tasks run eagerly: the soak measures the web workers
    with tempfile.TemporaryDirectory(prefix="blog-soak-") as tmp, scratch_database() as db_url:
        root = Path(tmp)
        env = stack.venv_env(
            DATABASE_URL=db_url,
            REDIS_URL=REDIS.rsplit("/", 1)[0] + "/10",
            SECRET_KEY=uuid.uuid4().hex,
            MAIL_OUTBOX_DIR=os.fspath(root / "outbox"),
            LOG_LEVEL="warning",
        )
        prepare(env, root)
        for worker_class in args.classes.split(","):
            print(f"soak: 2 {worker_class} workers for {args.duration:g} s ...", flush=True)
            run = one_run(worker_class, env, root, args.duration)
            print(run.pop("wrk"))
            print(json.dumps(run), flush=True)
            runs.append(run)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record(runs, args.duration), indent=1) + "\n")
    print(f"soak: wrote {args.out}")
    return 0 if all(r["passed"] for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
