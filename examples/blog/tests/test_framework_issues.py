"""Framework behaviour the deployment ran into, kept as regression tests."""

from __future__ import annotations

import pytest
from flask import Flask


@pytest.mark.parametrize("host", ["blog_app", "blog_app:8000", "my_host.internal"])
def test_host_with_underscore_is_served(host: str) -> None:
    # Seen behind nginx: a location that sets any proxy_set_header drops the
    # server block's, so the app got "Host: blog_app" (the upstream's name).
    # RFC 3986's reg-name allows "_", and Pallets Flask serves it.
    app = Flask(__name__)
    app.get("/")(lambda: "ok")
    assert app.test_client().get("/", headers={"Host": host}).status_code == 200
