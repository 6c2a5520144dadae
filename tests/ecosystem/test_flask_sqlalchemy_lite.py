"""Flask-SQLAlchemy-Lite running unmodified on our Flask.

It imports ``flask.sansio.app.App`` at module level (so it could not even
be imported here before ``flask.sansio`` existed), keys its per-app state
by the app in a ``WeakKeyDictionary``, creates engines from
``SQLALCHEMY_ENGINES`` (relative SQLite paths go in ``app.instance_path``),
keeps sessions in ``g`` and closes them in ``teardown_appcontext``, and adds
``db`` to ``flask shell`` with a shell context processor.
"""

from __future__ import annotations

import gc
import subprocess
import sys
import typing as t
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_sqlalchemy_lite import SQLAlchemy
from sqlalchemy import orm

from flask import Flask
from flask import abort
from flask import g
from flask import request


class Base(orm.DeclarativeBase):
    pass


class Note(Base):
    __tablename__ = "note"
    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    text: orm.Mapped[str]


def make_app(tmp_path: Path) -> tuple[Flask, SQLAlchemy]:
    app = Flask(__name__, instance_path=str(tmp_path / "instance"))
    app.config.update(
        TESTING=True,
        SQLALCHEMY_ENGINES={"default": "sqlite:///notes.db", "cache": "sqlite://"},
    )
    db = SQLAlchemy(app)

    with app.app_context():
        Base.metadata.create_all(db.engine)

    @app.post("/notes")
    def create() -> t.Any:
        note = Note(text=request.get_json()["text"])
        db.session.add(note)
        db.session.commit()
        return {"id": note.id}, 201

    @app.get("/notes/<int:id>")
    def show(id: int) -> t.Any:
        note = db.session.get(Note, id)
        if note is None:
            abort(404)
        return {"id": note.id, "text": note.text}

    @app.get("/notes")
    def index() -> t.Any:
        notes = db.session.scalars(sa.select(Note).order_by(Note.id))
        return [n.text for n in notes]

    @app.post("/notes/pending")
    def pending() -> t.Any:
        # Added but never committed: closing the session at teardown
        # discards it.
        db.session.add(Note(text=request.get_json()["text"]))
        db.session.flush()
        return {"count": db.session.scalar(sa.select(sa.func.count(Note.id)))}

    return app, db


def test_imports_without_warnings() -> None:
    subprocess.run(
        [sys.executable, "-W", "error", "-c", "import flask_sqlalchemy_lite"],
        check=True,
        capture_output=True,
    )


def test_engines_follow_the_config_and_the_instance_path(tmp_path: Path) -> None:
    app, db = make_app(tmp_path)
    assert app.extensions["sqlalchemy"] is db
    with app.app_context():
        assert set(db.engines) == {"default", "cache"}
        # Relative SQLite paths are put in the instance folder, which the
        # extension creates.
        assert db.engine.url.database == str(tmp_path / "instance" / "notes.db")
        assert db.get_engine("cache").url.database is None
    assert (tmp_path / "instance").is_dir()


def test_views_read_and_write_through_the_session(tmp_path: Path) -> None:
    app, db = make_app(tmp_path)
    client = app.test_client()
    assert client.post("/notes", json={"text": "first"}).get_json() == {"id": 1}
    assert client.post("/notes", json={"text": "second"}).status_code == 201
    assert client.get("/notes/2").get_json() == {"id": 2, "text": "second"}
    assert client.get("/notes/9").status_code == 404
    assert client.get("/notes").get_json() == ["first", "second"]

    # The same rows, read without Flask.
    with sa.create_engine(f"sqlite:///{tmp_path / 'instance' / 'notes.db'}").connect() as c:
        assert c.execute(sa.text("select text from note order by id")).scalars().all() == [
            "first",
            "second",
        ]


def test_sessions_are_closed_when_the_app_context_ends(tmp_path: Path) -> None:
    app, db = make_app(tmp_path)
    client = app.test_client()
    assert client.post("/notes/pending", json={"text": "draft"}).get_json() == {"count": 1}
    assert client.get("/notes").get_json() == []

    with app.app_context():
        session = db.session
        assert db.session is session
        assert g._sqlalchemy_sessions == {"default": session}
        session.add(Note(text="x"))
        assert session.new
    # teardown_appcontext closed it: nothing pending, state gone from g.
    assert not session.new
    with app.app_context():
        assert "_sqlalchemy_sessions" not in g
        assert db.session is not session


def test_app_state_is_per_app_and_released_with_it(tmp_path: Path) -> None:
    app, db = make_app(tmp_path)
    other = Flask(__name__, instance_path=str(tmp_path / "other"))
    with other.app_context(), pytest.raises(RuntimeError, match="not registered"):
        db.engine  # noqa: B018
    assert len(db._app_state) == 1
    del app
    gc.collect()
    assert len(db._app_state) == 0


def test_registering_twice_is_refused(tmp_path: Path) -> None:
    app, db = make_app(tmp_path)
    with pytest.raises(RuntimeError, match="already"):
        SQLAlchemy(app)


def test_shell_context_has_db(tmp_path: Path) -> None:
    app, db = make_app(tmp_path)
    with app.app_context():
        assert app.make_shell_context()["db"] is db
