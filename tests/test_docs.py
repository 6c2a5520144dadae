"""The documentation site: samples run, and the built pages say what they must.

`make test` runs `make docs` first; the page checks read `docs/_build/html`.
"""

from __future__ import annotations

import ast
import html
import html.parser
import inspect
import os
import re
import runpy
import subprocess
import sys
import typing as t
from pathlib import Path
from urllib.parse import unquote
from urllib.parse import urlsplit

import pytest

import flask

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
SAMPLES = DOCS / "samples"
BUILD = DOCS / "_build" / "html"


@pytest.fixture
def samples_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(SAMPLES))
    for name in ("hello", "test_hello", "asgi_hello", "asgi_middleware", "ws_chat",
                 "test_ws_chat", "ws_echo_sync", "sse_feed", "test_sse_feed"):
        sys.modules.pop(name, None)


def test_quickstart_samples_pass_their_own_test(samples_on_path: None) -> None:
    namespace = runpy.run_path(str(SAMPLES / "test_hello.py"))
    namespace["test_hello"]()


def test_websocket_chat_sample_passes_its_own_test(samples_on_path: None) -> None:
    namespace = runpy.run_path(str(SAMPLES / "test_ws_chat.py"))
    namespace["test_chat"]()


def test_event_stream_sample_passes_its_own_test(samples_on_path: None) -> None:
    namespace = runpy.run_path(str(SAMPLES / "test_sse_feed.py"))
    namespace["test_feed_resumes_from_last_event_id"]()


def test_flask_sock_port_sample_echoes(samples_on_path: None) -> None:
    from ws_echo_sync import app

    with app.test_client().websocket("/echo") as ws:
        ws.send("ping")
        assert ws.receive() == "ping"
        ws.send(b"\x00bytes")
        assert ws.receive() == b"\x00bytes"


def test_asgi_samples_serve_with_lifespan_and_middleware(samples_on_path: None) -> None:
    """The ASGI page's samples, driven as a server drives them: lifespan
    startup, two requests through the middleware, shutdown."""
    import asyncio

    from asgi_middleware import app

    async def lifespan(event: str) -> dict[str, t.Any]:
        sent: list[dict[str, t.Any]] = []
        messages = [{"type": f"lifespan.{event}"}]

        answered = asyncio.Event()

        async def receive() -> dict[str, t.Any]:
            if messages:
                return messages.pop()
            await asyncio.Event().wait()  # the server's next message never comes
            raise AssertionError("unreachable")

        async def send(message: dict[str, t.Any]) -> None:
            sent.append(message)
            answered.set()

        task = asyncio.ensure_future(app.asgi_app({"type": "lifespan"}, receive, send))
        await asyncio.wait_for(answered.wait(), timeout=30)  # only bounds a hang
        task.cancel()
        return sent[0]

    async def get(path: str) -> tuple[int, dict[bytes, bytes], bytes]:
        sent: list[dict[str, t.Any]] = []
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
                 "method": "GET", "scheme": "http", "path": path, "raw_path": path.encode(),
                 "query_string": b"", "root_path": "", "headers": [(b"host", b"test")],
                 "client": ("127.0.0.1", 1), "server": ("test", 80)}
        done = asyncio.Event()

        async def receive() -> dict[str, t.Any]:
            if not sent:
                return {"type": "http.request", "body": b"", "more_body": False}
            await done.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, t.Any]) -> None:
            sent.append(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                done.set()

        await app.asgi_app(scope, receive, send)
        start = sent[0]
        body = b"".join(m.get("body", b"") for m in sent[1:])
        return start["status"], dict(start["headers"]), body

    async def serve() -> None:
        assert (await lifespan("startup"))["type"] == "lifespan.startup.complete"
        pool = app.extensions["pool"]
        assert pool.open
        status, headers, body = await get("/")
        assert (status, headers[b"x-served-by"], body) == (200, b"asgi", b"Hello over ASGI")
        status, headers, body = await get("/sync")
        assert (status, body) == (200, b"Hello from the pool")
        assert (await lifespan("shutdown"))["type"] == "lifespan.shutdown.complete"
        assert not pool.open

    asyncio.run(serve())


def test_which_sample_names_this_implementation() -> None:
    out = subprocess.run(
        [sys.executable, str(SAMPLES / "which.py")], capture_output=True, text=True, check=True
    ).stdout
    assert re.fullmatch(r"Flask \d+(\.\d+)+ \(nimble\)\n", out), out


def test_every_sample_is_included_by_a_page() -> None:
    pages = "".join(p.read_text() for p in DOCS.glob("*.md")) + "".join(
        p.read_text() for p in DOCS.glob("*.rst")
    )
    for sample in SAMPLES.glob("*.py"):
        assert f"samples/{sample.name}" in pages, f"{sample.name} is on no page"


# -- the built site ---------------------------------------------------------


@pytest.fixture(scope="module")
def site() -> Path:
    if not (BUILD / "index.html").is_file():
        pytest.skip("the docs are not built; run `make docs` (make test does)")
    return BUILD


class _Page(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.links: list[str] = []
        self.images: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(t.cast(str, a["id"]))
        if tag == "a" and a.get("href"):
            self.links.append(t.cast(str, a["href"]))
        if tag in ("img", "object") and (a.get("src") or a.get("data")):
            self.images.append(t.cast(str, a.get("src") or a.get("data")))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def words(text: str) -> str:
    # Sphinx renders straight quotes and dashes typographically.
    for fancy, plain in (("\u2019", "'"), ("\u2018", "'"), ("\u201c", '"'), ("\u201d", '"'),
                         ("\u2013", "--"), ("\u2014", "---")):
        text = text.replace(fancy, plain)
    return " ".join(re.sub(r"[`*]", "", text).split())


def test_every_public_name_is_on_the_api_page_with_its_docstring(site: Path) -> None:
    page = parse(site / "api.html")
    # Compare letters and digits only: Sphinx adds "()" to function
    # references, drops roles and renders quotes typographically.
    text = re.sub(r"[^a-z0-9]", "", "".join(page.text).lower())
    assert flask.__all__, "flask.__all__ is empty"
    for name in flask.__all__:
        obj = getattr(flask, name)
        anchor = f"module-flask.{name}" if inspect.ismodule(obj) else f"flask.{name}"
        assert anchor in page.ids, f"flask.{name} has no entry on the API page"
        if name in ("request", "session", "g", "current_app", "websocket") or inspect.ismodule(obj):
            continue  # proxies and modules: described on the page itself
        doc = inspect.getdoc(obj)
        if doc and type(obj).__module__ != "blinker.base":
            # A role shows its target; with "~", only the last component.
            first = re.sub(
                r":[a-z]+:`(~?)([^`]+)`",
                lambda m: m.group(2).rsplit(".", 1)[-1] if m.group(1) else m.group(2),
                doc.split("\n\n")[0],
            )
            first = re.sub(r"[^a-z0-9]", "", first.lower())[:40]
            assert first in text, f"docstring of {name} not rendered"


def test_every_public_callable_has_a_docstring() -> None:
    """What the API page renders: inherited docstrings count, as autodoc
    shows them."""
    missing = []
    for name in flask.__all__:
        obj = getattr(flask, name)
        if name in ("request", "session", "g", "current_app", "websocket") or inspect.ismodule(obj):
            continue
        if not inspect.getdoc(obj) and type(obj).__module__ != "blinker.base":
            missing.append(name)
        if inspect.isclass(obj):
            for attr, value in vars(obj).items():
                if not attr.startswith("_") and callable(value) and not inspect.getdoc(getattr(obj, attr)):
                    missing.append(f"{name}.{attr}")
    assert not missing, missing


def test_switching_page_lists_every_documented_difference(site: Path) -> None:
    changes = (ROOT / "CHANGES.md").read_text()
    section = changes.split("<!-- differences:start", 1)[1].split("<!-- differences:end -->", 1)[0]
    entries = [e for e in re.split(r"\n- ", "\n" + section.split("\n", 1)[1]) if e.strip()]
    assert len(entries) >= 5
    text = words("".join(parse(site / "switching.html").text))
    for entry in entries:
        head = words(entry)[:50]
        assert head in text, f"difference not on the Switching page: {head!r}"


BEYOND = re.compile(r"(?:\.\. |\{)beyond-flask(?:::|\}) *(.+)")


def _beyond_flask_markers() -> list[tuple[str, str]]:
    """(owner, description) of every "Beyond Flask 3.1" marker in the
    sources, read without the docs extension: the owner is the function or
    class whose docstring holds it, the attribute a ``#:`` comment
    documents, or "" on a page."""
    found: list[tuple[str, str]] = []
    for path in sorted((ROOT / "src" / "flask").rglob("*.py")):
        source = path.read_text()
        lines = source.splitlines()
        owners: dict[int, str] = {}
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                first = node.body[0]
                if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                    for line in range(first.lineno, t.cast(int, first.end_lineno) + 1):
                        owners[line] = node.name
        for number, line in enumerate(lines, 1):
            match = BEYOND.search(line)
            if not match:
                continue
            owner = owners.get(number)
            if owner is None:
                assert line.lstrip().startswith("#:"), f"{path}:{number}: marker outside a docstring"
                following = next(ln for ln in lines[number:] if not ln.lstrip().startswith("#"))
                owner = re.match(r"\s*(\w+)\s*[:=]", following).group(1)  # type: ignore[union-attr]
            found.append((owner, match.group(1).strip()))
    for page in sorted([*DOCS.glob("*.rst"), *DOCS.glob("*.md")]):
        for line in page.read_text().splitlines():
            match = BEYOND.search(line)
            if match and "beyond-flask-list" not in line:
                found.append(("", match.group(1).strip()))
    return found


def test_no_version_marker_claims_a_flask_release_for_our_features() -> None:
    """Flask's ``versionadded`` would read as a Pallets release that has
    the feature; ``beyond-flask`` marks what goes beyond Flask 3.1."""
    claim = re.compile(r"version(?:added|changed):: *(?:3\.1\.[1-9]|3\.[2-9]|[4-9]\.)")
    offenders = [f"{path.relative_to(ROOT)}:{n}"
                 for path in [*(ROOT / "src").rglob("*.py"), *DOCS.glob("*.rst"), *DOCS.glob("*.md")]
                 for n, line in enumerate(path.read_text().splitlines(), 1) if claim.search(line)]
    assert not offenders, offenders


def test_pages_speak_of_the_project_not_of_work_items() -> None:
    """A reader has no access to the project's work items: "issue 13"
    says nothing to them. (Another project's issue is cited by its URL.)"""
    pages = [ROOT / "README.md", ROOT / "BENCHMARKS.md", ROOT / "CHANGES.md",
             *(p for p in DOCS.rglob("*") if p.suffix in (".md", ".rst")
               and "_build" not in p.parts)]
    found = [f"{page.relative_to(ROOT)}:{n}: {line.strip()}"
             for page in pages
             for n, line in enumerate(page.read_text().splitlines(), 1)
             if re.search(r"\bissues? #?[0-9]+", line, re.I)]
    assert not found, "\n".join(found)


def test_switching_page_lists_every_feature_beyond_flask(site: Path) -> None:
    markers = _beyond_flask_markers()
    owners = {owner for owner, _ in markers}
    assert {"websocket", "before_serving", "asgi_app", "ASGIApp"} <= owners, owners
    source = (site / "switching.html").read_text(encoding="utf-8")
    listing = re.search(r'<ul class="beyond-flask-list[^"]*">(.*?)</ul>', source, re.S)
    assert listing, "no generated list of features beyond Flask 3.1"
    entries = [words(html.unescape(re.sub(r"<[^>]+>", "", item)))
               for item in re.findall(r"<li>(.*?)</li>", listing.group(1), re.S)]
    for owner, text in markers:
        listed = [e for e in entries if e.endswith(": " + words(text))
                  and (not owner or e.split(": ", 1)[0].endswith("." + owner))]
        assert listed, f"not on the Switching page: {owner or 'page'}: {text!r}"
    # Each marker is shown where it stands, as a note.
    api = parse(site / "api.html")
    assert "".join(api.text).count("Beyond Flask 3.1") >= len(markers)



def test_internal_links_resolve(site: Path) -> None:
    pages = {p: parse(p) for p in site.rglob("*.html")}
    broken = []
    for path, page in pages.items():
        for href in page.links + page.images:
            parts = urlsplit(href)
            if parts.scheme or parts.netloc or href.startswith(("mailto:", "javascript:")):
                continue
            target = (path.parent / unquote(parts.path)).resolve() if parts.path else path
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                broken.append(f"{path.relative_to(site)} -> {href}")
                continue
            if parts.fragment and target.suffix == ".html":
                ids = pages[target].ids if target in pages else parse(target).ids
                if unquote(parts.fragment) not in ids:
                    broken.append(f"{path.relative_to(site)} -> {href} (no such anchor)")
    assert not broken, "\n".join(broken)


def test_performance_page_shows_the_bench_charts(site: Path) -> None:
    images = parse(site / "performance.html").images
    for chart in ("throughput.svg", "startup.svg"):
        assert any(src.endswith(chart) for src in images), chart
    results = DOCS / "_static" / "bench" / "results.json"
    assert results.is_file(), "make bench writes the charts' data beside them"


CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


def test_site_renders_in_headless_chromium(site: Path, tmp_path: Path) -> None:
    """Screenshots of the index, a guide and the API page, for a person to
    look at (docs/_build/screenshots/); each page must render its title."""
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    for binary in (CHROMIUM, CHROMEDRIVER):
        if not os.access(binary, os.X_OK):
            pytest.skip(f"{binary} not found; apt-get install chromium chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run", "--window-size=1280,900",
                f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(arg)
    shots = site.parent / "screenshots"
    shots.mkdir(exist_ok=True)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    try:
        for page, title in (("index", "Flask (Nimble)"), ("switching", "Switching"),
                            ("api", "API reference")):
            driver.get((site / f"{page}.html").as_uri())
            assert title in driver.title, driver.title
            png = shots / f"{page}.png"
            driver.save_screenshot(str(png))
            assert png.stat().st_size > 10_000, f"{page} rendered an empty screen"
    finally:
        driver.quit()


# Core methods that the API page once left out (inherited from the shared
# scaffold), named here so that a change to the autodoc options cannot drop
# them unnoticed.
CORE_METHODS = ("route", "websocket", "before_request", "errorhandler",
                "register_blueprint", "teardown_request")


@pytest.mark.parametrize("cls", [flask.Flask, flask.Blueprint], ids=lambda c: c.__name__)
def test_api_page_documents_every_public_method_of_flask_and_blueprint(
    site: Path, cls: type
) -> None:
    """Inherited methods included: each has its entry and its docstring."""
    page = parse(site / "api.html")
    text = re.sub(r"[^a-z0-9]", "", "".join(page.text).lower())
    public = {name for name in dir(cls) if not name.startswith("_")
              and inspect.isroutine(getattr(cls, name))}
    assert set(CORE_METHODS) <= public
    missing = sorted(name for name in public if f"flask.{cls.__name__}.{name}" not in page.ids)
    assert not missing, f"{cls.__name__} methods not on the API page: {missing}"
    for name in CORE_METHODS:
        doc = inspect.getdoc(getattr(cls, name))
        assert doc, f"{cls.__name__}.{name} has no docstring"
        first = re.sub(r":[a-z]+:`~?([^`]+)`", r"\1", doc.split("\n\n")[0])
        first = re.sub(r"[^a-z0-9]", "", first.lower())[:40]
        assert first in text, f"docstring of {cls.__name__}.{name} not rendered"
