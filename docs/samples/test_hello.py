from hello import app


def test_hello() -> None:
    client = app.test_client()
    assert client.get("/").text == "Hello, World!"
    assert client.get("/greet/Ada").json == {"greeting": "Hello, Ada!"}
    assert client.post("/echo", json=[1, 2]).json == {"received": [1, 2]}
