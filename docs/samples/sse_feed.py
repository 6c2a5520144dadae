"""A live feed over Server-Sent Events that resumes after a reconnect."""

import asyncio

import flask

app = flask.Flask(__name__)
posts: list[str] = []  # a real app reads its database
new_post = asyncio.Condition()


@app.post("/posts")
async def add_post():
    async with new_post:
        posts.append(flask.request.form["text"])
        new_post.notify_all()
    return {"id": len(posts)}, 201


@app.get("/feed")
async def feed():
    # The id of the last post this client saw, sent by EventSource when it
    # reconnects: start after it, so nothing is missed or repeated.
    start = int(flask.request.last_event_id or 0)

    async def events():
        seen = start
        while True:
            async with new_post:
                while len(posts) <= seen:
                    await new_post.wait()
            for number in range(seen + 1, len(posts) + 1):
                yield flask.ServerSentEvent({"text": posts[number - 1]}, event="post", id=number)
            seen = len(posts)

    return flask.EventStream(events(), interval=15)
