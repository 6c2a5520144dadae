"""Alembic environment: the blog app's engine and models, inside its app context."""

from __future__ import annotations

from alembic import context
from flask import current_app

migrate_ext = current_app.extensions["migrate"]
db = migrate_ext.db
target_metadata = db.metadata


def run_offline() -> None:
    """Emit SQL for the configured URL without connecting (``--sql``)."""
    context.configure(
        url=db.engine.url.render_as_string(hide_password=False),
        target_metadata=target_metadata,
        literal_binds=True,
        **migrate_ext.configure_args,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    # Flask-Migrate's configure_args include render_as_batch=True, which
    # SQLite needs for ALTER and other databases treat as plain ALTERs.
    with db.engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            **migrate_ext.configure_args,
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
