"""Flask-Migrate: the committed migrations build the schema the models use.

The schema is read back with SQLAlchemy's inspector, and drift between the
models and the migrations is judged by Alembic's own autogenerate
comparison, not by anything in the app.
"""

from __future__ import annotations

import os
import typing as t
from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from blog import MIGRATIONS_DIR
from blog.extensions import db
from conftest import build_app, sqlite_url

HEAD = "0002"
ALL_TABLES = {"alembic_version", "users", "posts", "comments", "follows", "notifications"}


def inspect(url: str) -> tuple[set[str], dict[str, list[str]], str | None]:
    engine = sa.create_engine(url)
    try:
        insp = sa.inspect(engine)
        tables = set(insp.get_table_names())
        columns = {name: [c["name"] for c in insp.get_columns(name)] for name in tables}
        version = None
        if "alembic_version" in tables:
            with engine.connect() as conn:
                version = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
        return tables, columns, version
    finally:
        engine.dispose()


def test_migrations_are_committed_in_order():
    names = sorted(os.listdir(Path(MIGRATIONS_DIR) / "versions"))
    assert [n for n in names if n.endswith(".py")] == [
        "0001_accounts_and_posts.py",
        "0002_comments_follows_notifications.py",
    ]


def test_upgrade_from_empty_then_downgrade_one_step(tmp_path):
    path = tmp_path / "empty.sqlite3"
    app = build_app(path, tmp_path, AUTO_UPGRADE=False)
    runner = app.test_cli_runner()
    url = sqlite_url(path)
    assert inspect(url)[0] == set()

    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    tables, columns, version = inspect(url)
    assert tables == ALL_TABLES
    assert version == HEAD
    assert "email" in columns["users"]

    # Data written at the head revision survives the step down.
    client = app.test_client()
    client.post("/auth/register", data={"username": "kim", "email": "k@example.org", "password": "abcd"})

    result = runner.invoke(args=["db", "downgrade"])
    assert result.exit_code == 0, result.output
    tables, columns, version = inspect(url)
    assert version == "0001"
    assert tables == {"alembic_version", "users", "posts"}
    assert columns["users"] == ["id", "username", "password_hash"]
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT username FROM users")).scalars().all() == ["kim"]
    engine.dispose()

    # And back up again.
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert inspect(url)[2] == HEAD


def assert_models_match(app: t.Any) -> None:
    with app.app_context(), db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, db.metadata)
    assert diff == []


def test_models_match_migrations(app):
    assert_models_match(app)


def test_fresh_database_is_migrated_on_first_start(tmp_path):
    path = tmp_path / "sub" / "fresh.sqlite3"
    path.parent.mkdir()
    app = build_app(path, tmp_path)  # AUTO_UPGRADE is on without DATABASE_URL
    assert inspect(sqlite_url(path))[2] == HEAD
    # And the app works right away.
    assert app.test_client().get("/").status_code == 200


def test_explicit_downgrade_stays_put_on_the_next_start(tmp_path, capsys, caplog):
    """Only a new database is upgraded on start; the db commands say what
    they did, from which revision to which."""
    path = tmp_path / "dev.sqlite3"
    url = sqlite_url(path)
    app = build_app(path, tmp_path)  # AUTO_UPGRADE is on without DATABASE_URL
    assert inspect(url)[2] == HEAD
    started = capsys.readouterr().out
    assert "Upgraded the database: base -> 0001" in started
    assert "Upgraded the database: 0001 -> 0002" in started

    result = app.test_cli_runner().invoke(args=["db", "downgrade"])
    assert result.exit_code == 0, result.output
    assert "Downgraded the database: 0002 -> 0001" in result.output
    assert inspect(url)[2] == "0001"

    # The next start, and a command that only reads, leave it there.
    with caplog.at_level("WARNING"):
        app = build_app(path, tmp_path)
    assert inspect(url)[2] == "0001"
    assert "at revision 0001" in caplog.text and "flask db upgrade" in caplog.text
    runner = app.test_cli_runner()
    result = runner.invoke(args=["db", "current"])
    assert result.exit_code == 0, result.output
    assert "nothing to do" not in result.output
    assert inspect(url)[2] == "0001"

    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "Upgraded the database: 0001 -> 0002" in result.output
    assert inspect(url)[2] == HEAD
    result = runner.invoke(args=["db", "upgrade"])
    assert "The database is already at 0002: nothing to do." in result.output

    # Down to an empty schema: a database Alembic has seen stays empty too.
    runner.invoke(args=["db", "downgrade", "base"])
    assert inspect(url)[2] is None
    build_app(path, tmp_path)
    assert inspect(url)[0] == {"alembic_version"}


def test_shared_database_is_not_migrated_by_workers(tmp_path):
    path = tmp_path / "shared.sqlite3"
    create = __import__("blog").create_app
    create(
        {"TESTING": True, "MAIL_OUTBOX_DIR": os.fspath(tmp_path)},
        environ={"DATABASE_URL": sqlite_url(path)},
    )
    assert inspect(sqlite_url(path))[0] == set()


def test_init_db_command(runner, app):
    client = app.test_client()
    assert b"First light" in client.get("/").data

    result = runner.invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    assert "Initialized the database at sqlite:///" in result.output

    url = app.config["SQLALCHEMY_DATABASE_URI"]
    tables, _, version = inspect(url)
    assert (tables, version) == (ALL_TABLES, HEAD)
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM users")).scalar() == 0
    engine.dispose()


def test_db_commands_are_listed(runner):
    result = runner.invoke(args=["--help"])
    assert "init-db" in result.output
    assert "db " in result.output or "db\n" in result.output


def test_migrations_on_postgresql(pg_url, tmp_path):
    """The same migrations, up from empty and down one step, on PostgreSQL."""
    app = build_app(tmp_path / "unused", tmp_path, SQLALCHEMY_DATABASE_URI=pg_url, AUTO_UPGRADE=False)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    tables, _, version = inspect(pg_url)
    assert (tables, version) == (ALL_TABLES, HEAD)
    assert_models_match(app)
    result = runner.invoke(args=["db", "downgrade"])
    assert result.exit_code == 0, result.output
    assert inspect(pg_url)[2] == "0001"
    with app.app_context():
        db.engine.dispose()


OLD_SCHEMA = """
CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL
);
CREATE TABLE posts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    author_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created TEXT NOT NULL DEFAULT (datetime('now')),
    title TEXT NOT NULL,
    body TEXT NOT NULL DEFAULT ''
);
CREATE INDEX posts_by_created ON posts (created DESC, id DESC);
INSERT INTO users (username, password_hash) VALUES ('old', 'x');
INSERT INTO posts (title, body, author_id, created) VALUES ('Old post', '', 1, '2024-01-02 03:04:05');
"""


def test_database_from_before_migrations_is_adopted(tmp_path):
    import sqlite3

    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path)
    conn.executescript(OLD_SCHEMA)
    conn.close()
    app = build_app(path, tmp_path)
    tables, columns, version = inspect(sqlite_url(path))
    assert (tables, version) == (ALL_TABLES, HEAD)
    page = app.test_client().get("/").data
    assert b"Old post" in page
    assert b"2024-01-02 03:04" in page
