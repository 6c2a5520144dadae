"""Run Flask 3.1.3's own test suite against this package.

The suite is the outside referee, not part of this repository: it is
downloaded from PyPI as the Flask 3.1.3 sdist, cached under ``.cache/``
(git-ignored) and only ``tests/`` and the two example apps are extracted.

Exit status is non-zero when the ``flask`` under test is not ours, or when
any file passes fewer tests than Pallets Flask 3.1.3 itself does.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tarfile
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import ci_strict  # scripts/ is on the path: this script's own folder

VERSION = "3.1.3"
ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".cache" / "compat"
SDIST = CACHE / f"flask-{VERSION}.tar.gz"
TREE = CACHE / f"flask-{VERSION}"
EXTRACT = ("tests/", "examples/tutorial/", "examples/javascript/")

# What Pallets Flask 3.1.3 passes with Werkzeug 3.1.x is our floor per file;
# where we pass more, the floor is what we pass, so it cannot regress.
FLOOR = {
    "tests/test_basic.py": 130,
    "tests/test_appctx.py": 14,
    "tests/test_reqctx.py": 14,  # Pallets: 13 (bad Host header gives 404)
    "tests/test_config.py": 19,
    "tests/test_json.py": 31,
    "tests/test_json_tag.py": 14,
    "tests/test_request.py": 3,
    "tests/test_regression.py": 1,
    "tests/test_converters.py": 2,
    "tests/test_user_error_handler.py": 9,
    "tests/test_instance_config.py": 7,
    "tests/test_logging.py": 6,
    "tests/test_subclassing.py": 1,
    "tests/test_signals.py": 7,
    "tests/test_async.py": 8,
    "tests/test_blueprints.py": 60,
    "tests/test_views.py": 13,
    "tests/test_templating.py": 32,
    "tests/test_session_interface.py": 1,
    "tests/test_testing.py": 25,
    "tests/test_helpers.py": 35,
    "tests/test_cli.py": 58,
    "examples/tutorial": 24,
    "examples/javascript": 8,
}

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
    if (TREE / "tests").is_dir():
        return
    prefix = f"flask-{VERSION}/"
    with tarfile.open(SDIST) as tar:
        members = [
            m for m in tar.getmembers()
            if m.name.startswith(prefix)
            and m.name[len(prefix):].startswith(EXTRACT)
        ]
        tar.extractall(CACHE, members=members, filter="data")
    (TREE / "pytest.ini").write_text(PYTEST_INI)
    for example in ("tutorial", "javascript"):
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
    print(f"compat: testing {path.parent} version {version}")


def run_pytest(cwd: Path, report: Path, extra_path: Path | None) -> None:
    report.unlink(missing_ok=True)
    env = dict(os.environ)
    if ASGI:
        # Every test client in the run sends its requests through
        # app.asgi_app (flask.testing); docs/asgi.md lists what differs.
        env["FLASK_TEST_ASGI"] = "1"
    if extra_path is not None:
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(extra_path), env.get("PYTHONPATH")) if p
        )
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         f"--junitxml={report}", "-o", "junit_family=xunit1"],
        cwd=cwd, env=env, stdout=subprocess.DEVNULL if not VERBOSE else None,
    )
    if not report.exists():
        print(f"compat: pytest wrote no report in {cwd}", file=sys.stderr)


def tally(report: Path, group_by_file: bool, label: str) -> dict[str, Counter]:
    results: dict[str, Counter] = {}
    if not report.exists():  # pytest could not even collect
        return {label: Counter(failed=1)} if label else results
    for case in ET.parse(report).getroot().iter("testcase"):
        key = label
        if group_by_file:
            key = case.get("file") or case.get("classname", "?").replace(".", "/") + ".py"
        outcome = "passed"
        for child in case:
            if child.tag in ("failure", "error"):
                outcome = "failed"
            elif child.tag == "skipped":
                outcome = "skipped"
                # One list of skips for the whole make test run.
                where = key or case.get("classname", "?").replace(".", "/") + ".py"
                ci_strict.record_skip(
                    f"compat{' (ASGI)' if ASGI else ''} {where}::{case.get('name')}",
                    (child.get("message") or "").removeprefix("Skipped: "),
                )
        results.setdefault(key, Counter())[outcome] += 1
    return results


VERBOSE = False
ASGI = False


def main() -> int:
    global VERBOSE, ASGI
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true")
    parser.add_argument(
        "--asgi", action="store_true",
        help="run every test client through the ASGI entry point",
    )
    args = parser.parse_args()
    VERBOSE, ASGI = args.verbose, args.asgi
    if ASGI:
        print("compat: every test client goes through app.asgi_app")
    fetch()
    check_flask_is_ours()
    results: dict[str, Counter] = {}
    run_pytest(TREE, CACHE / "suite.xml", None)
    results.update(tally(CACHE / "suite.xml", True, ""))
    for name, _pkg in (("tutorial", "flaskr"), ("javascript", "js_example")):
        where = TREE / "examples" / name
        run_pytest(where, CACHE / f"{name}.xml", where)
        results.update(tally(CACHE / f"{name}.xml", False, f"examples/{name}"))

    short = 0
    print(f"\n{'file':40} {'passed':>7} {'failed':>7} {'skipped':>8} {'floor':>6}")
    for key in sorted(set(results) | set(FLOOR)):
        c = results.get(key, Counter())
        floor = FLOOR.get(key, 0)
        mark = "" if c["passed"] >= floor else "  BELOW FLOOR"
        short += bool(mark)
        print(f"{key:40} {c['passed']:7} {c['failed']:7} {c['skipped']:8} {floor:6}{mark}")
    total = sum((c for c in results.values()), Counter())
    print(f"compat{' (ASGI)' if ASGI else ''}: {total['passed']} passed, {total['failed']} failed, "
          f"{total['skipped']} skipped")
    if short:
        print(f"compat: {short} file(s) below Pallets Flask {VERSION}'s pass count")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
