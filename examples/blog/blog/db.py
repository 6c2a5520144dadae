"""SQLite access: one connection per application context."""

from __future__ import annotations

import sqlite3

import click
from flask import Flask, current_app, g


def get_db() -> sqlite3.Connection:
    """Return this context's connection, opening it on first use."""
    if "db" not in g:
        conn = sqlite3.connect(current_app.config["DATABASE"])
        conn.row_factory = sqlite3.Row
        # SQLite leaves foreign keys off unless asked, per connection.
        conn.execute("PRAGMA foreign_keys = ON")
        g.db = conn
    return g.db  # type: ignore[no-any-return]


def close_db(exc: BaseException | None = None) -> None:
    """Close the connection when the application context ends."""
    conn = g.pop("db", None)
    if conn is not None:
        conn.close()


def init_db() -> None:
    """Drop and recreate every table from ``schema.sql``."""
    conn = get_db()
    with current_app.open_resource("schema.sql", "r") as f:
        conn.executescript(f.read())
    conn.commit()


def ensure_schema() -> bool:
    """Create the tables if the database has none yet; report whether it did.

    This lets ``flask run`` work on a fresh checkout without a setup step.
    """
    row = (
        get_db()
        .execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'users'")
        .fetchone()
    )
    if row is None:
        init_db()
        return True
    return False


def init_app(app: Flask) -> None:
    """Hook the connection lifecycle and the ``init-db`` command into ``app``."""
    app.teardown_appcontext(close_db)

    @app.cli.command("init-db")
    def init_db_command() -> None:
        """Recreate the database tables (deletes all data)."""
        init_db()
        click.echo(f"Initialized the database at {current_app.config['DATABASE']}.")
