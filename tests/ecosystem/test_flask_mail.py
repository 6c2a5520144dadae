"""Flask-Mail running unmodified on our Flask.

``Mail(app)``, ``Message`` and ``mail.send`` from a view, with
``mail.record_messages()`` as the docs recommend for tests, and ``TESTING``
suppressing delivery; with ``TESTING`` off the message reaches an SMTP server
(a small sink on the loopback interface).
"""

from __future__ import annotations

import socket
import socketserver
import threading
import typing as t
from email import message_from_bytes
from email.message import Message as EmailMessage

import pytest
from flask_mail import email_dispatched
from flask_mail import Mail
from flask_mail import Message

from flask import Flask
from flask import render_template_string
from flask import request


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def create_app(mail: Mail, **config: t.Any) -> Flask:
    app = Flask(__name__)
    app.config.update(
        MAIL_SERVER="127.0.0.1",
        # Nothing listens here: an attempted delivery would fail loudly.
        MAIL_PORT=closed_port(),
        MAIL_DEFAULT_SENDER=("Shop", "noreply@shop.example"),
        TESTING=True,
    )
    app.config.update(config)
    mail.init_app(app)

    @app.post("/orders")
    def place_order() -> t.Any:
        email = request.form["email"]
        msg = Message(
            subject="Your order",
            recipients=[email],
            body=f"Thanks for ordering {request.form['item']}.",
            html=render_template_string(
                "<p>Thanks for ordering <b>{{ item }}</b>.</p>", item=request.form["item"]
            ),
        )
        msg.attach("receipt.txt", "text/plain", b"1 x " + request.form["item"].encode())
        mail.send(msg)
        return {"status": "queued"}, 201

    @app.post("/newsletter")
    def newsletter() -> t.Any:
        with mail.connect() as conn:
            for addr in request.form.getlist("to"):
                conn.send(Message("News", recipients=[addr], body="Hi!"))
        return {"sent": len(request.form.getlist("to"))}

    return app


def test_mail_registered_and_testing_suppresses() -> None:
    mail = Mail()
    app = create_app(mail)
    state = app.extensions["mail"]
    assert state.suppress is True
    assert state.default_sender == ("Shop", "noreply@shop.example")

    mail_not_testing = Mail()
    app2 = create_app(mail_not_testing, TESTING=False)
    assert app2.extensions["mail"].suppress is False


def test_send_from_view_is_recorded() -> None:
    mail = Mail()
    app = create_app(mail)
    client = app.test_client()
    with mail.record_messages() as outbox:
        rv = client.post("/orders", data={"email": "ann@example.org", "item": "tea"})
        assert rv.status_code == 201

    assert len(outbox) == 1
    msg = outbox[0]
    assert msg.subject == "Your order"
    assert msg.recipients == ["ann@example.org"]
    assert msg.sender == "Shop <noreply@shop.example>"
    assert msg.body == "Thanks for ordering tea."
    assert msg.html == "<p>Thanks for ordering <b>tea</b>.</p>"
    assert [a.filename for a in msg.attachments] == ["receipt.txt"]

    with app.app_context():
        parsed = message_from_bytes(msg.as_bytes())
    assert parsed["To"] == "ann@example.org"
    assert parsed["From"].endswith("<noreply@shop.example>")
    assert parsed.is_multipart()


def test_connection_sends_many() -> None:
    mail = Mail()
    app = create_app(mail)
    with mail.record_messages() as outbox:
        rv = app.test_client().post("/newsletter", data={"to": ["a@x.org", "b@x.org"]})
    assert rv.get_json() == {"sent": 2}
    assert [m.recipients for m in outbox] == [["a@x.org"], ["b@x.org"]]


def test_signal_sender_is_app() -> None:
    mail = Mail()
    app = create_app(mail)
    seen: list[t.Any] = []

    def on_dispatch(sender: Flask, message: Message) -> None:
        seen.append((sender, message.subject))

    with email_dispatched.connected_to(on_dispatch, app):
        with app.app_context():
            mail.send_message("Direct", recipients=["c@x.org"], body="b")
    assert seen == [(app, "Direct")]


def test_send_needs_app_context() -> None:
    mail = Mail()
    create_app(mail)
    with pytest.raises(RuntimeError, match="application context"):
        mail.send(Message("x", recipients=["a@b.c"], body="b", sender="me@b.c"))


def test_mail_bound_to_app_at_construction() -> None:
    app = Flask(__name__)
    app.config["TESTING"] = True
    app.config["MAIL_DEFAULT_SENDER"] = "root@localhost"
    mail = Mail(app)
    assert mail.app is app
    with app.app_context(), mail.record_messages() as outbox:
        mail.send(Message("Hello", recipients=["x@y.z"], body="text"))
    assert outbox[0].sender == "root@localhost"


class _SMTPSink(socketserver.StreamRequestHandler):
    """Just enough SMTP to accept a message and keep it."""

    def handle(self) -> None:
        self.wfile.write(b"220 sink ready\r\n")
        data: list[bytes] = []
        in_data = False
        while True:
            line = self.rfile.readline()
            if not line:
                return
            if in_data:
                if line == b".\r\n":
                    in_data = False
                    self.server.received.append(b"".join(data))  # type: ignore[attr-defined]
                    data = []
                    self.wfile.write(b"250 queued\r\n")
                else:
                    data.append(line[1:] if line.startswith(b"..") else line)
                continue
            cmd = line[:4].upper()
            if cmd in (b"EHLO", b"HELO"):
                self.wfile.write(b"250 sink\r\n")
            elif cmd == b"DATA":
                in_data = True
                self.wfile.write(b"354 go ahead\r\n")
            elif cmd == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


@pytest.fixture
def smtp_sink() -> t.Iterator[tuple[int, list[bytes]]]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SMTPSink)
    server.daemon_threads = True
    server.received = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server.server_address[1], server.received  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_not_testing_delivers(smtp_sink: tuple[int, list[bytes]]) -> None:
    port, received = smtp_sink
    mail = Mail()
    app = create_app(mail, TESTING=False, MAIL_PORT=port)
    with mail.record_messages() as outbox:
        rv = app.test_client().post("/orders", data={"email": "d@x.org", "item": "cake"})
    assert rv.status_code == 201
    assert len(outbox) == 1
    assert len(received) == 1
    delivered: EmailMessage = message_from_bytes(received[0])
    assert delivered["Subject"] == "Your order"
    assert delivered["To"] == "d@x.org"


def test_not_testing_without_server_fails() -> None:
    mail = Mail()
    app = create_app(mail, TESTING=False)
    with app.app_context(), pytest.raises(OSError):
        mail.send(Message("x", recipients=["a@b.c"], body="b"))
