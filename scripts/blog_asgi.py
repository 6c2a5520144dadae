"""The example blog as an ASGI app, for ``make run-asgi``:
``uvicorn --app-dir scripts blog_asgi:app --reload``.

uvicorn needs a module attribute that is the ASGI app itself; the blog
exposes only its ``create_app`` factory, which returns the Flask object.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "examples" / "blog"))

from blog import create_app  # noqa: E402

app = create_app().asgi_app
