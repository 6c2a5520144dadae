"""The Pallets Flask 3.1.3 virtualenv the fuzzer compares against.

It is the one ``make bench`` uses (``.cache/bench/pallets``), built by
``benchmarks/run.py`` with the same pinned Werkzeug, Jinja, MarkupSafe,
ItsDangerous, Click and Blinker, so the two sides differ by the flask
package only. Built on first use (PyPI is needed once). Where the libraries
installed here are others (the dependency matrix, noxfile.py), a Pallets
venv with the same ones is built under ``.cache/fuzz/`` instead.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import shutil
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
    """Path of a Pallets venv's python with this interpreter's libraries.

    The bench venv serves when its libraries are the ones installed here;
    on another set (``make test-matrix``'s lowest versions, a main branch) a
    venv with exactly that set is built under ``.cache/fuzz/``.
    """
    bench = bench_python()
    ours = versions(sys.executable)
    if all(ours[n] == v for n, v in versions(bench).items() if n in SHARED):
        return bench
    return matched_python(ours)


def matched_python(ours: dict[str, str]) -> Path:
    """A Pallets Flask 3.1.3 venv pinned to ``ours``' shared libraries.

    A library installed here from a local path (a main branch) is installed
    there from the same path.
    """
    reqs = ["flask==3.1.3"]
    for name in SHARED:
        url = json.loads(importlib.metadata.distribution(name).read_text("direct_url.json") or "{}")
        local = url.get("url", "").removeprefix("file://")
        reqs.append(local if local and Path(local).is_dir() else f"{name}=={ours[name]}")
    vdir = ROOT / ".cache" / "fuzz" / ("pallets-" + hashlib.sha256("\0".join(reqs).encode()).hexdigest()[:12])
    python = vdir / "bin" / "python"
    if not python.exists():
        for cmd in (
            [sys.executable, "-m", "venv", str(vdir)],
            [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *reqs],
        ):
            proc = subprocess.run(cmd, capture_output=True, text=True)
            if proc.returncode != 0:
                shutil.rmtree(vdir, ignore_errors=True)
                raise VenvError(f"`{' '.join(cmd)}` failed:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    return python


def bench_python() -> Path:
    """Path of the bench's Pallets venv's python, building the venv if needed."""
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
