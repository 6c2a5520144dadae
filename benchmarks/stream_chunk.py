"""Per-chunk cost of ``stream_with_context`` over a bare iterator.

``python benchmarks/stream_chunk.py`` with any ``flask`` on the path (this
package, or Pallets Flask in its own venv), to compare the two; not part
of `make bench` and not a test threshold.
"""

from __future__ import annotations

import timeit

import flask

N = 200_000
app = flask.Flask(__name__)


def wrapped() -> None:
    with app.test_request_context():
        stream = flask.stream_with_context(iter(range(N)))  # type: ignore[arg-type]
    for _ in stream:
        pass


def bare() -> None:
    for _ in iter(range(N)):
        pass


if __name__ == "__main__":
    best = min(timeit.repeat(wrapped, number=1, repeat=7))
    base = min(timeit.repeat(bare, number=1, repeat=7))
    print(f"{flask.__file__}: {(best - base) / N * 1e9:.0f} ns per chunk over a bare iterator")
