from __future__ import annotations

import os
import sqlite3

import blog.db
from blog import create_app
from blog.db import get_db


def test_same_connection_within_context(app):
    with app.app_context():
        assert get_db() is get_db()


def test_connection_closed_after_context(app):
    with app.app_context():
        db = get_db()
    try:
        db.execute("SELECT 1")
    except sqlite3.ProgrammingError as e:
        assert "closed" in str(e)
    else:
        raise AssertionError("the connection should be closed")


def test_schema_created_on_first_start(tmp_path):
    path = tmp_path / "sub" / "fresh.sqlite3"
    path.parent.mkdir()
    assert not path.exists()
    app = create_app({"DATABASE": os.fspath(path)})
    assert path.exists()
    with app.app_context():
        tables = {
            row[0]
            for row in get_db().execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
    assert {"users", "posts"} <= tables
    # And the app works right away.
    assert app.test_client().get("/").status_code == 200


def test_existing_data_survives_restart(app, db_path):
    again = create_app({"DATABASE": os.fspath(db_path)})
    with again.app_context():
        assert get_db().execute("SELECT COUNT(*) FROM users").fetchone()[0] == 2


def test_defaults_point_into_instance_folder(monkeypatch):
    # Skip creating the real database so the test leaves no file behind.
    monkeypatch.setattr(blog.db, "ensure_schema", lambda: False)
    app = create_app({"TESTING": True})
    assert app.config["SECRET_KEY"] == "dev"
    assert app.config["DATABASE"] == os.path.join(app.instance_path, "blog.sqlite3")
    assert os.path.isdir(app.instance_path)


def test_test_config_overrides_defaults(app, db_path):
    assert app.config["SECRET_KEY"] == "test"
    assert app.config["DATABASE"] == os.fspath(db_path)
    assert app.testing


def test_init_db_command(runner, app):
    with app.app_context():
        assert get_db().execute("SELECT COUNT(*) FROM posts").fetchone()[0] == 1

    result = runner.invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    assert "Initialized the database" in result.output
    assert app.config["DATABASE"] in result.output

    with app.app_context():
        db = get_db()
        assert db.execute("SELECT COUNT(*) FROM posts").fetchone()[0] == 0
        assert db.execute("SELECT COUNT(*) FROM users").fetchone()[0] == 0


def test_init_db_command_is_listed(runner):
    result = runner.invoke(args=["--help"])
    assert "init-db" in result.output
