"""Framework behaviour the deployment ran into, recorded as strict xfails.

Each test states what should happen; it fails today and is marked
``xfail(strict=True)``, so the day the framework is fixed the test passes,
turns the run red, and the marker must be removed. The framework itself
(``src/flask``) is not this example's to change.
"""

from __future__ import annotations

import pytest
from flask import Flask


@pytest.mark.xfail(
    strict=True,
    reason="flask.matching.reject_invalid_host answers 400 to a Host with '_', "
    "which RFC 3986's reg-name allows (unreserved) and Pallets Flask serves",
)
@pytest.mark.parametrize("host", ["blog_app", "blog_app:8000", "my_host.internal"])
def test_host_with_underscore_is_served(host: str) -> None:
    # Seen behind nginx: a location that sets any proxy_set_header drops the
    # server block's, so the app got "Host: blog_app" (the upstream's name).
    app = Flask(__name__)
    app.get("/")(lambda: "ok")
    assert app.test_client().get("/", headers={"Host": host}).status_code == 200
