"""A small blog built on Flask and the extensions people deploy it with.

Run it with ``flask --app examples/blog/blog run --debug`` from the project
root: on SQLite in the instance folder, migrated on first start, with an
in-process cache and eager background jobs. ``blog.settings`` lists the
environment variables that switch each piece to PostgreSQL, Redis and a
Celery worker.
"""

from __future__ import annotations

import os
import typing as t
from pathlib import Path

from flask import Blueprint, Flask

# Next to the package, where Flask-Migrate's `flask db` commands expect it.
MIGRATIONS_DIR = os.fspath(Path(__file__).resolve().parent.parent / "migrations")


def create_app(
    test_config: t.Mapping[str, t.Any] | None = None,
    environ: t.Mapping[str, str] | None = None,
) -> Flask:
    """Build and configure the blog application.

    The configuration comes from ``environ`` (default ``os.environ``, see
    ``blog.settings``), then the instance ``config.py``; ``test_config``
    replaces the latter so tests can point the app at a throwaway database.
    """
    app = Flask(__name__, instance_relative_config=True)
    # Imported here so importing the package stays cheap (gunicorn's
    # master, `celery -A`) and modules can use current_app without a cycle.
    from . import api, auth, cli, errors, feed, jobs, live, mailer, posts, settings
    from .extensions import cache, csrf, db, login_manager, migrate

    app.config.from_mapping(
        settings.from_environ(os.environ if environ is None else environ, app.instance_path)
    )
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
    else:
        app.config.from_mapping(test_config)
    os.makedirs(app.instance_path, exist_ok=True)

    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR)
    csrf.init_app(app)
    cache.init_app(app)
    auth.init_login(app, login_manager)
    mailer.init_app(app)
    jobs.init_celery(app)
    live.init_app(app)
    errors.init_app(app)
    cli.init_app(app)

    app.register_blueprint(auth.bp)
    app.register_blueprint(posts.bp)
    app.register_blueprint(api.bp)
    # The index page's feed of new posts (Server-Sent Events): plain HTTP,
    # so under WSGI and ASGI alike.
    app.register_blueprint(feed.bp)
    if hasattr(Blueprint, "websocket"):
        # The live sockets, where the framework has WebSocket routes.
        from . import sockets

        app.register_blueprint(sockets.bp)
    # Bearer tokens authenticate the API, not cookies, so a forged
    # cross-site request carries no credentials and needs no CSRF token.
    csrf.exempt(api.bp)

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    with app.app_context():
        cli.prepare_database(app)

    return app
