"""Falcon reference app: the hello and param scenarios only."""

from __future__ import annotations

import falcon


class Hello:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.content_type = falcon.MEDIA_HTML
        resp.text = "Hello, World!"


class User:
    def on_get(self, req: falcon.Request, resp: falcon.Response, uid: int) -> None:
        resp.media = {"id": uid, "name": f"user{uid}", "active": True}


app = falcon.App()
app.add_route("/", Hello())
app.add_route("/user/{uid:int}", User())
