"""End-to-end: a real headless Chromium drives the blog over HTTP.

Needs the ``selenium`` package plus Chromium and its driver from the system
(``apt-get install chromium chromium-driver``); skipped otherwise. Selenium
is pointed at those binaries explicitly so Selenium Manager never downloads
anything.
"""

from __future__ import annotations

import os
import shutil
import threading
import typing as t
from pathlib import Path

import pytest
from werkzeug.serving import make_server

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
HOW_TO_ENABLE = "apt-get install chromium chromium-driver"

webdriver = pytest.importorskip(
    "selenium.webdriver", reason="selenium is not installed (pip install selenium)"
)
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.common.exceptions import WebDriverException  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

if t.TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver


@pytest.fixture
def live_server(tmp_path: Path, migrated_db: Path) -> t.Iterator[str]:
    """Serve a fresh blog (CSRF on, as deployed) on an ephemeral port."""
    # Imported here: tests/test_asgi_browser.py at the project root loads
    # this module where "conftest" is another file, and has its own server.
    from conftest import build_app

    db_path = tmp_path / "e2e.sqlite3"
    shutil.copyfile(migrated_db, db_path)
    app = build_app(db_path, tmp_path, AUTO_UPGRADE=False, TESTING=False, WTF_CSRF_ENABLED=True)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="blog-live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def start_browser(profile: Path) -> WebDriver:
    """A headless Chromium with a throwaway profile (skips without one)."""
    for binary in (CHROMIUM, CHROMEDRIVER):
        if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
            pytest.skip(f"{binary} not found; enable this test with: {HOW_TO_ENABLE}")

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(arg)

    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    return driver


@pytest.fixture
def browser(tmp_path: Path) -> t.Iterator[WebDriver]:
    driver = start_browser(tmp_path / "chromium-profile")
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(tmp_path / "chromium-profile", ignore_errors=True)


def gone(element: t.Any) -> t.Callable[[WebDriver], bool]:
    """Wait condition: ``element`` has left the page. Like Selenium's
    ``staleness_of``, but Chromium may also answer a query about a node
    caught mid-navigation with "does not belong to the document"."""

    def check(_driver: WebDriver) -> bool:
        try:
            element.is_enabled()
        except WebDriverException:  # stale, or detached mid-navigation
            return True
        return False

    return check


def fill_and_submit(driver: WebDriver, form_id: str, **fields: str) -> None:
    """Type into a form's fields by id and submit it, waiting for the next page."""
    form = driver.find_element(By.ID, form_id)
    for name, value in fields.items():
        box = form.find_element(By.ID, name)
        box.clear()
        box.send_keys(value)
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(driver, 15).until(gone(form))


def flashes(driver: WebDriver) -> list[str]:
    return [el.text for el in driver.find_elements(By.CSS_SELECTOR, ".flash")]


def register_and_login(browser: WebDriver, base: str, username: str, password: str) -> None:
    browser.get(base + "/")
    browser.find_element(By.ID, "register-link").click()
    fill_and_submit(
        browser, "register-form", username=username, email=f"{username}@example.org", password=password
    )
    assert browser.current_url == base + "/auth/login"
    assert "Account created. You can log in now." in flashes(browser)

    fill_and_submit(browser, "login-form", username=username, password=password)
    assert browser.current_url == base + "/"
    assert browser.find_element(By.ID, "current-user").text == username


def write_post(browser: WebDriver, title: str, body: str) -> str:
    """Publish a post through the form; return its URL."""
    browser.find_element(By.ID, "new-post").click()
    fill_and_submit(browser, "post-form", title=title, body=body)
    assert "Post published." in flashes(browser)
    assert browser.find_element(By.TAG_NAME, "h1").text == title
    return str(browser.current_url)


def comment_texts(driver: WebDriver) -> list[str]:
    return [el.text for el in driver.find_elements(By.CSS_SELECTOR, "#comments .text")]


def submit_comment(browser: WebDriver, text: str) -> None:
    """Type a comment into the post page's form and send it, not waiting."""
    # A page load drops this mark, so its survival tells the two ways apart.
    browser.execute_script("window.blogTestMark = true;")
    form = browser.find_element(By.ID, "comment-form")
    box = form.find_element(By.ID, "body")
    box.clear()
    box.send_keys(text)
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()


def comment_sent(browser: WebDriver, text: str, timeout: float = 15) -> str:
    """Wait until a submitted comment is on the page. Returns how it went:
    ``"socket"`` when the page sent it over its open WebSocket (no page
    load), ``"form"`` when it POSTed the form."""

    def done(driver: WebDriver) -> bool:
        try:
            if text not in comment_texts(driver):
                return False
            # Over the socket, the form is emptied once the server says saved.
            return bool(driver.execute_script(
                "return !window.blogTestMark || document.getElementById('body').value === '';"
            ))
        except WebDriverException:  # mid-navigation
            return False

    WebDriverWait(browser, timeout, poll_frequency=0.05).until(done)
    if browser.execute_script("return window.blogTestMark === true;"):
        assert "Comment added." not in flashes(browser)
        return "socket"
    assert "Comment added." in flashes(browser)
    return "form"


def write_comment(browser: WebDriver, text: str) -> str:
    """Comment through the post page's form; returns how (``comment_sent``)."""
    submit_comment(browser, text)
    return comment_sent(browser, text)


def socket_state(browser: WebDriver, timeout: float = 15) -> str:
    """Wait for the post page's first socket attempt to end: "open", or
    "closed" where the server has no WebSockets."""
    comments = browser.find_element(By.ID, "comments")
    WebDriverWait(browser, timeout, poll_frequency=0.05).until(
        lambda d: comments.get_attribute("data-live") in ("open", "closed")
    )
    return str(comments.get_attribute("data-live"))


def log_out(browser: WebDriver) -> None:
    logout = browser.find_element(By.ID, "logout")
    logout.click()
    WebDriverWait(browser, 15).until(gone(logout))
    assert "You have been logged out." in flashes(browser)
    assert browser.find_elements(By.ID, "current-user") == []


def test_register_login_post_logout(live_server: str, browser: WebDriver) -> None:
    browser.get(live_server + "/")
    assert "Nothing here yet." in browser.find_element(By.TAG_NAME, "main").text

    register_and_login(browser, live_server, "robin", "hood-1234")
    post_url = write_post(browser, "Notes from <Sherwood>", "Arrows & archery.")
    # Under a WSGI server the page's socket never opens and the form is
    # POSTed; under an ASGI one (tests/test_asgi_browser.py at the project
    # root) the comment goes over the open socket.
    socket = socket_state(browser)
    how = write_comment(browser, "First <i>comment</i> & more")
    assert how == ("socket" if socket == "open" else "form")

    browser.get(live_server + "/")
    article = browser.find_element(By.CSS_SELECTOR, "article.post")
    # The text made it through escaping intact, not as markup.
    assert article.find_element(By.TAG_NAME, "h2").text == "Notes from <Sherwood>"
    assert "Arrows & archery." in article.text
    assert article.find_element(By.CLASS_NAME, "author").text == "robin"

    log_out(browser)
    assert browser.find_element(By.ID, "login-link").is_displayed()
    # The post and its comment stay visible to visitors.
    assert "Notes from <Sherwood>" in browser.find_element(By.TAG_NAME, "main").text
    browser.get(post_url)
    assert "First <i>comment</i> & more" in browser.find_element(By.ID, "comments").text
