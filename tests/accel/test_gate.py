"""The shortcut gate (flask._accel): each shortcut switches itself off,
with one warning, when a dependency moved what it relies on or is outside
its verified versions, and the public path then gives the right answer.

Each case runs in a fresh interpreter: a shortcut decides once, on first
use, and the "changed dependency" is made there before flask is imported
(a dependency module with one private name removed, or a distribution
whose metadata says another version). The answers are compared with
Werkzeug's and Jinja's own.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import jinja2
import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request as WerkzeugRequest
from werkzeug.wrappers import Response as WerkzeugResponse

from flask import _accel

SRC = str(Path(__file__).resolve().parents[2] / "src")

# The app each case serves: a routed, templated, form-reading, cookie-
# setting request, so every request-path shortcut is asked.
APP = """
import json, logging, sys
import flask
from werkzeug.test import EnvironBuilder

app = flask.Flask("probe")
app.secret_key = "k"

@app.post("/u/<int:n>")
def u(n):
    flask.session["n"] = n
    page = flask.render_template_string(
        "{% for x in xs %}<i>{{ x }}</i>{% endfor %}{{ url }}",
        xs=["<a>", n, flask.request.form["f"]], url=flask.url_for("u", n=n + 1),
    )
    return page

environ = EnvironBuilder(
    path="/u/7", method="POST", data={"f": "é&"}, headers={"Cookie": "a=b"}
).get_environ()
seen = []
body = b"".join(app(environ, lambda s, h, e=None: seen.append((s, h))))
from flask import _accel
print(json.dumps({
    "status": seen[0][0],
    "headers": [list(p) for p in seen[0][1] if p[0] != "Set-Cookie"],
    "body": body.decode(),
    "off": {k: v for k, v in _accel.status().items() if v is not None},
}))
"""


def run(prelude: str = "", env: dict[str, str] | None = None, path: str = "") -> tuple[dict, str]:
    code = textwrap.dedent(prelude) + APP
    environ = {**os.environ, **(env or {})}
    environ.pop("FLASK_NO_SHORTCUTS", None) if env is None else None
    # A PYTHONPATH already set (make mutate's mutated copy) goes before SRC.
    environ["PYTHONPATH"] = os.pathsep.join(p for p in (path, os.environ.get("PYTHONPATH"), SRC) if p)
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=environ, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1]), done.stderr


def expected_answer() -> dict:
    """What Werkzeug and Jinja give for the probe app's view."""
    page = jinja2.Environment(autoescape=True).from_string(
        "{% for x in xs %}<i>{{ x }}</i>{% endfor %}{{ url }}"
    ).render(xs=["<a>", 7, "é&"], url="/u/8")
    response = WerkzeugResponse(page, mimetype="text/html")
    environ = EnvironBuilder(path="/u/7", method="POST").get_environ()
    headers = [list(p) for p in response.get_wsgi_headers(environ).to_wsgi_list()]
    headers.append(["Vary", "Cookie"])  # the view used the session (Flask's rule)
    return {"status": response.status, "headers": headers, "body": page}


def answer_of(result: dict) -> dict:
    return {k: result[k] for k in ("status", "headers", "body")}


def warnings_in(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "shortcut is off" in line or "shortcuts are off" in line]


def names_in(line: str) -> list[str]:
    """The shortcuts a warning line names (before its reason)."""
    return re.findall(r"'([\w-]+)'", line.partition(" (")[0])


def test_every_shortcut_is_on_with_the_dependencies_under_test() -> None:
    result, stderr = run()
    assert answer_of(result) == expected_answer()
    # Each shortcut that is off says so, once, and why; on the newest
    # releases (make test, the latest session) none is off.
    named = [name for line in warnings_in(stderr) for name in names_in(line)]
    assert sorted(named) == sorted(result["off"])
    for name, reason in result["off"].items():
        assert any(name in names_in(line) and f" off ({reason})" in line for line in warnings_in(stderr))
    if os.environ.get("FLASK_DEPS", "latest") == "latest":
        assert result["off"] == {}


def test_the_switch_turns_every_shortcut_off_silently() -> None:
    result, stderr = run(env={"FLASK_NO_SHORTCUTS": "1"})
    assert answer_of(result) == expected_answer()
    bridges = {s.name for s in _accel.SHORTCUTS if s.bridge}
    assert set(result["off"]) == {s.name for s in _accel.SHORTCUTS} - bridges
    assert warnings_in(stderr) == []


# (a change to a dependency, the shortcut it must switch off, the reason given)
_CHANGES: list[tuple[str, str, str]] = [
    # A Rule.compile that makes its builders some other way.
    ("from werkzeug.routing import Rule\n"
     "stock = Rule.compile\n"
     "Rule.compile = lambda self: stock(self)\n",
     "lazy-url-builder", "Rule.compile no longer calls _compile_builder"),
    # The hook the generator overrides, with another signature.
    ("from jinja2.compiler import CodeGenerator as C\n"
     "hook = C._output_child_pre\n"
     "C._output_child_pre = lambda self, node, frame, finalize, extra=None: "
     "hook(self, node, frame, finalize)\n",
     "joined-template-output", "takes other arguments"),
    # Each self-check, given a Werkzeug or ItsDangerous that differs
    # where the shortcut relies on it, while staying correct itself.
    # A Map whose matcher is wrapped: no longer the class it walks.
    ("import werkzeug.routing.map as m\n"
     "class Wrapped:\n"
     "    def __init__(self, inner): self.__dict__['inner'] = inner\n"
     "    def __getattr__(self, name): return getattr(self.__dict__['inner'], name)\n"
     "stock_init = m.Map.__init__\n"
     "def init(self, *a, **k):\n"
     "    stock_init(self, *a, **k)\n"
     "    self._matcher = Wrapped(self._matcher)\n"
     "m.Map.__init__ = init\n",
     "url-matcher", "Map._matcher is not a StateMachineMatcher"),
    # Rules by endpoint kept in a mapping that is not a dict.
    ("import collections, werkzeug.routing.map as m\n"
     "stock_init = m.Map.__init__\n"
     "def init(self, *a, **k):\n"
     "    stock_init(self, *a, **k)\n"
     "    self._rules_by_endpoint = collections.UserDict(self._rules_by_endpoint)\n"
     "m.Map.__init__ = init\n",
     "url-matcher", "Map._rules_by_endpoint is not a dict"),
    # A matcher that answers otherwise (for the self-check's host only).
    ("import werkzeug.routing.map as m\n"
     "stock = m.MapAdapter.match\n"
     "def match(self, *a, **k):\n"
     "    endpoint, values = stock(self, *a, **k)\n"
     "    return (endpoint, {**values, 'n': -1}) if self.server_name == 'x' else (endpoint, values)\n"
     "m.MapAdapter.match = match\n",
     "url-matcher", "FastMatcher gave"),
    # Repeated slashes merged otherwise than FastMatcher merges them.
    ("from werkzeug.routing.matcher import StateMachineMatcher as M\n"
     "from werkzeug.exceptions import NotFound\n"
     "stock = M.match\n"
     "def match(self, domain, path, *a, **k):\n"
     "    if path.startswith('/m//'): raise NotFound()\n"
     "    return stock(self, domain, path, *a, **k)\n"
     "M.match = match\n",
     "url-matcher", "merges the slashes of '/m//a///b'"),
    # ItsDangerous reading payloads otherwise than the shortcut does.
    ("from itsdangerous.url_safe import URLSafeSerializerMixin as U\n"
     "stock_load = U.load_payload\n"
     "def load(self, payload, *a, **k):\n"
     "    value = stock_load(self, payload, *a, **k)\n"
     "    return {**value, 'read by': 'another ItsDangerous'} if isinstance(value, dict) else value\n"
     "U.load_payload = load\n",
     "session-signing", "its tokens and ItsDangerous's do not load each other"),
]


@pytest.mark.parametrize(
    ("change", "name", "reason"),
    # A shortcut already off (outside its verified versions, on make
    # test-dev's main branches) cannot show its own check switching it off.
    [pytest.param(*row, marks=pytest.mark.needs_shortcut(row[1])) for row in _CHANGES],
)
def test_a_changed_private_name_switches_its_shortcut_off_with_a_warning(
    change: str, name: str, reason: str
) -> None:
    result, stderr = run(change)
    assert answer_of(result) == expected_answer()
    assert name in result["off"]
    (line,) = [line for line in warnings_in(stderr) if f"'{name}'" in line]
    assert reason in line


@pytest.mark.parametrize("beside", [True, False], ids=["dist-info beside", "metadata"])
def test_a_version_outside_the_verified_range_switches_off(tmp_path: Path, beside: bool) -> None:
    # Werkzeug's own code, installed as "Werkzeug 9.0": the record beside
    # the package is read first; without the package beside it, the
    # version comes from importlib.metadata (the first record on the path).
    import shutil

    import werkzeug

    code, record = (tmp_path, tmp_path) if beside else (tmp_path / "a", tmp_path / "b")
    shutil.copytree(Path(werkzeug.__file__).parent, code / "werkzeug")
    info = record / "werkzeug-9.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: Werkzeug\nVersion: 9.0\n")
    result, stderr = run(path=os.pathsep.join(sorted({str(code), str(record)})))
    assert answer_of(result) == expected_answer()
    werkzeug_only = {
        s.name for s in _accel.SHORTCUTS
        if any(d == "werkzeug" and hi is not None for d, _, hi in s.verified)
    }
    already_off = set(run()[0]["off"])  # say, MarkupSafe 2.1's escape
    assert set(result["off"]) == werkzeug_only | already_off
    # Said once, in one line, for every shortcut verified with Werkzeug.
    (line,) = [line for line in warnings_in(stderr) if "9.0 is installed" in line]
    assert sorted(names_in(line)) == sorted(werkzeug_only)


def test_request_fields_are_werkzeugs_own_when_the_shortcut_is_off() -> None:
    code = """
    import flask
    from werkzeug.test import EnvironBuilder
    request = flask.Request(EnvironBuilder(path="/a", method="PUT").get_environ())
    assert {"method", "path", "headers"} <= set(vars(request)), vars(request)
    assert (request.method, request.path) == ("PUT", "/a")
    """
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
        env={**os.environ, "FLASK_NO_SHORTCUTS": "1", "PYTHONPATH": SRC}, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    stock = WerkzeugRequest(EnvironBuilder(path="/a", method="PUT").get_environ())
    assert (stock.method, stock.path) == ("PUT", "/a")


def test_the_registry_describes_every_shortcut() -> None:
    names = [s.name for s in _accel.SHORTCUTS]
    assert len(names) == len(set(names))
    for shortcut in _accel.SHORTCUTS:
        assert shortcut.speeds_up and shortcut.replaces and shortcut.touches
        assert shortcut.verified
        module, _, func = shortcut.check.partition(":")
        assert callable(getattr(__import__(f"flask._accel.{module}", fromlist=[func]), func))


def test_the_docs_page_is_generated_from_the_registry() -> None:
    script = Path(__file__).resolve().parents[2] / "scripts" / "shortcuts_doc.py"
    done = subprocess.run(
        [sys.executable, str(script), "--check"], capture_output=True, text=True,
        env={**os.environ, "PYTHONPATH": SRC}, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    page = (script.parent.parent / "docs" / "shortcuts.md").read_text()
    for shortcut in _accel.SHORTCUTS:
        assert f"`{shortcut.name}`" in page
