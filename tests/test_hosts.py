"""Host header values against the status they get (issue 10, point 1).

The table gives, for an app without ``SERVER_NAME``, the status of a plain
view; "served" rows also get 200 from views that call ``url_for`` or read
``request.url``/``host_url``, 302 from ``redirect`` and 308 from
Werkzeug's slash redirect. Where Pallets Flask 3.1.3 answers differently,
its answer and the reason are in the row. No Host ever gets a 500, in any
app set-up (``SERVER_NAME``, ``TRUSTED_HOSTS``, subdomain and host
matching). The Pallets column is checked against Pallets Flask itself, in
its own venv (fuzz/venvs.py builds it on first use).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import typing as t
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "fuzz"))

import hostprobe  # noqa: E402

SERVED = {"/plain": "200", "/url": "200", "/request-url": "200", "/redirect": "302", "/dir": "308"}
REFUSED = {path: "400" for path in SERVED}

GRAMMAR = (
    "outside RFC 9110's Host grammar; RFC 9112 section 3.2 requires a 400."
    " Pallets (Werkzeug 3.1.8+) reads it as an empty host and serves the"
    " request, building URLs like 'http:///plain'"
)



def _werkzeug_builds_port_99999() -> bool:
    """Werkzeug's own answer: whether a request to a port over 65535 has a
    URL. Werkzeug 3.1.7 to 3.1.9 build it; before, and on its main branch
    (3.2.0.dev0, 1b00618), ``request.url`` raises ``ValueError``."""
    from werkzeug.test import EnvironBuilder
    from werkzeug.wrappers import Request

    try:
        return bool(Request(EnvironBuilder(headers={"Host": "localhost:99999"}).get_environ()).url)
    except ValueError:
        return False


# Where Werkzeug cannot build a URL with that port, Pallets' routes that
# build one fail with a 500; ours refuse the Host with a 400.
_PORT_BUILDS = _werkzeug_builds_port_99999()
_PALLETS_PORT_500 = {**SERVED, "/request-url": "500", "/dir": "500"}

# (Host header, our status, Pallets' status (or routes) where it differs, why)
HOSTS: list[tuple[str | None, int, int | dict[str, str] | None, str]] = [
    (None, 200, None, "HTTP/1.0 without Host: SERVER_NAME/SERVER_PORT are used"),
    ("", 200, None, "empty Host: reg-name may be empty (RFC 3986)"),
    ("localhost", 200, None, ""),
    ("EXAMPLE.com", 200, None, "hosts are case-insensitive"),
    ("localhost:8080", 200, None, ""),
    ("my_service", 200, None, "'_' is unreserved: Docker Compose service names"),
    ("my_service:5000", 200, None, ""),
    ("a~b", 200, None, "'~' is unreserved"),
    ("ex%41mple.com", 200, None, "pct-encoded is allowed in reg-name"),
    ("localhost:", 200, None, "port = *DIGIT, may be empty"),
    ("localhost:0080", 200, None, "leading zeros: port = *DIGIT"),
    ("localhost:99999", 200 if _PORT_BUILDS else 400, None if _PORT_BUILDS else _PALLETS_PORT_500,
     "port = *DIGIT has no upper bound in the grammar" + (
         "" if _PORT_BUILDS else "; this Werkzeug cannot build a URL with the port (Pallets: 500)")),
    ("localhost:0", 200, None, ""),
    ("a.", 200, None, "a trailing dot is a fully qualified name"),
    ("[::1]", 200, None, "IP-literal"),
    ("[::1]:8080", 200, None, ""),
    ("[v1.x]", 200, None, "IPvFuture"),
    ("b\u00c3\u00bccher.test", 200, None, "UTF-8 bytes (as WSGI latin-1) of an IDN"),
    ("\u0105\u015b\u017a\u00e4\u00fc\u0436.com", 200, None, "a Unicode name with an IDNA form"),
    ("a..b", 400, None, "an empty DNS label: Werkzeug's binding cannot IDNA-encode it"),
    ("a..b:80", 400, None, "the same, with the default port"),
    (".a", 400, None, "an empty first label"),
    ("a" * 64 + ".test", 400, None, "a DNS label over 63 characters"),
    ("a" * 300 + ".com", 400, None, "a label of 300 characters"),
    ("a_" + "b" * 70 + ".test", 200, None,
     "an over-long label with '_': Werkzeug's host check refuses it, so it"
     " binds as an empty host and is served, as in Pallets"),
    ("a b", 400, 200, "a space is " + GRAMMAR),
    ("a\tb", 400, 200, "a control character is " + GRAMMAR),
    ("a\x00b", 400, 200, "NUL is " + GRAMMAR),
    ("a/b", 400, 200, "'/' is " + GRAMMAR),
    ("a@b", 400, 200, "'@' (userinfo) is " + GRAMMAR),
    ("localhost:http", 400, 200, "a non-numeric port is " + GRAMMAR),
    ("x:1:80", 400, 200, "a second ':' is " + GRAMMAR),
    ("[::1", 400, 200, "an unclosed IP-literal is " + GRAMMAR),
    ("ex%zz.com", 400, 200, "a bad percent-escape is " + GRAMMAR),
    ("\u008a", 400, 200, "a raw byte with no IDNA form (C1 control) is " + GRAMMAR),
]


def expected_routes(status: int | dict[str, str]) -> dict[str, str]:
    if isinstance(status, dict):
        return dict(status)
    return dict(SERVED) if status == 200 else dict(REFUSED)


@pytest.fixture(scope="module")
def ours() -> dict[str, dict[str, dict[str, str]]]:
    return hostprobe.probe([h for h, *_ in HOSTS])


HOST_CHECK = (
    "Werkzeug 3.1.8 validates the Host's characters (its get_host and"
    " host_is_trusted); before, they took any value, so these rows are"
    " Werkzeug's own older answers"
)


# Rows whose answer is Werkzeug 3.1.8's host check (an older Werkzeug refuses
# the long label at binding, and cannot build URLs with a port over 65535,
# so both get 400 there).
NEWER_HOST_CHECK = {"localhost:99999", "a_" + "b" * 70 + ".test"}


@pytest.mark.parametrize(
    ("host", "status", "pallets", "why"),
    [
        pytest.param(
            *row, id=repr(row[0])[:40],
            marks=[pytest.mark.needs_werkzeug("3.1.8", HOST_CHECK)] if row[0] in NEWER_HOST_CHECK else [],
        )
        for row in HOSTS
    ],
)
def test_host_table(
    ours: dict[str, dict[str, dict[str, str]]], host: str | None, status: int, pallets: int | None, why: str
) -> None:
    assert ours["default"][json.dumps(host)] == expected_routes(status)


def test_no_host_gives_500_in_any_setup(ours: dict[str, dict[str, dict[str, str]]]) -> None:
    for config, rows in ours.items():
        for host, routes in rows.items():
            bad = {p: s for p, s in routes.items() if s[:1] not in "234"}
            assert not bad, (config, host, bad)


@pytest.mark.needs_werkzeug("3.1.8", HOST_CHECK)
def test_trusted_hosts_refuse_others(ours: dict[str, dict[str, dict[str, str]]]) -> None:
    rows = ours["trusted_hosts"]
    assert rows['"localhost"'] == SERVED
    assert rows['"localhost:8080"'] == SERVED
    # Werkzeug's trusted-host check refuses what its own pattern refuses.
    assert rows['"my_service"'] == REFUSED
    assert rows['"EXAMPLE.com"'] == REFUSED
    assert rows["null"] == SERVED  # no Host header: the server's own name


def test_server_name_binds_by_configured_name(ours: dict[str, dict[str, dict[str, str]]]) -> None:
    # With SERVER_NAME set, binding uses it, so a host Werkzeug could not
    # IDNA-encode is served, as in Pallets; grammar errors still get 400.
    rows = ours["server_name"]
    assert rows['"a..b"'] == SERVED
    assert rows['"a b"'] == REFUSED


def test_idna_failure_is_400_not_500_at_url_for() -> None:
    """Regression (issue 10): a host Werkzeug cannot IDNA-encode was served
    up to the first url_for, which then failed with a 500."""
    import flask

    app = flask.Flask(__name__)

    @app.route("/")
    def index() -> str:
        return flask.url_for("index", _external=True)

    for host in ("a..b", "a" * 300 + ".com"):
        response = app.test_client().get("/", headers={"Host": host})
        assert response.status_code == 400


def _pallets_python() -> Path:
    import venvs

    try:
        return venvs.pallets_python()
    except venvs.VenvError as e:  # no network to PyPI, say
        if os.environ.get("CI") == "true":
            raise
        pytest.skip(f"Pallets Flask venv unavailable: {e}")


@pytest.mark.needs_werkzeug("3.1.8", HOST_CHECK)
def test_pallets_column_is_pallets_answer(ours: dict[str, dict[str, dict[str, str]]]) -> None:
    python = _pallets_python()
    asked = json.dumps({"hosts": [h for h, *_ in HOSTS]})
    out = subprocess.run(
        [str(python), str(ROOT / "fuzz" / "hostprobe.py")],
        input=asked, capture_output=True, text=True, check=True, cwd=ROOT / "fuzz",
        # Pallets' venv must import its own flask, whatever PYTHONPATH says
        # (make mutate points it at a mutated copy of ours).
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
    )
    theirs: dict[str, dict[str, dict[str, str]]] = json.loads(out.stdout)
    for host, status, pallets, why in HOSTS:
        key = json.dumps(host)
        assert theirs["default"][key] == expected_routes(pallets or status), (host, why)
    # Every set-up agrees with Pallets except on the grammar rows.
    differing = {json.dumps(h) for h, _, p, _ in HOSTS if p is not None}
    for config in ours:
        for key, routes in ours[config].items():
            if key in differing:
                assert set(routes.values()) == {"400"}
            else:
                assert routes == theirs[config][key], (config, key)


def test_table_reasons(ours: t.Any) -> None:
    # A row that differs from Pallets must say why.
    assert all(why for _, _, pallets, why in HOSTS if pallets is not None)


def test_well_formed_hosts_are_checked_once(seams: t.Any) -> None:
    # The shortcut: a host seen to be fine is not parsed again.
    import flask

    app = flask.Flask(__name__)
    app.add_url_rule("/", "index", lambda: "ok")
    client = app.test_client()
    seams.get("valid_hosts").discard("once.test:8080")
    assert client.get("/", headers={"Host": "once.test:8080"}).status_code == 200
    assert "once.test:8080" in seams.get("valid_hosts")
    for bad in ("a b", "a..b"):
        assert client.get("/", headers={"Host": bad}).status_code == 400
        assert bad not in seams.get("valid_hosts")
