"""The Pallets Flask 3.1.3 virtualenv the fuzzer compares against.

It is the one ``make bench`` uses (``.cache/bench/pallets``), built by
``benchmarks/run.py`` with the same pinned Werkzeug, Jinja, MarkupSafe,
ItsDangerous, Click and Blinker, so the two sides differ by the flask
package only. Built on first use (PyPI is needed once).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = ROOT / "benchmarks"
CACHE = ROOT / ".cache" / "bench"

# Libraries both sides must share for a difference to be the flask package's.
SHARED = ("werkzeug", "jinja2", "markupsafe", "itsdangerous", "blinker")


class VenvError(RuntimeError):
    """The Pallets venv could not be built or does not match ours."""


def pallets_python() -> Path:
    """Path of the Pallets venv's python, building the venv if needed."""
    if str(BENCHMARKS) not in sys.path:
        sys.path.insert(0, str(BENCHMARKS))
    import run as bench_run  # type: ignore[import-not-found]  # benchmarks/run.py

    CACHE.mkdir(parents=True, exist_ok=True)
    error = bench_run.ensure_venv("pallets")
    if error:
        raise VenvError(f"cannot build the Pallets Flask venv:\n{error}")
    return Path(bench_run.venv_python("pallets"))


def versions(python: Path | str) -> dict[str, str]:
    """Versions of flask and the shared libraries as ``python`` sees them."""
    code = (
        "import json, importlib.metadata as m\n"
        f"names = {['flask', *SHARED]!r}\n"
        "print(json.dumps({n: m.version(n) for n in names}))\n"
    )
    out = subprocess.run(
        [str(python), "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    return dict(json.loads(out.stdout))


def check_same_libraries(ours: Path | str, pallets: Path | str) -> None:
    """Raise unless both interpreters load the same library versions."""
    a, b = versions(ours), versions(pallets)
    wrong = [f"{n}: {a[n]} here, {b[n]} in Pallets' venv" for n in SHARED if a[n] != b[n]]
    if wrong:
        raise VenvError("library versions differ:\n  " + "\n  ".join(wrong))
