"""Entry points for servers and workers, configured from the environment.

- WSGI: ``gunicorn -c deploy/gunicorn.conf.py blog.wsgi:app``
- ASGI: ``uvicorn blog.wsgi:asgi`` (where the framework has ``asgi_app``)
- Celery: ``celery -A blog.wsgi:celery worker``
"""

from __future__ import annotations

from . import create_app

app = create_app()
celery = app.extensions["celery"]
# The ASGI callable, where the framework provides one.
asgi = getattr(app, "asgi_app", None)
