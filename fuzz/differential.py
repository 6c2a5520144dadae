"""Differential fuzzer: this package against Pallets Flask 3.1.3.

Usage: python fuzz/differential.py [--n 2000] [--seed 1] [--time-limit 900]
       [--variants plain,hooks,...] [--transport wsgi|asgi] [--show 5]

Both implementations serve fuzz/kitchen.py in a worker process of their own
(fuzz/worker.py): ours with this interpreter, Pallets Flask with the python
of ``.cache/bench/pallets`` (built on first use, see fuzz/venvs.py). Each
seeded request (fuzz/generate.py) goes to both; the answers are compared:
status line, headers (less ``Date``; session tokens by their decoded
payload, cookie expiry dates within a few seconds) and body. Reported:
every difference not in fuzz/known.py, every exception that escapes the WSGI
callable and every 500 on either side outside the views that raise on
purpose. The exit status is 1 when any of those were found.

``--transport asgi`` sends our side's requests through ``app.asgi_app``
instead (when the app has one), comparing status codes rather than lines.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import dataclasses
import email.utils
import json
import os
import re
import subprocess
import sys
import time
import typing as t
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import generate  # noqa: E402
import known  # noqa: E402
import venvs  # noqa: E402
from itsdangerous import BadData  # noqa: E402

# Kept in step with fuzz/kitchen.py (which imports flask, so the driver,
# running in either venv, does not import it).
VARIANTS = ("plain", "hooks", "permanent", "custom_session", "subclass", "subdomains")
SECRET_KEY = "fuzz secret key"
ON_PURPOSE = "ValueError('on purpose')"  # what /raise/value-error raises
EXPIRY_SLACK = 5  # seconds between the two sides' cookie expiry dates

Answer = t.Dict[str, t.Any]


class Worker:
    """A fuzz/worker.py process, asked one request at a time."""

    def __init__(self, python: str | os.PathLike[str], name: str) -> None:
        self.name = name
        env = dict(os.environ)
        for key in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"):
            env.pop(key, None)
        env["PYTHONHASHSEED"] = "0"
        self.proc = subprocess.Popen(
            [str(python), str(HERE / "worker.py")],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            cwd=HERE, env=env, text=True, bufsize=1,
        )
        self.send({"cmd": "hello"})
        self.info = json.loads(self.receive())

    def send(self, message: dict[str, t.Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(message) + "\n")
        self.proc.stdin.flush()

    def receive(self) -> str:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            err = self.proc.stderr.read() if self.proc.stderr else ""
            raise RuntimeError(f"the {self.name} worker died:\n{err[-3000:]}")
        return line

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.send({"cmd": "quit"})
                self.proc.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()


# -- normalising answers -------------------------------------------------------

_EXPIRES = re.compile(r"(?i)(;\s*expires=)([^;]+)")


def _token_payload(token: str) -> str:
    """A session token's payload, decoded with ItsDangerous: the two sides
    sign at different instants, so the bytes differ while the data agree."""
    serializer = generate.session_serializer(SECRET_KEY)
    try:
        value = serializer.loads(token)
    except (BadData, binascii.Error, ValueError):
        return f"<undecodable {token!r}>"
    return "payload:" + json.dumps(value, sort_keys=True)


def _cookie(value: str) -> tuple[str, list[float]]:
    """A Set-Cookie value with session tokens decoded and expiry dates taken
    out (returned apart, to be compared with some slack)."""
    dates: list[float] = []

    def take(m: re.Match[str]) -> str:
        parsed = email.utils.parsedate_to_datetime(m.group(2))
        stamp = parsed.timestamp()
        if stamp > 86400:  # not the 1970 date that deletes a cookie
            dates.append(stamp)
            return m.group(1) + "<date>"
        return m.group(0)

    value = _EXPIRES.sub(take, value)
    name, _, rest = value.partition("=")
    if name == "session":
        token, sep, attrs = rest.partition(";")
        if token:
            value = f"{name}={_token_payload(token)}{sep}{attrs}"
    return value, dates


def normalise(answer: Answer, code_only: bool = False) -> tuple[t.Any, list[float]]:
    """What must be equal between the sides, and the expiry dates."""
    if "exc" in answer and answer["exc"]:
        return ("exception",), []
    headers: list[tuple[str, str]] = []
    dates: list[float] = []
    for name, value in answer["headers"]:
        lname = name.lower()
        if lname == "date":
            continue
        if lname == "set-cookie":
            value, found = _cookie(value)
            dates.extend(found)
        headers.append((lname, value))
    headers.sort(key=lambda h: h[0])  # stable: repeated headers keep order
    status = answer["status"][:3] if code_only else answer["status"]
    return (status, headers, answer["body"]), dates


def same(ours: Answer, pallets: Answer, code_only: bool) -> bool:
    a, dates_a = normalise(ours, code_only)
    b, dates_b = normalise(pallets, code_only)
    if a != b or len(dates_a) != len(dates_b):
        return False
    return all(abs(x - y) <= EXPIRY_SLACK for x, y in zip(dates_a, dates_b))


# -- a run -----------------------------------------------------------------------


@dataclasses.dataclass
class Finding:
    kind: str  # "difference", "exception", "500", or a documented id
    variant: str
    index: int
    environ: dict[str, str]
    body: bytes
    ours: Answer
    pallets: Answer

    def describe(self, limit: int = 600) -> str:
        def side(answer: Answer) -> str:
            if answer.get("exc"):
                return "EXCEPTION " + str(answer["exc"])[-limit:]
            body = base64.b64decode(answer["body"])
            text = f"{answer['status']} {answer['headers']} {body[:limit]!r}"
            if answer.get("logged"):
                text += f"\n      logged: {answer['logged'][:limit]}"
            return text

        return (
            f"[{self.kind}] variant={self.variant} #{self.index}\n"
            f"    environ: {json.dumps(self.environ)[:limit]}\n"
            f"    body: {self.body[:200]!r}{'...' if len(self.body) > 200 else ''} ({len(self.body)} bytes)\n"
            f"    ours:    {side(self.ours)}\n"
            f"    pallets: {side(self.pallets)}"
        )


@dataclasses.dataclass
class Report:
    requests: dict[str, int] = dataclasses.field(default_factory=dict)
    findings: list[Finding] = dataclasses.field(default_factory=list)
    known: dict[str, int] = dataclasses.field(default_factory=dict)
    timed_out: bool = False
    transport: str = "wsgi"
    skipped: str | None = None

    @property
    def failures(self) -> list[Finding]:
        return [f for f in self.findings if f.kind in ("difference", "exception", "500")]

    def count(self, kind: str) -> int:
        return sum(1 for f in self.findings if f.kind == kind)


def _is_500(answer: Answer) -> bool:
    return str(answer.get("status", ""))[:1] == "5"


def _on_purpose(answer: Answer) -> bool:
    """Whether a 500 is the kitchen app's view raising by design."""
    return ON_PURPOSE in (answer.get("logged") or "")


def check_one(
    report: Report, variant: str, index: int, environ: dict[str, str], body: bytes,
    ours: Answer, pallets: Answer, code_only: bool,
) -> None:
    def add(kind: str) -> None:
        report.findings.append(Finding(kind, variant, index, environ, body, ours, pallets))

    if ours.get("exc") or pallets.get("exc"):
        kind = None if ours.get("exc") else known.classify(environ, ours, pallets)
        if kind is None:
            add("exception")
        else:  # Pallets' own crash, documented
            report.known[kind] = report.known.get(kind, 0) + 1
        return
    identical = same(ours, pallets, code_only)
    kind = None
    if not identical or (_is_500(pallets) and not _on_purpose(pallets)):
        kind = known.classify(environ, ours, pallets)
        if kind is not None:
            report.known[kind] = report.known.get(kind, 0) + 1
    # A 500 is reported unless a view raised on purpose; Pallets' side is
    # let off only where the difference is documented.
    if (_is_500(ours) and not _on_purpose(ours)) or (
        kind is None and _is_500(pallets) and not _on_purpose(pallets)
    ):
        add("500")
    elif kind is None and not identical:
        add("difference")


def run(
    n: int, seed: int, variants: t.Sequence[str] = VARIANTS, time_limit: float = 900,
    transport: str = "wsgi", log: t.Callable[[str], None] = print,
) -> Report:
    """Send ``n`` requests per variant to both sides; see the module doc."""
    pallets_python = venvs.pallets_python()
    venvs.check_same_libraries(sys.executable, pallets_python)
    report = Report(transport=transport)
    ours = Worker(sys.executable, "ours")
    pallets = Worker(pallets_python, "pallets")
    deadline = time.monotonic() + time_limit
    code_only = transport == "asgi"
    try:
        if ours.info.get("implementation") != "nimble" or pallets.info.get("implementation") != "pallets":
            raise RuntimeError(f"wrong packages loaded: ours={ours.info} pallets={pallets.info}")
        for variant in variants:
            # Seeded per variant, so one variant alone replays the same requests.
            gen = generate.Generator(seed * 1000 + VARIANTS.index(variant), SECRET_KEY)
            done = 0
            for index in range(n):
                if time.monotonic() > deadline:
                    report.timed_out = True
                    break
                environ, body = gen.request(variant)
                payload = base64.b64encode(body).decode("ascii")
                ours.send({"variant": variant, "environ": environ, "body": payload, "transport": transport})
                pallets.send({"variant": variant, "environ": environ, "body": payload, "transport": "wsgi"})
                a = json.loads(ours.receive())
                b = json.loads(pallets.receive())
                if "unsupported" in a:
                    report.skipped = a["unsupported"]
                    return report
                check_one(report, variant, index, environ, body, a, b, code_only)
                done += 1
            report.requests[variant] = done
            log(f"  {variant:<15} {done:>6} requests, "
                f"{sum(1 for f in report.failures if f.variant == variant)} problems")
            if report.timed_out:
                break
    finally:
        ours.close()
        pallets.close()
    return report


def summary(report: Report, show: int = 5) -> str:
    lines = [f"transport: {report.transport}"]
    if report.skipped:
        lines.append(f"skipped: {report.skipped}")
        return "\n".join(lines)
    total = sum(report.requests.values())
    lines.append(f"requests: {total} ({', '.join(f'{v} {n}' for v, n in report.requests.items())})")
    if report.timed_out:
        lines.append("time limit reached before every request was sent")
    lines.append(
        f"differences: {report.count('difference')}, escaping exceptions: "
        f"{report.count('exception')}, 500s: {report.count('500')}"
    )
    for kind, count in sorted(report.known.items()):
        lines.append(f"documented difference {kind}: {count}")
    shown: dict[str, int] = {}
    for finding in report.failures:
        shown[finding.kind] = shown.get(finding.kind, 0) + 1
        if shown[finding.kind] <= show:
            lines.append(finding.describe())
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--n", type=int, default=2000, help="requests per variant")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--time-limit", type=float, default=900, help="seconds, for the whole run")
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--transport", choices=("wsgi", "asgi"), default="wsgi")
    ap.add_argument("--show", type=int, default=5, help="examples shown per kind")
    args = ap.parse_args(argv)
    variants = [v for v in args.variants.split(",") if v]
    unknown = sorted(set(variants) - set(VARIANTS))
    if unknown:
        ap.error(f"unknown variants {unknown}; choose from {', '.join(VARIANTS)}")
    started = time.monotonic()
    print(f"fuzzing {args.n} requests per variant, seed {args.seed}, transport {args.transport}", flush=True)
    report = run(args.n, args.seed, variants, args.time_limit, args.transport,
                 log=lambda s: print(s, flush=True))
    print(summary(report, args.show))
    print(f"elapsed: {time.monotonic() - started:.1f}s")
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())
