"""In-process WSGI harness, run inside one benchmark virtualenv by run.py.

It loads the apps named by --targets, then answers JSON commands, one per
line on stdin, with one JSON line on stdout:

    {"cmd": "check", "target": T, "scenario": S}  -> status, headers, body
    {"cmd": "time", "target": T, "scenario": S, "duration": D} -> n, elapsed
    {"cmd": "quit"}

Each timed request calls app(environ, start_response) directly with a fresh
copy of a prebuilt environ (and a fresh wsgi.input), consumes the body and
closes the iterator, so what is measured is the framework, not a server.
Only the standard library is used here: the "others" venv has no Werkzeug.
"""

from __future__ import annotations

import base64
import gc
import io
import json
import os
import sys
import time
import traceback
import typing as t

APPS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "apps")

JSON_BODY = json.dumps(
    {"name": "widget", "tags": ["a", "b", "c"], "price": 9.5, "stock": {"shop": 3, "web": 12}}
).encode()
FORM_BODY = b"name=Alice+Smith&email=alice%40example.org&age=31&comment=hello+there"

# scenario -> (method, path, query string, body, content type)
SCENARIOS: dict[str, tuple[str, str, str, bytes, str | None]] = {
    "hello": ("GET", "/", "", b"", None),
    "param": ("GET", "/user/42", "", b"", None),
    "template": ("GET", "/rows", "", b"", None),
    "json_in": ("POST", "/echo-json", "", JSON_BODY, "application/json"),
    "form_in": ("POST", "/form", "", FORM_BODY, "application/x-www-form-urlencoded"),
    "session": ("GET", "/session", "", b"", None),
    "blueprint": ("GET", "/shop/items/teapot", "", b"", None),
    "404": ("GET", "/no/such/page", "", b"", None),
}

# target -> (module in apps/, distribution whose version is reported, scenarios)
TARGETS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "flask": ("flask_app", "flask", tuple(SCENARIOS)),
    "bottle": ("bottle_app", "bottle", ("hello", "param")),
    "falcon": ("falcon_app", "falcon", ("hello", "param")),
    "raw": ("raw_app", "", ("hello", "param")),
}


def make_environ(scenario: str, cookie: str | None = None) -> tuple[dict[str, t.Any], bytes]:
    """The prebuilt environ of a scenario (without wsgi.input) and its body."""
    method, path, query, body, ctype = SCENARIOS[scenario]
    environ: dict[str, t.Any] = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "REMOTE_PORT": "54321",
        "HTTP_HOST": "localhost",
        "HTTP_USER_AGENT": "bench-harness/1.0",
        "HTTP_ACCEPT": "*/*",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    if body:
        environ["CONTENT_LENGTH"] = str(len(body))
    if ctype:
        environ["CONTENT_TYPE"] = ctype
    if cookie:
        environ["HTTP_COOKIE"] = cookie
    return environ, body


class Captured:
    """start_response that remembers what it was given."""

    def __init__(self) -> None:
        self.status = ""
        self.headers: list[tuple[str, str]] = []

    def __call__(self, status: str, headers: list[tuple[str, str]], exc_info: t.Any = None) -> t.Callable[[bytes], None]:
        self.status = status
        self.headers = list(headers)
        return self._write

    def _write(self, data: bytes) -> None:
        pass


def call_once(app: t.Any, environ: dict[str, t.Any], body: bytes) -> tuple[str, list[tuple[str, str]], bytes]:
    env = environ.copy()
    env["wsgi.input"] = io.BytesIO(body)
    sr = Captured()
    it = app(env, sr)
    try:
        data = b"".join(it)
    finally:
        close = getattr(it, "close", None)
        if close is not None:
            close()
    return sr.status, sr.headers, data


def _start_response(status: str, headers: list[tuple[str, str]], exc_info: t.Any = None) -> t.Callable[[bytes], None]:
    return _discard


def _discard(data: bytes) -> None:
    pass


def time_loop(app: t.Any, environ: dict[str, t.Any], body: bytes, duration: float) -> tuple[int, float]:
    """Call the app back to back for about `duration` seconds."""
    new_input = io.BytesIO
    sr = _start_response
    clock = time.perf_counter
    batch = 25
    n = 0
    gc.collect()
    start = clock()
    deadline = start + duration
    while True:
        for _ in range(batch):
            env = environ.copy()
            env["wsgi.input"] = new_input(body)
            it = app(env, sr)
            for _chunk in it:
                pass
            close = getattr(it, "close", None)
            if close is not None:
                close()
        n += batch
        now = clock()
        if now >= deadline:
            return n, now - start


def session_cookie(app: t.Any) -> str:
    """Make a valid session cookie with the app itself, once, at setup."""
    environ, body = make_environ("session")
    status, headers, _ = call_once(app, environ, body)
    for name, value in headers:
        if name.lower() == "set-cookie" and value.startswith("session="):
            return value.split(";", 1)[0]
    raise RuntimeError(f"GET /session set no session cookie (status {status!r})")


def dist_version(dist: str) -> str:
    if not dist:
        return ""
    from importlib import metadata

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "?"


class Target:
    def __init__(self, name: str) -> None:
        module_name, dist, scenarios = TARGETS[name]
        self.name = name
        self.scenarios = scenarios
        self.version = dist_version(dist)
        module = __import__(module_name)
        self.app = module.app
        self.location = ""
        if dist:
            self.location = os.path.dirname(sys.modules[dist].__file__ or "")
        self.requests: dict[str, tuple[dict[str, t.Any], bytes]] = {}
        self.errors: dict[str, str] = {}
        for scenario in scenarios:
            try:
                cookie = session_cookie(self.app) if scenario == "session" else None
                self.requests[scenario] = make_environ(scenario, cookie)
            except Exception:
                self.errors[scenario] = traceback.format_exc(limit=4)


def shortcut_status() -> dict[str, t.Any] | None:
    """Which of our shortcuts are on in this process (flask._accel.status(),
    the documented seam), so run.py can tell that "ours" runs with them and
    "ours, shortcuts off" without; None for a flask without the gate."""
    try:
        from flask import _accel
    except ImportError:
        return None
    return {
        "all": [s.name for s in _accel.SHORTCUTS],
        "bridges": [s.name for s in _accel.SHORTCUTS if s.bridge],
        "off": {k: v for k, v in _accel.status().items() if v is not None},
    }


def main() -> None:
    names = sys.argv[sys.argv.index("--targets") + 1].split(",")
    # The protocol owns the real stdout; anything an app prints goes to stderr.
    proto = sys.stdout
    sys.stdout = sys.stderr
    sys.path.insert(0, APPS_DIR)

    def reply(obj: dict[str, t.Any]) -> None:
        proto.write(json.dumps(obj) + "\n")
        proto.flush()

    targets: dict[str, Target] = {}
    load_errors: dict[str, str] = {}
    for name in names:
        try:
            targets[name] = Target(name)
        except Exception:
            load_errors[name] = traceback.format_exc(limit=6)
    reply(
        {
            "ready": True,
            "python": sys.version.split()[0],
            "targets": {
                n: {"version": tg.version, "location": tg.location, "setup_errors": tg.errors,
                    **({"shortcuts": shortcut_status()} if n == "flask" else {})}
                for n, tg in targets.items()
            },
            "load_errors": load_errors,
        }
    )
    for line in sys.stdin:
        cmd = json.loads(line)
        if cmd["cmd"] == "quit":
            break
        name, scenario = cmd["target"], cmd["scenario"]
        target = targets.get(name)
        if target is None:
            reply({"error": load_errors.get(name, f"unknown target {name}")})
            continue
        if scenario in target.errors:
            reply({"error": target.errors[scenario]})
            continue
        if scenario not in target.requests:
            reply({"error": f"{name} has no scenario {scenario}"})
            continue
        environ, body = target.requests[scenario]
        try:
            if cmd["cmd"] == "check":
                status, headers, data = call_once(target.app, environ, body)
                reply({"status": status, "headers": headers, "body": base64.b64encode(data).decode()})
            else:
                n, elapsed = time_loop(target.app, environ, body, float(cmd["duration"]))
                reply({"n": n, "elapsed": elapsed})
        except Exception:
            reply({"error": traceback.format_exc(limit=6)})


if __name__ == "__main__":
    main()
