"""Database start-up and the ``init-db`` command."""

from __future__ import annotations

import click
import sqlalchemy as sa
from sqlalchemy import event
from flask import Flask
from flask_migrate import stamp, upgrade

from .extensions import db


def _sqlite_foreign_keys(dbapi_connection: object, _record: object) -> None:
    # SQLite leaves foreign keys (and so ON DELETE CASCADE) off unless
    # asked, per connection.
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


def prepare_database(app: Flask) -> None:
    """Per-engine settings, and on a development database the migrations."""
    engine = db.engine
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_foreign_keys)
    if app.config["AUTO_UPGRADE"]:
        insp = sa.inspect(engine)
        if insp.has_table("users") and not insp.has_table("alembic_version"):
            # Made by the example before it had migrations: that schema is
            # revision 0001's, so record it as such and upgrade from there.
            stamp(revision="0001")
        upgrade()


def init_app(app: Flask) -> None:
    @app.cli.command("init-db")
    def init_db_command() -> None:
        """Drop every table and migrate an empty database to the newest schema."""
        db.drop_all()
        with db.engine.begin() as conn:
            conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
        upgrade()
        url = db.engine.url.render_as_string(hide_password=True)
        click.echo(f"Initialized the database at {url}.")
