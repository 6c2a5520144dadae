"""Alembic environment: the blog app's engine and models, inside its app context."""

from __future__ import annotations

import typing as t

import click
from alembic import context
from alembic.runtime.migration import MigrationContext
from alembic.runtime.migration import MigrationInfo
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


def _revisions(ids: tuple[str, ...]) -> str:
    return ", ".join(ids) or "base"


def report_step(
    ctx: MigrationContext, step: MigrationInfo, heads: t.Collection[str], run_args: t.Mapping[str, t.Any]
) -> None:
    """Say what each step did: Alembic logs it, but the app configures no
    logging for it, so ``flask db upgrade`` and ``downgrade`` were silent."""
    if step.is_stamp:
        verb = "Stamped"
    else:
        verb = "Upgraded" if step.is_upgrade else "Downgraded"
    # A migration file's docstring (a Script; typed as its base, Revision).
    doc = (getattr(step.up_revision, "doc", "") or "").rstrip(".")
    click.echo(
        f"{verb} the database: {_revisions(step.source_revision_ids)}"
        f" -> {_revisions(step.destination_revision_ids)}" + (f" ({doc})" if doc else "")
    )


def run_online() -> None:
    # Flask-Migrate's configure_args include render_as_batch=True, which
    # SQLite needs for ALTER and other databases treat as plain ALTERs.
    with db.engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            on_version_apply=report_step,
            **migrate_ext.configure_args,
        )
        migration = context.get_context()
        before = migration.get_current_heads()
        with context.begin_transaction():
            context.run_migrations()
        if _has_target() and migration.get_current_heads() == before:
            click.echo(f"The database is already at {_revisions(before)}: nothing to do.")


def _has_target() -> bool:
    """Whether the command moves the database to a revision (upgrade,
    downgrade, stamp), rather than reading it (`db current`, `db check`)."""
    try:
        context.get_revision_argument()  # None means "base", a target too
    except KeyError:  # the commands that read have no destination at all
        return False
    return True


if context.is_offline_mode():
    run_offline()
else:
    run_online()
