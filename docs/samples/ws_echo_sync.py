from __future__ import annotations

import typing as t

from flask import Flask

app = Flask(__name__)


# Flask-Sock's ``@sock.route("/echo")`` becomes ``@app.websocket("/echo")``;
# the handler, blocking calls included, stays as it was.
@app.websocket("/echo")
def echo(ws: t.Any) -> None:
    while True:
        data = ws.receive()
        ws.send(data)
