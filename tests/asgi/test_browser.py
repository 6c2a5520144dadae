"""The example app's browser tests again, with the blog served by uvicorn
through ``app.asgi_app`` instead of Werkzeug's WSGI server.

The tests and the ``browser`` fixture are the example's own
(``examples/blog/tests/test_browser.py``), loaded from its file; only
``live_server`` is replaced. Skips come from that module (selenium,
Chromium) or from uvicorn being absent.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import sys
import threading
import typing as t
from pathlib import Path

import pytest
from waits import wait_until

BLOG = Path(__file__).resolve().parents[2] / "examples" / "blog"
sys.path.insert(0, os.fspath(BLOG))

uvicorn = pytest.importorskip("uvicorn", reason="uvicorn is not installed (pip install -e '.[dev]')")

_spec = importlib.util.spec_from_file_location("blog_browser_tests", BLOG / "tests" / "test_browser.py")
assert _spec is not None and _spec.loader is not None
_tests = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_tests)

browser = _tests.browser
globals().update({name: value for name, value in vars(_tests).items() if name.startswith("test_")})


@pytest.fixture
def live_server(tmp_path: Path) -> t.Iterator[str]:
    """The blog under uvicorn (in a thread) on a free loopback port."""
    from blog import create_app

    # A throwaway SQLite file (migrated on creation) and no environment, so
    # a developer's DATABASE_URL or REDIS_URL is never used; CSRF on, as
    # deployed.
    app = create_app(
        {
            "SECRET_KEY": "browser",
            "SQLALCHEMY_DATABASE_URI": "sqlite:///" + os.fspath(tmp_path / "e2e.sqlite3"),
            "WTF_CSRF_ENABLED": True,
            "MAIL_OUTBOX_DIR": os.fspath(tmp_path / "outbox"),
        },
        environ={},
    )
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app.asgi_app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, name="blog-uvicorn", daemon=True)
    thread.start()
    def started() -> bool:
        if not thread.is_alive():
            raise AssertionError("uvicorn stopped before it started")
        return bool(server.started)

    wait_until(started, hang_bound=20, what="uvicorn to start")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
