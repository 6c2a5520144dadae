"""Run Flask 3.1.3's own test suite against this package: the exact gate.

The suite is the outside referee, not part of this repository: it is
downloaded from PyPI as the Flask 3.1.3 sdist, cached under ``.cache/``
(git-ignored) and only ``tests/`` and the two example apps are extracted.

Every test id must pass, except those that ``scripts/compat_expected.py``
lists, with a reason, for this run's mode (``--asgi``), dependency set
(``--deps``) and warning filter (``--warnings``). Exit status is non-zero
when the ``flask`` under test is not ours, when any test fails, errors or
skips without an entry, when an entry's outcome is another one, and when an
entry now passes (unless the entry is marked ``env_dependent``): remove it.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import subprocess
import sys
import tarfile
from collections import Counter
from pathlib import Path

import ci_strict  # scripts/ is on the path: this script's own folder
from compat_expected import DEPS, EXPECTED, NON_PASSES, WARNINGS

VERSION = "3.1.3"
ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".cache" / "compat"
SDIST = CACHE / f"flask-{VERSION}.tar.gz"
TREE = CACHE / f"flask-{VERSION}"
EXTRACT = ("tests/", "examples/tutorial/", "examples/javascript/")
EXAMPLES = ("tutorial", "javascript")
SHOWN = ("werkzeug", "jinja2", "markupsafe", "itsdangerous", "click", "blinker")

PYTEST_INI = """\
[pytest]
testpaths = tests
filterwarnings =
    error
"""


def fetch() -> None:
    """Download the sdist once and extract only the suite and examples."""
    CACHE.mkdir(parents=True, exist_ok=True)
    if not SDIST.exists():
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
             "--no-binary", ":all:", f"flask=={VERSION}", "-d", str(CACHE)],
            check=True,
        )
    if not (TREE / "tests").is_dir():
        prefix = f"flask-{VERSION}/"
        with tarfile.open(SDIST) as tar:
            members = [
                m for m in tar.getmembers()
                if m.name.startswith(prefix)
                and m.name[len(prefix):].startswith(EXTRACT)
            ]
            tar.extractall(CACHE, members=members, filter="data")
    # Each run's rootdir, so that test ids are relative to it.
    (TREE / "pytest.ini").write_text(PYTEST_INI)
    for example in EXAMPLES:
        (TREE / "examples" / example / "pytest.ini").write_text(PYTEST_INI)


def check_flask_is_ours() -> None:
    out = subprocess.run(
        [sys.executable, "-c",
         "import flask, importlib.metadata as m;"
         "print(flask.__file__); print(m.version('flask'));"
         "print(getattr(flask, '__implementation__', 'pallets'))"],
        capture_output=True, text=True, cwd=CACHE, check=True,
    ).stdout.split()
    path, version, impl = Path(out[0]).resolve(), out[1], out[2]
    if ROOT / "src" not in path.parents or impl != "nimble":
        sys.exit(f"compat: the flask under test is not ours: {path} ({version})")
    deps = ", ".join(f"{n} {importlib.metadata.version(n)}" for n in SHOWN)
    off = os.environ.get("FLASK_NO_SHORTCUTS", "")
    off = f", FLASK_NO_SHORTCUTS={off}" if off not in ("", "0") else ""
    print(f"compat: testing {path.parent} version {version} on {deps}{off}")


def run_pytest(cwd: Path, prefix: str, args: argparse.Namespace) -> dict[str, str]:
    """Run the suite in ``cwd``; each test id (``prefix`` + nodeid) and its outcome."""
    report = CACHE / f"outcomes-{cwd.name}.json"
    report.unlink(missing_ok=True)
    env = dict(os.environ, COMPAT_REPORT=str(report))
    if args.asgi:
        # Every test client in the run sends its requests through
        # app.asgi_app (flask.testing); docs/asgi.md lists what differs.
        env["FLASK_TEST_ASGI"] = "1"
    # The reporting plugin, and an example's own package.
    paths = [str(ROOT / "scripts"), *([str(cwd)] if prefix else [])]
    env["PYTHONPATH"] = os.pathsep.join([*paths, *filter(None, [env.get("PYTHONPATH")])])
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-c", "pytest.ini", "-p", "no:cacheprovider",
         "-p", "compat_report", "--continue-on-collection-errors",
         *(["-W", "default"] if args.warnings == "default" else [])],
        cwd=cwd, env=env, stdout=None if args.verbose else subprocess.DEVNULL,
    )
    whole_run = prefix.rstrip("/") or "tests"
    if not report.exists():  # pytest could not even start
        return {whole_run: "error"}
    data = json.loads(report.read_text())
    results = {prefix + nodeid: outcome for nodeid, outcome in data["outcomes"].items()}
    for nodeid, reason in data["skips"].items():  # one skip list for all of make test
        ci_strict.record_skip(f"compat{' (ASGI)' if args.asgi else ''} {prefix}{nodeid}", reason)
    if proc.returncode not in (0, 1):  # interrupted, or no tests: some never ran
        results[whole_run] = "error"
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true")
    parser.add_argument(
        "--asgi", action="store_true",
        help="run every test client through the ASGI entry point",
    )
    parser.add_argument(
        "--deps", choices=sorted(DEPS), default="latest",
        help="the dependency set installed, for its expected non-passes",
    )
    parser.add_argument(
        "--warnings", choices=sorted(WARNINGS), default="error",
        help="'default' overrides the suite's filterwarnings = error",
    )
    args = parser.parse_args()
    mode = "asgi" if args.asgi else "wsgi"
    run = f"{mode}, deps={args.deps}, warnings={args.warnings}"
    fetch()
    check_flask_is_ours()
    results = run_pytest(TREE, "", args)
    for name in EXAMPLES:
        results.update(run_pytest(TREE / "examples" / name, f"examples/{name}/", args))

    applicable = [e for e in EXPECTED if e.applies(mode, args.deps, args.warnings)]
    expected = {e.nodeid: e for e in applicable}
    if len(expected) != len(applicable):
        sys.exit("compat: scripts/compat_expected.py lists a test id twice for this run")
    bad = listed = 0
    for nodeid, outcome in sorted(results.items()):
        entry = expected.get(nodeid)
        if outcome not in NON_PASSES or (entry and entry.outcome == outcome):
            continue
        bad += 1
        wanted = f" (listed as {entry.outcome})" if entry else ""
        print(f"compat: UNEXPECTED {outcome}{wanted}: {nodeid}")
    for nodeid, entry in sorted(expected.items()):
        outcome = results.get(nodeid, "not run")
        if outcome == entry.outcome:
            listed += 1
            if args.verbose:
                print(f"compat: expected {outcome}: {nodeid}: {entry.reason}")
        elif outcome not in NON_PASSES:
            bad += not entry.env_dependent
            note = "environment-dependent" if entry.env_dependent else "remove the entry"
            print(f"compat: LISTED BUT {outcome.upper()} ({note}): {nodeid}")

    total = Counter(results.values())
    counts = ", ".join(f"{n} {k}" for k, n in sorted(total.items()))
    print(f"compat ({run}): {counts}; {listed} as listed in scripts/compat_expected.py")
    if bad:
        print(f"compat: {bad} result(s) differ from scripts/compat_expected.py")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
