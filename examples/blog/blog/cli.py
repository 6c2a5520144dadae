"""Database start-up and the ``init-db`` command."""

from __future__ import annotations

import click
import sqlalchemy as sa
from sqlalchemy import event
from flask import Flask
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import stamp, upgrade

from .extensions import db, migrate


def _sqlite_foreign_keys(dbapi_connection: object, _record: object) -> None:
    # SQLite leaves foreign keys (and so ON DELETE CASCADE) off unless
    # asked, per connection.
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


def prepare_database(app: Flask) -> None:
    """Per-engine settings, and on a new development database the
    migrations.

    Only a database that Alembic has not seen yet is upgraded: one with a
    version table is left at its revision, so that an explicit ``flask db
    downgrade`` stays put. If it is behind the code, the start says so.
    """
    engine = db.engine
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_foreign_keys)
    if not app.config["AUTO_UPGRADE"]:
        return
    insp = sa.inspect(engine)
    if insp.has_table("alembic_version"):
        _warn_if_behind(app)
        return
    if insp.has_table("users"):
        # Made by the example before it had migrations: that schema is
        # revision 0001's, so record it as such and upgrade from there.
        stamp(revision="0001")
    upgrade()


def _warn_if_behind(app: Flask) -> None:
    heads = set(ScriptDirectory.from_config(migrate.get_config()).get_heads())
    with db.engine.connect() as conn:
        current = set(MigrationContext.configure(conn).get_current_heads())
    if current != heads:
        app.logger.warning(
            "The database is at revision %s, the code's migrations at %s:"
            " run 'flask db upgrade' to bring it up to date.",
            ", ".join(sorted(current)) or "base",
            ", ".join(sorted(heads)),
        )


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
