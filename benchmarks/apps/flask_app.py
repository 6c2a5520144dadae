"""The benchmark application: runs unchanged on our Flask and on Pallets Flask.

Besides the eight measured routes it registers 50 other parameterised routes
and a blueprint, so URL matching and building work on a map of realistic size.
"""

from __future__ import annotations

import typing as t

from flask import Blueprint
from flask import Flask
from flask import g
from flask import jsonify
from flask import render_template
from flask import request
from flask import session

app = Flask(__name__)
app.config["SECRET_KEY"] = "benchmark-secret-key-not-for-production"

# Built once so the template scenario measures rendering, not data building.
ROWS: list[dict[str, t.Any]] = [
    {"id": i, "name": f"user{i}", "email": f"user{i}@example.org"} for i in range(1, 21)
]


def _make_filler_view(i: int) -> t.Callable[..., str]:
    # Each filler route gets its own function so endpoints stay distinct.
    def view(**values: t.Any) -> str:
        return f"filler {i} {sorted(values.items())}"

    return view


# Fifty routes that are never requested: they make the URL map realistic.
_FILLER_PATTERNS = (
    "/filler{i}/<int:item_id>",
    "/filler{i}/<name>/edit",
    "/filler{i}/<int:year>/<int:month>/<slug>",
    "/api/v1/filler{i}/<uuid:key>",
    "/filler{i}/files/<path:subpath>",
)
for _i in range(50):
    _pattern = _FILLER_PATTERNS[_i % len(_FILLER_PATTERNS)].format(i=_i)
    app.add_url_rule(
        _pattern,
        endpoint=f"filler_{_i}",
        view_func=_make_filler_view(_i),
        methods=["GET", "POST"] if _i % 3 == 0 else ["GET"],
    )


@app.route("/")
def hello() -> str:
    return "Hello, World!"


@app.route("/user/<int:uid>")
def user(uid: int) -> dict[str, t.Any]:
    return {"id": uid, "name": f"user{uid}", "active": True}


@app.route("/rows")
def rows() -> str:
    return render_template("rows.html", rows=ROWS)


@app.route("/echo-json", methods=["POST"])
def echo_json() -> t.Any:
    data = request.get_json()
    return jsonify(received=data, count=len(data))


@app.route("/form", methods=["POST"])
def form() -> str:
    f = request.form
    return f"name={f['name']} email={f['email']} age={int(f['age'])}"


@app.route("/session")
def session_view() -> str:
    visits = session.get("visits", 0) + 1
    session["visits"] = visits
    return f"visits={visits}"


bp = Blueprint("shop", __name__, url_prefix="/shop")


@bp.before_request
def load_shop() -> None:
    g.shop_name = "Corner Shop"


@bp.route("/items/<name>")
def item(name: str) -> str:
    return f"{g.shop_name}: item {name}"


@bp.route("/items/<int:item_id>/reviews")
def item_reviews(item_id: int) -> str:
    return f"reviews of {item_id}"


@bp.route("/basket")
def basket() -> str:
    return "basket"


app.register_blueprint(bp)
