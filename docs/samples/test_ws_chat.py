from ws_chat import app


def test_chat() -> None:
    client = app.test_client()
    client.post("/login", data={"username": "ann"})
    with client.websocket("/ws/chat/lobby") as ws:
        assert ws.receive() == "welcome to lobby, ann"
        ws.send("hi")
        assert ws.receive() == "hi"
        ws.send_json({"a": 1})
        assert ws.receive_json() == {"a": 1}
        ws.close()
