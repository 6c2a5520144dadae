"""``Flask.run``'s pieces (flask.serving), against what Flask documents for
``app.run``: host and port from the arguments, else ``SERVER_NAME``, else
``127.0.0.1:5000``; no second server under ``flask run``.
"""

from __future__ import annotations

import pytest

from flask import Flask
from flask import serving


@pytest.mark.parametrize(
    ("server_name", "host", "port", "expected"),
    [
        (None, None, None, ("127.0.0.1", 5000)),
        ("example.test:8080", None, None, ("example.test", 8080)),
        ("example.test", None, None, ("example.test", 5000)),
        ("example.test:8080", "0.0.0.0", 9000, ("0.0.0.0", 9000)),
        # Port 0 asks the OS for a free port: it is a given port.
        ("example.test:8080", None, 0, ("example.test", 0)),
    ],
)
def test_address(
    server_name: str | None, host: str | None, port: int | None, expected: tuple[str, int]
) -> None:
    assert serving._address(server_name, host, port) == expected


def test_no_second_server_under_flask_run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    served = []
    monkeypatch.setattr("werkzeug.serving.run_simple", lambda *a, **k: served.append(a))
    monkeypatch.setenv("FLASK_RUN_FROM_CLI", "true")
    monkeypatch.delenv("WERKZEUG_RUN_MAIN", raising=False)
    Flask(__name__).run()
    assert served == []
    assert "Ignoring a call to 'app.run()'" in capsys.readouterr().out

    monkeypatch.delenv("FLASK_RUN_FROM_CLI")
    Flask(__name__).run(load_dotenv=False)
    assert served and served[0][:2] == ("127.0.0.1", 5000)
