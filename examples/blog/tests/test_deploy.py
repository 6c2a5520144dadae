"""The deployment, end to end, on this machine's loopback.

From the shipped files only (Procfile, gunicorn.conf.py, uwsgi.ini, the
nginx site): PostgreSQL-backed app servers on two ports (gunicorn, or uWSGI
in the second run of every test, and uvicorn where the framework has
``asgi_app``, else a second gunicorn with gevent workers), a
Celery worker on RabbitMQ, Redis for the cache and live updates, and nginx
in front. Headless Chromium drives the site through nginx; then one app
server is killed in the middle of a wrk load, and every write that got a
2xx must be in the database afterwards.

Needs PostgreSQL, Redis and RabbitMQ running (see ``services.py``) and
``apt-get install nginx wrk chromium chromium-driver``; skips otherwise
(never under CI=true).
"""

from __future__ import annotations

import email
import email.policy
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import typing as t
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

sys.path.insert(0, os.fspath(Path(__file__).resolve().parents[1] / "deploy"))

import stack  # noqa: E402
from services import AMQP, REDIS, need, scratch_database  # noqa: E402

import flask  # noqa: E402

HOW_TO = "apt-get install nginx wrk"
REPORT = os.environ.get("BLOG_DEPLOY_REPORT")
# Requests in the failover load: wrk stops at this count (2 threads).
TOTAL = 2000


def need_tools() -> None:
    for tool in (stack.NGINX, stack.WRK):
        if not (os.path.isfile(tool) and os.access(tool, os.X_OK)):
            pytest.skip(f"{tool} not found; enable this test with: {HOW_TO}")
    need(REDIS, 6379, "Redis")
    need(AMQP, 5672, "RabbitMQ")


class Stack:
    def __init__(self, root: Path, db_url: str, wsgi_server: str = "gunicorn") -> None:
        self.root = root
        self.wsgi_server = wsgi_server
        self.db_url = db_url
        self.outbox = root / "outbox"
        self.ports = [stack.free_port(), stack.free_port()]
        self.queue = queue = f"blog-deploy-{uuid.uuid4().hex[:8]}"
        self.env = stack.venv_env(
            DATABASE_URL=db_url,
            REDIS_URL=REDIS.rsplit("/", 1)[0] + "/9",
            CELERY_BROKER_URL=AMQP,
            CELERY_QUEUE=queue,
            SECRET_KEY=uuid.uuid4().hex,
            MAIL_OUTBOX_DIR=os.fspath(self.outbox),
            WEB_CONCURRENCY="2",
            FLASK_DEBUG="0",
        )
        self.asgi = hasattr(flask.Flask, "asgi_app")
        self.web: list[stack.Process] = []
        self.worker: stack.Process | None = None
        self.nginx: stack.Nginx | None = None

    def web_process(self, index: int) -> stack.Process:
        port = str(self.ports[index])
        if index == 1 and self.asgi:
            return stack.Process("asgi", {**self.env, "PORT": port}, self.root)
        if index == 1:
            return stack.Process("web", {**self.env, "PORT": port, "GUNICORN_WORKER_CLASS": "gevent"}, self.root)
        if self.wsgi_server == "uwsgi":
            return stack.Process("uwsgi", {**self.env, "PORT": port}, self.root, stack.UWSGI_COMMAND)
        return stack.Process("web", {**self.env, "PORT": port}, self.root)

    def start(self) -> None:
        stack.Process("release", self.env, self.root).run()
        self.web = [self.web_process(0).start(), self.web_process(1).start()]
        self.worker = stack.Process("worker", self.env, self.root).start()
        for proc, port in zip(self.web, self.ports):
            stack.wait_healthy(port, proc.proc)
        self.nginx = stack.Nginx(self.root / "nginx", self.ports).start()

    def stop(self) -> None:
        for part in [self.nginx, self.worker, *self.web]:
            if part is not None:
                part.stop()
        # The run's queue and exchange would otherwise stay on the broker.
        from kombu import Connection

        with Connection(AMQP, connect_timeout=5) as conn:
            channel = conn.default_channel
            channel.queue_delete(self.queue)
            channel.exchange_delete(self.queue)

    def engine(self) -> sa.Engine:
        from blog.settings import database_url

        return sa.create_engine(database_url(self.db_url))


# The WSGI server behind nginx beside the second one: every test runs with
# each (uWSGI with the shipped deploy/uwsgi.ini).
@pytest.fixture(scope="module", params=["gunicorn", "uwsgi"])
def deployed(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> t.Iterator[Stack]:
    need_tools()
    if request.param == "uwsgi" and not shutil.which("uwsgi", path=os.path.dirname(sys.executable)):
        pytest.skip("uwsgi is not installed; enable this test with: pip install pyuwsgi")
    root = tmp_path_factory.mktemp(f"deploy-{request.param}")
    with scratch_database() as db_url:
        s = Stack(root, db_url, request.param)
        try:
            s.start()
            yield s
        finally:
            s.stop()
            logs = "\n".join(f"--- {p.name}\n{p.log()[-3000:]}" for p in s.web + [s.worker] if p)
            print(logs)


def fetch(url: str, **kw: t.Any) -> tuple[int, dict[str, str], bytes]:
    req = urllib.request.Request(url, **kw)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def test_health_through_nginx_on_both_servers(deployed: Stack) -> None:
    for port in deployed.ports:
        assert fetch(f"http://127.0.0.1:{port}/health")[2] == b'{"status":"ok"}\n'
    assert fetch(deployed.nginx.url + "/health")[0] == 200


def test_static_files_are_served_by_nginx(deployed: Stack) -> None:
    status, headers, body = fetch(deployed.nginx.url + "/static/style.css")
    assert status == 200
    assert body == (stack.APP_DIR / "blog" / "static" / "style.css").read_bytes()
    # `expires 1h` in the site: the app would have sent no max-age.
    assert headers["Cache-Control"] == "max-age=3600"
    assert headers["Server"].startswith("nginx")
    time.sleep(0.5)
    for proc in deployed.web:
        assert "/static/style.css" not in proc.log()


def test_browser_through_nginx_and_the_celery_mail(deployed: Stack, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    import test_browser as tb

    base = deployed.nginx.url
    author = tb.start_browser(tmp_path / "author-profile")
    reader = tb.start_browser(tmp_path / "reader-profile")
    try:
        tb.register_and_login(author, base, "ada", "engines-1843")
        tb.register_and_login(reader, base, "grace", "cobol-1959")

        reader.get(base + "/users/ada")
        tb.fill_and_submit(reader, "follow-form")
        assert "You now follow ada." in tb.flashes(reader)

        post_url = tb.write_post(author, "Notes on the engine", "It weaves algebraic patterns.")
        # Live comments need the WebSocket route (the framework's
        # Blueprint.websocket) and the ASGI server behind /live/.
        live = deployed.asgi and hasattr(flask.Blueprint, "websocket")
        comments = author.find_element(By.ID, "comments")
        if live:
            WebDriverWait(author, 20).until(lambda d: comments.get_attribute("data-live") == "open")
        reader.get(post_url)
        tb.write_comment(reader, "Lovely, <b>ada</b>!")
        if live:
            # Published by the server that took the comment, through Redis,
            # to the page the author has open: no reload.
            WebDriverWait(author, 20).until(lambda d: "Lovely, <b>ada</b>!" in comments.text)
            assert author.current_url == post_url
        author.get(post_url)
        comments = author.find_element(By.ID, "comments")
        assert "grace: Lovely, <b>ada</b>!" in comments.text
    finally:
        author.quit()
        reader.quit()

    # The Celery worker (another process, fed through RabbitMQ) mailed the
    # follower; the message is in the outbox. Generous: on a loaded machine
    # the worker may still be starting (seen once past 60 s).
    deadline = time.monotonic() + 150
    files: list[Path] = []
    while time.monotonic() < deadline and not files:
        files = sorted(deployed.outbox.glob("*.eml")) if deployed.outbox.exists() else []
        time.sleep(0.5)
    assert len(files) == 1, "worker log:\n" + deployed.worker.log()[-3000:]
    msg = email.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)
    assert msg["To"] == "grace@example.org"
    assert msg["Subject"] == "New post by ada: Notes on the engine"
    assert "blog.notify_followers" in deployed.worker.log()


def read_wrk_logs(folder: Path) -> tuple[dict[int, int], list[int]]:
    statuses: dict[int, int] = {}
    created: list[int] = []
    for path in folder.glob("wrk-*.log"):
        for line in path.read_text().splitlines():
            status, _, new_id = line.partition(" ")
            statuses[int(status)] = statuses.get(int(status), 0) + 1
            if status == "201":
                created.append(int(new_id))
    return statuses, created


def test_failover_loses_no_acknowledged_write(deployed: Stack, tmp_path: Path) -> None:
    base = deployed.nginx.url
    # The load's author, straight into the database: the sign-up form
    # would want a CSRF token, which wrk has no way to carry.
    from werkzeug.security import generate_password_hash

    with deployed.engine().begin() as conn:
        conn.execute(
            sa.text("INSERT INTO users (username, password_hash) VALUES ('loadtest', :h)"),
            {"h": generate_password_hash("load-1234")},
        )
    token = stack.api_token(base, "loadtest", "load-1234")
    status, _, body = fetch(
        base + "/api/posts", method="POST", data=b'{"title": "Read under load"}',
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    assert status == 201, body
    first_post = json.loads(body)["id"]
    with deployed.engine().connect() as conn:
        posts_before = conn.execute(sa.text("SELECT COUNT(*) FROM posts")).scalar()

    logs = tmp_path / "wrk"
    logs.mkdir()
    victim = deployed.web[0]
    killed_at: list[float] = []

    def answered() -> int:
        return sum(len(p.read_bytes().splitlines()) for p in logs.glob("wrk-*.log"))

    def kill_later() -> None:
        # Kill once a fifth of the load is answered (the machine may be
        # slow or busy, so go by progress rather than by the clock).
        deadline = time.monotonic() + 40
        while answered() < TOTAL // 5 and time.monotonic() < deadline:
            time.sleep(0.05)
        killed_at.append(time.time())
        victim.kill()

    killer = threading.Thread(target=kill_later)
    killer.start()
    out, totals = stack.run_wrk(
        base, 120, connections=8, threads=2,
        env={"BLOG_TOKEN": token, "BLOG_POST_IDS": str(first_post), "BLOG_LOG_DIR": os.fspath(logs),
             "BLOG_MAX": str(TOTAL // 2)},
        done=lambda: answered() >= TOTAL,
    )
    killer.join()
    statuses, created = read_wrk_logs(logs)
    total = sum(statuses.values())
    non_2xx = {code: n for code, n in statuses.items() if not 200 <= code < 400}

    with deployed.engine().connect() as conn:
        ids = set(conn.execute(sa.text("SELECT id FROM posts")).scalars())
        posts_after = len(ids)
    lost = sorted(set(created) - ids)

    # The restarted server rejoins: after fail_timeout nginx sends it
    # requests again.
    deployed.web[0] = deployed.web_process(0).start()
    stack.wait_healthy(deployed.ports[0], deployed.web[0].proc)
    restarted_at = time.time()
    time.sleep(6)  # fail_timeout=5s in the shipped site
    answers = [fetch(base + "/api/posts")[0] for _ in range(40)]
    upstream_a = f"127.0.0.1:{deployed.ports[0]}"
    served_by_a = [
        line for line in deployed.nginx.access_log()
        if float(line.split()[0]) > restarted_at and upstream_a in line.split()[2]
    ]

    figures = {
        "requests": total,
        "wrk_requests": int(totals["requests"]),
        "writes_acknowledged": len(created),
        "non_2xx": sum(non_2xx.values()),
        "non_2xx_by_status": non_2xx,
        "writes_lost": len(lost),
        "posts_added": posts_after - posts_before,
        "requests_after_rejoin": len(answers),
        "served_by_restarted_server": len(served_by_a),
        "second_server": "uvicorn (ASGI)" if deployed.asgi else "gunicorn (gevent)",
    }
    print(f"failover figures ({deployed.wsgi_server}):", json.dumps(figures))
    # The stored figures stay gunicorn's, the run they have always been.
    if REPORT and deployed.wsgi_server == "gunicorn":
        Path(REPORT).parent.mkdir(parents=True, exist_ok=True)
        Path(REPORT).write_text(json.dumps(figures, indent=2) + "\n")

    assert killed_at, "the kill never happened"
    assert total >= TOTAL, out
    assert lost == [], f"acknowledged writes missing from the database: {lost[:20]}"
    assert len(created) >= 100
    # Non-2xx answers are bounded to the moment of the kill, not the run.
    assert sum(non_2xx.values()) <= 50, non_2xx
    assert set(non_2xx) <= {502, 504}, non_2xx
    assert answers == [200] * 40
    assert served_by_a, "the restarted server got no traffic from nginx"


def test_nginx_site_passes_websocket_upgrades(tmp_path: Path) -> None:
    """The shipped site's /live/ location, against a stand-in upstream that
    speaks just enough HTTP/1.1 upgrade to echo bytes back."""
    if not (os.path.isfile(stack.NGINX) and os.access(stack.NGINX, os.X_OK)):
        pytest.skip(f"{stack.NGINX} not found; enable this test with: {HOW_TO}")

    seen: list[bytes] = []
    upstream = socket.socket()
    upstream.bind(("127.0.0.1", 0))
    upstream.listen(8)
    port = upstream.getsockname()[1]

    def serve() -> None:
        while True:
            try:
                conn, _ = upstream.accept()
            except OSError:
                return
            with conn:
                head = b""
                while b"\r\n\r\n" not in head:
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    head += chunk
                seen.append(head)
                if b"upgrade: websocket" in head.lower():
                    conn.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
                    data = conn.recv(4096)
                    conn.sendall(b"echo:" + data)
                else:
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")

    threading.Thread(target=serve, daemon=True).start()
    nginx = stack.Nginx(tmp_path / "nginx", [port, port]).start()
    try:
        with socket.create_connection(("127.0.0.1", nginx.port), 10) as client:
            client.sendall(
                b"GET /live/posts/1 HTTP/1.1\r\nHost: blog.test\r\nUpgrade: websocket\r\n"
                b"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
            )
            reply = client.recv(4096)
            assert reply.startswith(b"HTTP/1.1 101"), reply
            client.sendall(b"ping")
            assert client.recv(4096) == b"echo:ping"
        status, _, body = fetch(nginx.url + "/posts/1")
        assert (status, body) == (200, b"ok")
    finally:
        nginx.stop()
        upstream.close()
    upgrade, plain = (h.lower() for h in seen[:2])
    assert b"upgrade: websocket" in upgrade and b"connection: upgrade" in upgrade
    assert b"host: blog.test" in upgrade
    assert b"x-forwarded-for: 127.0.0.1" in upgrade
    # Ordinary requests carry no upgrade, and keep "Host" (not the upstream name).
    assert b"upgrade" not in plain
    assert b"host: 127.0.0.1" in plain


def test_gunicorn_config_is_valid(tmp_path: Path) -> None:
    env = stack.venv_env(PORT="8123", WEB_CONCURRENCY="3", GUNICORN_WORKER_CLASS="gevent")
    result = subprocess.run(
        ["gunicorn", "-c", "deploy/gunicorn.conf.py", "--check-config", "--print-config", "blog.wsgi:app"],
        cwd=stack.APP_DIR, env={**env, "DATABASE_URL": f"sqlite:///{tmp_path}/c.db"},
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    config = dict(
        (k.strip(), v.strip()) for k, _, v in
        (line.partition("=") for line in result.stdout.splitlines()) if k.strip()
    )
    assert config["bind"] == "['127.0.0.1:8123']"
    assert config["workers"] == "3"
    assert config["worker_class"] == "gevent"
    assert config["control_socket_disable"] == "True"


def test_uwsgi_ini_serves_the_app(tmp_path: Path) -> None:
    """deploy/uwsgi.ini on its own (no nginx or services): it reads PORT
    and WEB_CONCURRENCY, loads the app in each worker, and stops on SIGTERM."""
    if not shutil.which("uwsgi", path=os.path.dirname(sys.executable)):
        pytest.skip("uwsgi is not installed; enable this test with: pip install pyuwsgi")
    port = stack.free_port()
    env = stack.venv_env(PORT=str(port), WEB_CONCURRENCY="2", SECRET_KEY="ini",
                         DATABASE_URL=f"sqlite:///{tmp_path}/u.db", MAIL_OUTBOX_DIR=os.fspath(tmp_path / "out"))
    proc = stack.Process("uwsgi", env, tmp_path, stack.UWSGI_COMMAND).start()
    try:
        stack.Process("release", env, tmp_path).run()
        assert proc.proc is not None
        stack.wait_healthy(port, proc.proc)
        assert fetch(f"http://127.0.0.1:{port}/health")[:3:2] == (200, b'{"status":"ok"}\n')
        assert len(proc.children()) == 2  # the master's two workers
    finally:
        proc.stop()
    assert proc.proc.returncode is not None
    assert "goodbye to uWSGI" in proc.log()


def test_procfile_names_every_process() -> None:
    entries = stack.procfile()
    assert set(entries) == {"release", "web", "asgi", "worker"}
    assert "deploy/gunicorn.conf.py" in entries["web"]
    assert entries["asgi"].startswith("uvicorn blog.wsgi:asgi ")
    assert "-A blog.wsgi:celery worker" in entries["worker"]
