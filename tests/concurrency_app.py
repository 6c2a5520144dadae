"""The app tests/test_concurrency.py serves to many clients at once.

Every route makes all ``PARTIES`` requests wait for one another at a
barrier in the middle of their work, so that they are all in flight at
the same moment, and reports what the request, session and ``g`` hold
before and after. Served by Werkzeug's threaded server in-process, and by
``gunicorn -k gevent concurrency_app:app`` (greenlets) in a subprocess.
"""

from __future__ import annotations

import json
import os
import threading
import typing as t

import flask

PARTIES = int(os.environ.get("CONCURRENCY_PARTIES", "64"))
SECRET = "concurrency test key"


def create_app() -> flask.Flask:
    app = flask.Flask(__name__)
    app.secret_key = SECRET
    # A timeout, so that a hang becomes a failed request, not a stuck test.
    barriers = {
        name: threading.Barrier(PARTIES, timeout=60)
        for name in ("view", "copy", "stream")
    }

    def seen() -> dict[str, t.Any]:
        request = flask.request
        return {
            "arg": request.args.get("t"),
            "header": request.headers.get("X-Token"),
            "view_arg": (request.view_args or {}).get("token"),
            "g": flask.g.get("token"),
            "session": flask.session.get("t"),
        }

    @app.before_request
    def remember() -> None:
        flask.g.token = flask.request.args.get("t")

    @app.route("/view/<token>")
    def view(token: str) -> dict[str, t.Any]:
        flask.session["n"] = token  # the cookie sent back must carry this one
        before = seen()
        barriers["view"].wait()
        return {"before": before, "after": seen()}

    @app.route("/copy/<token>")
    def copy(token: str) -> dict[str, t.Any]:
        results: dict[str, t.Any] = {}

        @flask.copy_current_request_context
        def work() -> None:
            # ``threading`` is gevent's under ``gunicorn -k gevent``: then
            # this is a greenlet. As in Flask 3.1, the copied request
            # context brings the request and session but pushes an app
            # context of its own, so ``g`` starts empty here.
            assert flask.g.get("token") is None
            flask.g.token = flask.request.args.get("t")
            barriers["copy"].wait()
            results.update(seen())

        worker = threading.Thread(target=work)
        worker.start()
        worker.join(90)
        return {"before": seen(), "after": results}

    @app.route("/stream/<token>")
    def stream(token: str) -> flask.Response:
        before = seen()

        def generate() -> t.Iterator[str]:
            yield '{"before": ' + json.dumps(before)
            # The view has returned; only stream_with_context keeps the
            # request's contexts for the rest of the body.
            barriers["stream"].wait()
            yield ', "after": ' + json.dumps(seen()) + "}"

        return flask.Response(
            flask.stream_with_context(generate()), mimetype="application/json"
        )

    return app


app = create_app()
