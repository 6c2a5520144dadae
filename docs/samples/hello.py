from flask import Flask
from flask import Response
from flask import jsonify
from flask import request

app = Flask(__name__)


@app.route("/")
def hello() -> str:
    return "Hello, World!"


@app.route("/greet/<name>")
def greet(name: str) -> dict[str, str]:
    # A dict is returned as JSON.
    return {"greeting": f"Hello, {name}!"}


@app.post("/echo")
def echo() -> Response:
    return jsonify(received=request.get_json())
