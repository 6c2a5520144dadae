"""Flask-SQLAlchemy 3.1 running unmodified on our Flask.

The app below is the shape Flask-SQLAlchemy's quickstart shows: a module level
``db``, declarative models, ``db.create_all()`` inside an app context, views
using ``db.session``, ``Model.query``, ``db.get_or_404`` and ``db.paginate``.
"""

from __future__ import annotations

import sqlite3
import typing as t
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from flask import Flask
from flask import abort
from flask import jsonify
from flask import request


def make_app(
    tmp_path: Path, **config: t.Any
) -> tuple[Flask, SQLAlchemy, dict[str, t.Any]]:
    """Build a fresh app, extension and model set (models are per-``db``)."""

    class Base(DeclarativeBase):
        pass

    db = SQLAlchemy(model_class=Base)

    class User(db.Model):  # type: ignore[name-defined]
        id: Mapped[int] = mapped_column(primary_key=True)
        username: Mapped[str] = mapped_column(sa.String(80), unique=True)
        email: Mapped[str] = mapped_column(sa.String(120), default="")

    class AuditEntry(db.Model):  # type: ignore[name-defined]
        __bind_key__ = "audit"
        id: Mapped[int] = mapped_column(primary_key=True)
        action: Mapped[str] = mapped_column(sa.String(200))

    class Metric(db.Model):  # type: ignore[name-defined]
        __bind_key__ = "metrics"
        id: Mapped[int] = mapped_column(primary_key=True)
        value: Mapped[int] = mapped_column(default=0)

    app = Flask(__name__, instance_path=str(tmp_path / "instance"))
    app.config.update(
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'main.db'}",
        SQLALCHEMY_BINDS={
            "audit": f"sqlite:///{tmp_path / 'audit.db'}",
            "metrics": "sqlite://",
        },
        TESTING=True,
    )
    app.config.update(config)
    db.init_app(app)

    @app.post("/users")
    def create_user() -> t.Any:
        data = request.get_json()
        user = User(username=data["username"], email=data.get("email", ""))
        db.session.add(user)
        db.session.add(AuditEntry(action=f"create {data['username']}"))
        db.session.commit()
        return jsonify(id=user.id, username=user.username), 201

    @app.post("/users/uncommitted")
    def add_without_commit() -> t.Any:
        db.session.add(User(username=request.get_json()["username"]))
        db.session.flush()
        return {"pending": len(db.session.query(User).all())}

    @app.get("/users/<int:id>")
    def user_detail(id: int) -> t.Any:
        user = db.get_or_404(User, id, description="No such user")
        return {"id": user.id, "username": user.username}

    @app.get("/users/by-name/<name>")
    def user_by_name(name: str) -> t.Any:
        user = User.query.filter_by(username=name).first_or_404()
        return {"id": user.id, "email": user.email}

    @app.get("/users/one/<name>")
    def one_user(name: str) -> t.Any:
        user = db.one_or_404(db.select(User).filter_by(username=name))
        return {"id": user.id}

    @app.get("/users")
    def user_list() -> t.Any:
        page = db.paginate(db.select(User).order_by(User.id), max_per_page=50)
        return {
            "items": [u.username for u in page.items],
            "page": page.page,
            "per_page": page.per_page,
            "total": page.total,
            "pages": page.pages,
            "has_next": page.has_next,
            "has_prev": page.has_prev,
            "next_num": page.next_num,
            "prev_num": page.prev_num,
        }

    @app.get("/session-id")
    def session_id() -> t.Any:
        return {"id": id(db.session())}

    @app.get("/boom")
    def boom() -> t.Any:
        db.session.add(User(username="ghost"))
        db.session.flush()
        abort(500)

    models = {"User": User, "AuditEntry": AuditEntry, "Metric": Metric}
    return app, db, models


@pytest.fixture
def env(tmp_path: Path) -> t.Iterator[tuple[Flask, SQLAlchemy, dict[str, t.Any]]]:
    app, db, models = make_app(tmp_path)
    with app.app_context():
        db.create_all()
    yield app, db, models
    with app.app_context():
        db.drop_all()
        # Engines are per app; release the sqlite files.
        for engine in db.engines.values():
            engine.dispose()


def sqlite_tables(path: Path) -> set[str]:
    con = sqlite3.connect(path)
    try:
        rows = con.execute("SELECT name FROM sqlite_master WHERE type='table'")
        return {r[0] for r in rows}
    finally:
        con.close()


def test_extension_registered(env: t.Any) -> None:
    app, db, _ = env
    assert app.extensions["sqlalchemy"] is db


def test_create_all_puts_tables_on_their_binds(env: t.Any, tmp_path: Path) -> None:
    app, db, models = env
    assert sqlite_tables(tmp_path / "main.db") == {"user"}
    assert sqlite_tables(tmp_path / "audit.db") == {"audit_entry"}
    with app.app_context():
        assert set(db.engines) == {None, "audit", "metrics"}
        mem_tables = sa.inspect(db.engines["metrics"]).get_table_names()
        assert mem_tables == ["metric"]
        db.session.add(models["Metric"](value=3))
        db.session.commit()
        assert db.session.scalar(sa.select(sa.func.sum(models["Metric"].value))) == 3


def test_create_and_read_through_views(env: t.Any) -> None:
    app, db, models = env
    client = app.test_client()
    rv = client.post("/users", json={"username": "alice", "email": "a@example.org"})
    assert rv.status_code == 201
    uid = rv.get_json()["id"]

    rv = client.get(f"/users/{uid}")
    assert rv.status_code == 200
    assert rv.get_json() == {"id": uid, "username": "alice"}

    rv = client.get("/users/by-name/alice")
    assert rv.get_json() == {"id": uid, "email": "a@example.org"}
    assert client.get("/users/one/alice").get_json() == {"id": uid}

    # The write on the "audit" bind went through the same session.
    with app.app_context():
        entries = db.session.execute(db.select(models["AuditEntry"])).scalars().all()
        assert [e.action for e in entries] == ["create alice"]
        assert models["User"].query.count() == 1


def test_get_or_404_and_friends(env: t.Any) -> None:
    app, _, _ = env
    client = app.test_client()
    rv = client.get("/users/999")
    assert rv.status_code == 404
    assert b"No such user" in rv.data
    assert client.get("/users/by-name/nobody").status_code == 404
    assert client.get("/users/one/nobody").status_code == 404


def test_session_is_removed_at_teardown(env: t.Any) -> None:
    app, db, models = env
    client = app.test_client()
    assert client.post("/users/uncommitted", json={"username": "temp"}).get_json() == {
        "pending": 1
    }
    # Teardown removed (and so rolled back) the request's session.
    with app.app_context():
        assert models["User"].query.count() == 0

    # 500s go through teardown too.
    assert client.get("/boom").status_code == 500
    with app.app_context():
        assert db.session.execute(db.select(models["User"])).first() is None


def test_session_is_scoped_to_app_context(env: t.Any) -> None:
    app, db, _ = env
    with app.app_context():
        first = db.session()
        assert db.session() is first
        with app.app_context():
            assert db.session() is not first
        assert db.session() is first
    with app.test_request_context():
        assert db.session() is not first

    client = app.test_client()
    a = client.get("/session-id").get_json()["id"]
    assert isinstance(a, int)


def test_paginate_reads_request_args(env: t.Any) -> None:
    app, db, models = env
    with app.app_context():
        db.session.add_all(models["User"](username=f"u{i:02}") for i in range(1, 8))
        db.session.commit()

    client = app.test_client()
    data = client.get("/users?page=2&per_page=3").get_json()
    assert data["items"] == ["u04", "u05", "u06"]
    assert data["page"] == 2
    assert data["per_page"] == 3
    assert data["total"] == 7
    assert data["pages"] == 3
    assert data["has_next"] and data["has_prev"]
    assert (data["prev_num"], data["next_num"]) == (1, 3)

    data = client.get("/users?page=3&per_page=3").get_json()
    assert data["items"] == ["u07"]
    assert data["has_next"] is False

    # Defaults: page 1, 20 per page.
    data = client.get("/users").get_json()
    assert data["page"] == 1 and data["per_page"] == 20
    assert len(data["items"]) == 7

    # Out of range pages and bad values abort with 404 (error_out=True).
    assert client.get("/users?page=9&per_page=3").status_code == 404
    assert client.get("/users?page=abc").status_code == 404
    assert client.get("/users?per_page=0").status_code == 404
    # max_per_page caps the request's wish.
    assert client.get("/users?per_page=500").get_json()["per_page"] == 50


def test_paginate_in_test_request_context(env: t.Any) -> None:
    app, db, models = env
    with app.app_context():
        db.session.add_all(models["User"](username=f"p{i}") for i in range(5))
        db.session.commit()
    with app.test_request_context("/?page=2&per_page=2"):
        page = models["User"].query.order_by(models["User"].id).paginate()
        assert [u.username for u in page.items] == ["p2", "p3"]
        assert list(page.iter_pages()) == [1, 2, 3]


def test_relative_sqlite_path_uses_instance_folder(tmp_path: Path) -> None:
    app, db, models = make_app(
        tmp_path,
        SQLALCHEMY_DATABASE_URI="sqlite:///project.db",
        SQLALCHEMY_BINDS={},
    )
    with app.app_context():
        db.create_all(bind_key=None)
        db.session.add(models["User"](username="x"))
        db.session.commit()
        for engine in db.engines.values():
            engine.dispose()
    assert (tmp_path / "instance" / "project.db").is_file()
    assert Path(app.instance_path) == tmp_path / "instance"


def test_in_memory_database(tmp_path: Path) -> None:
    app, db, models = make_app(
        tmp_path,
        SQLALCHEMY_DATABASE_URI="sqlite://",
        SQLALCHEMY_BINDS={"audit": "sqlite://", "metrics": "sqlite://"},
    )
    with app.app_context():
        db.create_all()
        db.session.add(models["User"](username="mem"))
        db.session.commit()
        assert models["User"].query.one().username == "mem"
        # In-memory sqlite uses a static pool, so data outlives the session.
        db.session.remove()
        assert models["User"].query.count() == 1


def test_shell_context_has_db_and_models(env: t.Any) -> None:
    app, db, models = env
    with app.app_context():
        ctx = app.make_shell_context()
    assert ctx["db"] is db
    assert ctx["User"] is models["User"]
    assert ctx["app"] is app


def test_requires_app_context(env: t.Any) -> None:
    _, db, _ = env
    with pytest.raises(RuntimeError, match="application context"):
        db.session.execute(sa.text("select 1"))
