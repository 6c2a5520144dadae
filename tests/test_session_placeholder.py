"""``Flask.session_interface`` is a placeholder until first used, so that a
request that neither sends a cookie nor touches the session does not import
the session machinery (start-up). ``DefaultSessionInterface.resolved`` is
process-wide, so each case runs in a fresh interpreter: in this one, earlier
tests have long since created the interface.

Found by ``make mutate`` (``pipeline._default_session_pending`` and the
check in ``_session_needs_saving``): each case fails under one of those
mutants.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap


def run(code: str) -> str:
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True, text=True, check=True,
    )
    return out.stdout.strip()


APP = """
import sys
import flask
from flask.sessions import SessionInterface

saved = []


class Recording(SessionInterface):
    def open_session(self, app, request):
        return {}

    def save_session(self, app, session, response):
        saved.append(request_path())


def request_path():
    return flask.request.path


app = flask.Flask("placeholder")


@app.route("/")
def index():
    return "ok"
"""


def test_a_request_that_needs_no_session_imports_no_session_machinery() -> None:
    # The shortcut is taken: a cookie-less request to a view that does not
    # touch the session leaves flask.sessions and ItsDangerous unimported.
    # (The test client imports flask.sessions itself, so the request is a
    # plain WSGI call.)
    out = run(APP.replace("from flask.sessions import SessionInterface", "").replace(
        "class Recording(SessionInterface):", "class Recording:") + """
import io
environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/", "SERVER_NAME": "localhost",
           "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.url_scheme": "http",
           "wsgi.input": io.BytesIO(), "wsgi.errors": sys.stderr, "HTTP_HOST": "localhost"}
body = b"".join(app(environ, lambda status, headers, exc_info=None: None))
assert body == b"ok", body
print("flask.sessions" in sys.modules, "itsdangerous" in sys.modules)
""")
    assert out == "False False"


def test_an_interface_set_on_the_instance_is_asked_to_save() -> None:
    out = run(APP + """
app.session_interface = Recording()
app.test_client().get("/")
print(saved)
""")
    assert out == "['/']"


def test_an_interface_set_on_a_subclass_is_asked_to_save() -> None:
    out = run(APP + """
class App(flask.Flask):
    session_interface = Recording()


sub = App("sub")
sub.add_url_rule("/", view_func=lambda: "ok")
sub.test_client().get("/")
print(saved)
""")
    assert out == "['/']"


def test_the_default_interface_still_saves_a_touched_session() -> None:
    out = run(APP + """
app.secret_key = "k"


@app.route("/set")
def set_value():
    flask.session["a"] = 1
    return "ok"


response = app.test_client().get("/set")
print("session=" in response.headers.get("Set-Cookie", ""))
""")
    assert out == "True"


def test_a_custom_interface_is_asked_to_save_when_other_cookies_are_sent() -> None:
    # Only Flask's cookie session may skip saving when its own cookie is
    # absent; another interface is asked on every request, whatever the
    # request's other cookies.
    out = run(APP + """
app.session_interface = Recording()
app.test_client().get("/", headers={"Cookie": "other=1"})
print(saved)
""")
    assert out == "['/']"
