from __future__ import annotations

from flask import Flask
from flask import request
from flask import session
from flask import websocket

app = Flask(__name__)
app.secret_key = "dev"  # from the environment in a real app


@app.post("/login")
def login() -> str:
    session["user"] = request.form["username"]
    return "ok"


@app.websocket("/ws/chat/<room>")
async def chat(room: str) -> None:
    user = session.get("user")  # read from the handshake's cookie
    await websocket.send(f"welcome to {room}, {user}")
    while True:
        message = await websocket.receive()  # str or bytes
        await websocket.send(message)
