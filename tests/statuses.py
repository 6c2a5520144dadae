"""Status lines as Werkzeug writes them, for tests that compare whole lines:
its wording changes between versions ("404 NOT FOUND" before 3.2, "404 Not
Found" on its main branch), so the expected line is Werkzeug's own."""

from __future__ import annotations

from werkzeug.wrappers import Response


def status_line(code: int) -> str:
    """The status line Werkzeug gives a response with this code."""
    return Response(status=code).status
