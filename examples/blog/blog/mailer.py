"""Flask-Mail, plus an outbox folder that keeps a copy of every message.

Without a mail server (the default, and in tests) sending is suppressed and
the outbox is where messages can be read: one ``.eml`` file each, written
whole under a temporary name and renamed, so a reader never sees half a
message even when several workers send at once.
"""

from __future__ import annotations

import os
import typing as t
import uuid

from flask import Flask
from flask_mail import Message, email_dispatched

from .extensions import mail


def init_app(app: Flask) -> None:
    mail.init_app(app)
    outbox = app.config.get("MAIL_OUTBOX_DIR")
    if not outbox:
        return

    def keep_copy(sender: Flask, message: Message, **_: t.Any) -> None:
        os.makedirs(outbox, exist_ok=True)
        name = uuid.uuid4().hex
        tmp = os.path.join(outbox, f".{name}.tmp")
        with open(tmp, "wb") as f:
            f.write(message.as_bytes())
        os.replace(tmp, os.path.join(outbox, f"{name}.eml"))

    # Connected per app (weakly held by blinker, so kept on the app).
    app.extensions["blog_outbox"] = keep_copy
    email_dispatched.connect(keep_copy, sender=app)
