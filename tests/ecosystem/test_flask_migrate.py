"""Flask-Migrate running unmodified on our Flask and our CLI.

``Migrate(app, db)`` adds the ``db`` group to ``app.cli``; the tests drive
``flask db init / migrate / upgrade / downgrade`` through
``app.test_cli_runner()`` and through a ``FlaskGroup`` (what the ``flask``
command is), on SQLite files in a temporary directory.
"""

from __future__ import annotations

import logging
import typing as t
from pathlib import Path

import flask_migrate
import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from flask import Flask
from flask.cli import FlaskGroup
from flask.cli import ScriptInfo

# Flask-Migrate's env.py template still calls db.get_engine(), which
# Flask-SQLAlchemy 3.1 deprecates; that is between those two projects.
pytestmark = pytest.mark.filterwarnings("ignore:'get_engine' is deprecated")


@pytest.fixture(autouse=True)
def keep_logging() -> t.Iterator[None]:
    """Alembic's env.py calls logging.config.fileConfig, which reconfigures
    the root logger and disables existing loggers; undo that for other tests."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    disabled = {
        name: lg.disabled
        for name, lg in logging.root.manager.loggerDict.items()
        if isinstance(lg, logging.Logger)
    }
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, lg in logging.root.manager.loggerDict.items():
        if isinstance(lg, logging.Logger):
            lg.disabled = disabled.get(name, False)


def create_app(db_path: Path, *, with_email: bool = False, **migrate_kw: t.Any) -> Flask:
    class Base(DeclarativeBase):
        pass

    db = SQLAlchemy(model_class=Base)

    class User(db.Model):  # type: ignore[name-defined]
        id: Mapped[int] = mapped_column(primary_key=True)
        name: Mapped[str] = mapped_column(sa.String(128))

        if with_email:
            email: Mapped[str | None] = mapped_column(sa.String(128))

    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{db_path}"
    db.init_app(app)
    Migrate(app, db, **migrate_kw)
    app.db = db  # type: ignore[attr-defined]
    return app


def columns(db_path: Path, table: str) -> list[str]:
    engine = sa.create_engine(f"sqlite:///{db_path}")
    try:
        insp = sa.inspect(engine)
        if not insp.has_table(table):
            return []
        return [c["name"] for c in insp.get_columns(table)]
    finally:
        engine.dispose()


def run_ok(runner: t.Any, args: list[str], **kw: t.Any) -> str:
    result = runner.invoke(args=args, **kw)
    assert result.exception is None, (result.output, result.exception)
    assert result.exit_code == 0, result.output
    return str(result.output)


def dispose(app: Flask) -> None:
    with app.app_context():
        for engine in app.db.engines.values():  # type: ignore[attr-defined]
            engine.dispose()


def test_db_group_added_to_app_cli(tmp_path: Path) -> None:
    app = create_app(tmp_path / "app.db")
    assert "migrate" in app.extensions
    assert "db" in app.cli.commands
    out = run_ok(app.test_cli_runner(), ["db", "--help"])
    for sub in ("init", "migrate", "upgrade", "downgrade", "history"):
        assert sub in out


def test_init_migrate_upgrade_with_test_cli_runner(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `flask db init` works in the project directory: migrations/ by default.
    monkeypatch.chdir(tmp_path)
    db_path = tmp_path / "app.db"
    app = create_app(db_path)
    runner = app.test_cli_runner()

    run_ok(runner, ["db", "init"])
    assert (tmp_path / "migrations" / "env.py").is_file()
    assert (tmp_path / "migrations" / "alembic.ini").is_file()

    run_ok(runner, ["db", "migrate", "-m", "create user"])
    versions = list((tmp_path / "migrations" / "versions").glob("*_create_user.py"))
    assert len(versions) == 1
    assert "op.create_table('user'" in versions[0].read_text()
    # migrate only writes the script; nothing is applied yet.
    assert columns(db_path, "user") == []

    run_ok(runner, ["db", "upgrade"])
    assert columns(db_path, "user") == ["id", "name"]
    engine = sa.create_engine(f"sqlite:///{db_path}")
    with engine.connect() as conn:
        head = conn.execute(sa.text("select version_num from alembic_version")).scalar()
    engine.dispose()
    assert head is not None and versions[0].name.startswith(head)

    run_ok(runner, ["db", "current"])
    dispose(app)

    # A model change: a second revision adds the column, downgrade removes it.
    app2 = create_app(db_path, with_email=True)
    runner2 = app2.test_cli_runner()
    run_ok(runner2, ["db", "migrate", "-m", "add email"])
    run_ok(runner2, ["db", "upgrade"])
    assert columns(db_path, "user") == ["id", "name", "email"]

    run_ok(runner2, ["db", "history"])
    assert len(list((tmp_path / "migrations" / "versions").glob("*.py"))) == 2

    run_ok(runner2, ["db", "downgrade"])
    assert columns(db_path, "user") == ["id", "name"]
    run_ok(runner2, ["db", "downgrade", "base"])
    assert columns(db_path, "user") == []
    dispose(app2)


def test_flask_group_with_script_info(tmp_path: Path) -> None:
    db_path = tmp_path / "data" / "app.db"
    db_path.parent.mkdir()
    migrations = tmp_path / "migs"
    app = create_app(db_path, directory=str(migrations))
    cli = FlaskGroup(create_app=lambda: app)
    runner = CliRunner()

    def invoke(*args: str) -> str:
        # ScriptInfo is what the flask command hands its subcommands.
        result = runner.invoke(cli, list(args), obj=ScriptInfo(create_app=lambda: app))
        assert result.exception is None, (result.output, result.exception)
        assert result.exit_code == 0, result.output
        return result.output

    assert "db" in invoke("--help")
    invoke("db", "init")
    assert (migrations / "script.py.mako").is_file()
    invoke("db", "migrate")
    invoke("db", "upgrade")
    assert columns(db_path, "user") == ["id", "name"]

    # The app built by ScriptInfo serves requests on the migrated schema.
    with app.app_context():
        app.db.session.execute(sa.text("insert into user (name) values ('zed')"))  # type: ignore[attr-defined]
        app.db.session.commit()  # type: ignore[attr-defined]
        n = app.db.session.execute(sa.text("select count(*) from user")).scalar()  # type: ignore[attr-defined]
    assert n == 1
    dispose(app)


def test_custom_command_name(tmp_path: Path) -> None:
    app = create_app(tmp_path / "x.db", command="database")
    assert "database" in app.cli.commands
    assert "db" not in app.cli.commands


def test_python_api_in_app_context(tmp_path: Path) -> None:
    db_path = tmp_path / "api.db"
    migrations = tmp_path / "migrations"
    app = create_app(db_path, directory=str(migrations))
    with app.app_context():
        flask_migrate.init()
        flask_migrate.migrate(message="initial")
        flask_migrate.upgrade()
    assert columns(db_path, "user") == ["id", "name"]
    dispose(app)

    # Outside an app context current_app raises; Flask-Migrate reports it
    # and exits.
    with pytest.raises(SystemExit):
        flask_migrate.upgrade(directory=str(migrations))
