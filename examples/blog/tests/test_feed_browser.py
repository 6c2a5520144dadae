"""Headless Chromium on the index page's feed: its EventSource gets each new
post, reconnects when the server ends the stream, and resumes from
Last-Event-ID with no post lost or repeated.

The blog is served from a thread of this process, by uvicorn (ASGI, as
``test_live_browser.py`` does) and by Werkzeug's threaded server (WSGI),
with ``LIVE_STREAM_MAX_AGE=0``: every stream ends after the first posts it
sends, as a stream older than the max age does in production. In front of
the app a small middleware of the test's own (``FeedWatch``) records each
connection to the feed (its Last-Event-ID and query) and can hold the next
one back, so the test writes posts while the browser is certainly
disconnected. Posts are written through the JSON API in this process. Needs
Chromium and its driver, like ``test_browser.py``.
"""

from __future__ import annotations

import asyncio
import shutil
import threading
import types
import typing as t
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from conftest import Auth, build_app, seed

import test_browser as tb  # skips without selenium (first, as it has the rule)
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402
from test_live_browser import AsgiServer  # noqa: E402

if t.TYPE_CHECKING:
    from flask import Flask
    from selenium.webdriver.remote.webdriver import WebDriver

# Bounds a hang only; nothing here waits for it to pass.
DEADLINE = 20.0
FEED = "/live/posts"


class FeedWatch:
    """Middleware (ASGI and WSGI) in front of the blog that records each
    request to the feed and, when ``hold_next()`` was called, holds the next
    one before the app sees it until ``release()``."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.changed = threading.Condition()
        #: (Last-Event-ID or None, query string) of each feed request, in order.
        self.connections: list[tuple[str | None, str]] = []
        #: How many feed responses have ended.
        self.ended = 0
        self._hold = False
        self.held = threading.Event()
        self._release = threading.Event()

    def hold_next(self) -> None:
        with self.changed:
            self._hold = True

    def release(self) -> None:
        self._release.set()

    def wait_for(self, condition: t.Callable[[], bool], what: str) -> None:
        with self.changed:
            assert self.changed.wait_for(condition, DEADLINE), f"timed out waiting for {what}"

    def _arrived(self, last_event_id: str | None, query: str) -> bool:
        """Record a feed request; whether to hold it."""
        with self.changed:
            hold, self._hold = self._hold, False
            self.connections.append((last_event_id, query))
            self.changed.notify_all()
        if hold:
            self.held.set()
        return hold

    def _end(self) -> None:
        with self.changed:
            self.ended += 1
            self.changed.notify_all()

    async def __call__(self, scope: t.Any, receive: t.Any, send: t.Any) -> None:
        """The ASGI app (uvicorn tells ASGI 3 apps by their ``__call__``)."""
        if scope["type"] != "http" or scope["path"] != FEED:
            return await self.app.asgi_app(scope, receive, send)
        headers = dict(scope["headers"])
        last = headers.get(b"last-event-id")
        if self._arrived(last.decode() if last is not None else None, scope["query_string"].decode()):
            await asyncio.to_thread(self._release.wait, DEADLINE)

        async def watched(message: t.Any) -> None:
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                self._end()

        await self.app.asgi_app(scope, receive, watched)

    def wsgi_app(self, environ: t.Any, start_response: t.Any) -> t.Iterable[bytes]:
        if environ["PATH_INFO"] != FEED:
            return self.app(environ, start_response)
        if self._arrived(environ.get("HTTP_LAST_EVENT_ID"), environ.get("QUERY_STRING", "")):
            self._release.wait(DEADLINE)
        body = self.app(environ, start_response)

        def watched() -> t.Iterator[bytes]:
            try:
                yield from body
            finally:
                close = getattr(body, "close", None)
                if close is not None:
                    close()
            self._end()

        return watched()


@pytest.fixture(params=["uvicorn", "werkzeug"])
def served(
    request: pytest.FixtureRequest, tmp_path: Path, migrated_db: Path
) -> t.Iterator[tuple[str, Flask, FeedWatch]]:
    """The seeded blog (alice's post 1) behind a ``FeedWatch``: (base URL,
    app, watch)."""
    db_path = tmp_path / "feed.sqlite3"
    shutil.copyfile(migrated_db, db_path)
    app = build_app(
        db_path, tmp_path, AUTO_UPGRADE=False, TESTING=False, WTF_CSRF_ENABLED=True,
        LIVE_STREAM_MAX_AGE=0, LIVE_STREAM_RETRY=100,
        # Streams end after the posts they send; a poll would end one with
        # nothing (harmless, but it would add a connection to the record).
        LIVE_STREAM_POLL=10 * DEADLINE,
    )
    seed(app)
    watch = FeedWatch(app)
    try:
        if request.param == "uvicorn":
            pytest.importorskip("uvicorn", reason="uvicorn is not installed (examples/blog/requirements.txt)")
            server = AsgiServer(types.SimpleNamespace(asgi_app=watch)).start()
            try:
                yield server.url, app, watch
            finally:
                watch.release()
                server.stop()
        else:
            wsgi = make_server("127.0.0.1", 0, watch.wsgi_app, threaded=True)
            thread = threading.Thread(target=wsgi.serve_forever, name="blog-feed-wsgi", daemon=True)
            thread.start()
            try:
                yield f"http://127.0.0.1:{wsgi.server_port}", app, watch
            finally:
                watch.release()
                wsgi.shutdown()
                wsgi.server_close()
                thread.join(DEADLINE)
    finally:
        watch.release()


@pytest.fixture
def browser(tmp_path: Path, served: tuple[str, Flask, FeedWatch]) -> t.Iterator[WebDriver]:
    """Requesting ``served`` first makes the browser quit before the server stops."""
    driver = tb.start_browser(tmp_path / "feed-profile")
    try:
        yield driver
    finally:
        driver.quit()


def feed_state(driver: WebDriver) -> str:
    return str(driver.find_element(By.ID, "posts").get_attribute("data-live"))


def shown(driver: WebDriver) -> list[str]:
    """The ids of the index page's articles, top to bottom."""
    return [str(a.get_attribute("id")) for a in driver.find_elements(By.CSS_SELECTOR, "#posts article")]


def wait_shown(driver: WebDriver, expected: list[str]) -> None:
    WebDriverWait(driver, DEADLINE, poll_frequency=0.05).until(lambda d: shown(d) == expected)


def test_the_index_resumes_from_last_event_id_after_the_server_ends_its_stream(
    served: tuple[str, Flask, FeedWatch], browser: WebDriver
) -> None:
    base, app, watch = served
    writer = app.test_client()
    token = Auth(writer).token("bob")

    def write(title: str) -> int:
        r = writer.post("/api/posts", json={"title": title, "body": f"{title}, live."}, headers=token)
        assert r.status_code == 201, r.data
        return int(r.get_json()["id"])

    browser.get(base + "/")
    browser.execute_script("window.blogTestMark = true;")
    assert shown(browser) == ["post-1"]
    WebDriverWait(browser, DEADLINE, poll_frequency=0.05).until(lambda d: feed_state(d) == "open")
    assert watch.connections == [(None, "after=1")]

    # A new post reaches the open page; the server then ends the stream (it
    # is past its max age), and the page's reconnection is held back.
    watch.hold_next()
    assert write("Second") == 2
    wait_shown(browser, ["post-2", "post-1"])
    watch.wait_for(lambda: watch.ended == 1, "the first stream to end")
    assert watch.held.wait(DEADLINE), "the page did not reconnect"
    assert feed_state(browser) == "connecting"

    # Written while the page has no stream: they come on the reconnection,
    # which asked for what came after post 2.
    assert [write("Third"), write("Fourth")] == [3, 4]
    assert shown(browser) == ["post-2", "post-1"]
    watch.release()
    wait_shown(browser, ["post-4", "post-3", "post-2", "post-1"])

    # And after: the next reconnection resumes after post 4.
    watch.wait_for(lambda: len(watch.connections) == 3, "the third connection")
    assert write("Fifth") == 5
    wait_shown(browser, ["post-5", "post-4", "post-3", "post-2", "post-1"])

    # Once each, in order, never by reloading the page; every reconnection
    # carried the id of the last post the page had (the page's own URL,
    # ?after=1, stays the same and gives way to it).
    assert browser.execute_script("return window.blogTestMark === true;") is True
    titles = [h.text for h in browser.find_elements(By.CSS_SELECTOR, "#posts article h2")]
    assert titles == ["Fifth", "Fourth", "Third", "Second", "First light"]
    first_three = [(None, "after=1"), ("2", "after=1"), ("4", "after=1")]
    assert watch.connections[:3] == first_three
    assert all(c == ("5", "after=1") for c in watch.connections[3:])
    # What the page inserted reads as the server renders it.
    live_texts = [a.text for a in browser.find_elements(By.CSS_SELECTOR, "#posts article")]
    browser.refresh()
    assert [a.text for a in browser.find_elements(By.CSS_SELECTOR, "#posts article")] == live_texts
