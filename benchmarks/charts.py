"""Charts for the documentation's performance page, from one `make bench` run.

``python benchmarks/charts.py [results.json]`` reads the WSGI run of the
results file (default ``docs/_static/bench/results.json``, which
benchmarks/run.py writes) and draws, with matplotlib:

- ``throughput.svg``: in-process requests/s per scenario, ours and Pallets
  Flask, plus Bottle and Falcon where they were measured;
- ``startup.svg``: start-up time (process start to first response, or the
  import-time row of older runs), ours and Pallets.

run.py calls :func:`write_charts` at the end of a run; the results file and
the SVGs are committed, so the docs show the run that BENCHMARKS.md describes.
"""

from __future__ import annotations

import json
import sys
import typing as t
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "_static" / "bench"
COLOURS = {"ours": "#2a7ab0", "pallets": "#9b9b9b", "bottle": "#d9a441", "falcon": "#6aa86a"}
LABELS = {"ours": "ours", "pallets": "Pallets Flask 3.1.3", "bottle": "Bottle", "falcon": "Falcon"}


def _median(slot: t.Mapping[str, t.Any] | None) -> float | None:
    if not slot or "median" not in slot:
        return None
    return float(slot["median"])


def throughput_series(data: t.Mapping[str, t.Any]) -> tuple[list[str], dict[str, list[float]]]:
    """Scenario names and, per participant, the median requests/s (0 where
    that participant did not serve the scenario)."""
    res = data.get("inprocess", {})
    scenarios = [s for s in res if _median(res[s].get("ours")) is not None]
    series: dict[str, list[float]] = {}
    for who in COLOURS:
        values = [_median(res[s].get(who)) or 0.0 for s in scenarios]
        if any(values):
            series[who] = values
    return scenarios, series


def startup_series(data: t.Mapping[str, t.Any]) -> tuple[str, dict[str, float]]:
    """What the start-up chart shows, and milliseconds per participant."""
    for key, title in (("startup", "process start to first response"), ("import", "python -c 'import flask'")):
        block = data.get(key) or {}
        values = {who: float(block[who]["median"]) * 1000 for who in ("ours", "pallets")
                  if isinstance(block.get(who), dict) and "median" in block[who]}
        if values:
            return title, values
    return "", {}


def write_charts(data: t.Mapping[str, t.Any], out: Path = OUT) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    # Reproducible SVGs: no timestamp, fixed ids.
    plt.rcParams["svg.hashsalt"] = "flask-nimble"
    out.mkdir(parents=True, exist_ok=True)
    written = []

    scenarios, series = throughput_series(data)
    if scenarios:
        fig, ax = plt.subplots(figsize=(9, 4.2))
        width = 0.8 / len(series)
        for i, (who, values) in enumerate(series.items()):
            xs = [x + i * width for x in range(len(scenarios))]
            ax.bar(xs, [v / 1000 for v in values], width, label=LABELS[who], color=COLOURS[who])
        ax.set_xticks([x + 0.4 - width / 2 for x in range(len(scenarios))], scenarios)
        ax.set_ylabel("thousand requests/s (in-process)")
        ax.set_title("Throughput per scenario (higher is better)")
        ax.legend(frameon=False)
        ax.spines[["top", "right"]].set_visible(False)
        fig.tight_layout()
        path = out / "throughput.svg"
        fig.savefig(path, metadata={"Date": None})
        plt.close(fig)
        written.append(path)

    title, values = startup_series(data)
    if values:
        fig, ax = plt.subplots(figsize=(6, 2.4))
        names = list(values)
        ax.barh([LABELS[n] for n in names], [values[n] for n in names],
                color=[COLOURS[n] for n in names])
        for y, n in enumerate(names):
            ax.text(values[n], y, f" {values[n]:.0f} ms", va="center")
        ax.set_xlabel(f"milliseconds: {title} (lower is better)")
        ax.spines[["top", "right"]].set_visible(False)
        fig.tight_layout()
        path = out / "startup.svg"
        fig.savefig(path, metadata={"Date": None})
        plt.close(fig)
        written.append(path)
    return written


if __name__ == "__main__":
    src = Path(sys.argv[1]) if len(sys.argv) > 1 else OUT / "results.json"
    for p in write_charts(json.loads(src.read_text())["wsgi"]):
        print(f"wrote {p.relative_to(ROOT)}")
