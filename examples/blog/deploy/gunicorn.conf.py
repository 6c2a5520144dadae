"""gunicorn settings for the blog: ``gunicorn -c deploy/gunicorn.conf.py blog.wsgi:app``.

Run from ``examples/blog`` (or wherever the ``blog`` package is importable).
Every setting can be changed from the environment, so the same file serves
a laptop, a Procfile platform and a systemd unit:

- ``PORT`` / ``BIND``: where to listen (default 127.0.0.1:8000, behind nginx);
- ``WEB_CONCURRENCY``: worker processes (default 2 x cores + 1);
- ``GUNICORN_WORKER_CLASS``: ``sync`` (default) or ``gevent`` for many slow
  clients; ``GUNICORN_THREADS`` for the ``gthread`` class.
"""

from __future__ import annotations

import multiprocessing
import os

bind = os.environ.get("BIND") or f"127.0.0.1:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "sync")
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
worker_connections = 1000  # gevent: concurrent clients per worker

# A request that takes longer than this is stuck; its worker is replaced.
timeout = 30
# On SIGTERM (a deploy), finish what is in flight before exiting.
graceful_timeout = 20
# nginx keeps connections to the app open between requests.
keepalive = 5

# nginx on the same host sets X-Forwarded-For/-Proto; trust only it.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info")
# Connect-to-response time in microseconds, after the usual fields.
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(D)sus'

# gunicorn 24+ opens a control socket at one fixed path per user, which two
# servers on one host (blue/green, or one per port) would fight over.
control_socket_disable = True
