"""Bottle reference app: the hello and param scenarios only."""

from __future__ import annotations

import typing as t

import bottle

app = bottle.Bottle()


@app.route("/")
def hello() -> str:
    return "Hello, World!"


@app.route("/user/<uid:int>")
def user(uid: int) -> dict[str, t.Any]:
    # Bottle serialises a returned dict to JSON, as Flask does.
    return {"id": uid, "name": f"user{uid}", "active": True}
