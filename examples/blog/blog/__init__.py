"""A small blog built on Flask: accounts, posts and a JSON API.

Run it with ``flask --app examples/blog/blog run --debug`` from the project
root; the SQLite database is created in the instance folder on first start.
"""

from __future__ import annotations

import os
import typing as t

from flask import Flask


def create_app(test_config: t.Mapping[str, t.Any] | None = None) -> Flask:
    """Build and configure the blog application.

    ``test_config`` replaces the instance ``config.py`` so tests can point the
    app at a throwaway database.
    """
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(
        # Only good for local development; production sets a real key in
        # instance/config.py.
        SECRET_KEY="dev",
        DATABASE=os.path.join(app.instance_path, "blog.sqlite3"),
        POSTS_PER_PAGE=20,
    )

    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
    else:
        app.config.from_mapping(test_config)

    os.makedirs(app.instance_path, exist_ok=True)

    # Imported here so importing the package stays cheap and so each module
    # can use current_app without a circular import on this one.
    from . import api, auth, db, errors, posts

    db.init_app(app)
    errors.init_app(app)
    app.register_blueprint(auth.bp)
    app.register_blueprint(posts.bp)
    app.register_blueprint(api.bp)

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    with app.app_context():
        db.ensure_schema()

    return app
