"""Tests for flask.signals."""

from __future__ import annotations

import blinker

from flask import signals

NAMES = [
    "template_rendered",
    "before_render_template",
    "request_started",
    "request_finished",
    "request_tearing_down",
    "got_request_exception",
    "appcontext_tearing_down",
    "appcontext_pushed",
    "appcontext_popped",
    "message_flashed",
]


def test_namespace_is_blinkers():
    assert signals.Namespace is blinker.Namespace
    assert isinstance(signals._signals, blinker.Namespace)


def test_all_signals_exist_and_are_distinct():
    found = [getattr(signals, name) for name in NAMES]
    assert all(isinstance(s, blinker.NamedSignal) for s in found)
    assert len({id(s) for s in found}) == len(NAMES)
    # Signal names follow Flask's dashed spelling.
    assert signals.request_started.name == "request-started"
    assert signals._signals["message-flashed"] is signals.message_flashed


def test_no_receivers_by_default_and_send():
    sig = signals.appcontext_pushed
    assert not sig.receivers
    calls = []

    def receiver(sender, **kw):
        calls.append((sender, kw))

    sig.connect(receiver)
    try:
        assert sig.receivers
        sig.send("app", extra=1)
    finally:
        sig.disconnect(receiver)
    assert calls == [("app", {"extra": 1})]
    assert not sig.receivers
