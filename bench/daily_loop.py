"""The daily loop's cost: a run adding one span to a window of three, against the first run.

    python bench/daily_loop.py [--rows 100000] [--window 3] [--train-steps 1000] [--workdir /tmp/daily_loop]

Rows of the synthetic generator (``components.synthetic_data.generate``, 10
inputs, 2 regression tasks) are written as one CSV per span
(``daily/span-N/rows.csv``). Run 1 reads spans 1..window (the older ones
ingested first); then span window+1 is added and run 2 reads the newest
window (older spans not read again). Target: run 2 at most 0.5x run 1.
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INPUTS = 10
SEED = 7


def generated_table(rows: int, spans: int):
    """One generated table for every span (the same tasks every day, new examples in each span)."""
    sys.path.insert(0, str(ROOT))
    from components.synthetic_data import generate

    return generate(rows * spans, example_dim=INPUTS, seed=SEED)


def write_span(root: Path, span: int, rows: int, data) -> None:
    """Span N: rows (N-1)*rows .. N*rows of ``data``, as daily/span-N/rows.csv."""
    folder = root / "daily" / f"span-{span}"
    folder.mkdir(parents=True, exist_ok=True)
    part = slice((span - 1) * rows, span * rows)
    with open(folder / "rows.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow([f"x{i}" for i in range(INPUTS)] + ["y1", "y2"])
        for x, y in zip(data.inputs[part], data.labels[part]):
            writer.writerow([f"{v:.6g}" for v in (*x, *y)])


def write_config(root: Path, window: int, train_steps: int) -> Path:
    import yaml

    path = root / "daily.yaml"
    path.write_text(yaml.safe_dump({
        "pipeline_name": "daily-loop",
        "data": {"source": "csv", "path": "daily/span-{SPAN}/rows.csv", "window_spans": window,
                 "features": [{"name": f"x{i}"} for i in range(INPUTS)]},
        "tasks": [{"name": "y1"}, {"name": "y2"}],
        "training": {"train_steps": train_steps, "warm_start": True},  # the loop as docs/daily-loop.md runs it
        "evaluation": {"confidence_intervals": "none"},
    }))
    return path


def timed_run(config: Path, output_dir: Path) -> float:
    started = time.monotonic()
    run = subprocess.run([sys.executable, str(ROOT / "pipeline" / "local_runner.py"), "--config", str(config),
                          "--output-dir", str(output_dir)], cwd=ROOT, capture_output=True, text=True)
    seconds = time.monotonic() - started
    print(run.stdout, file=sys.stderr)
    if run.returncode != 0:
        raise SystemExit(f"error: the run failed (exit {run.returncode}); its output is above")
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="rows per span [100000]")
    parser.add_argument("--window", type=int, default=3, help="window_spans [3]")
    parser.add_argument("--train-steps", type=int, default=1000)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/daily_loop"))
    args = parser.parse_args()
    shutil.rmtree(args.workdir, ignore_errors=True)
    args.workdir.mkdir(parents=True)
    data = generated_table(args.rows, args.window + 1)
    for span in range(1, args.window + 1):
        write_span(args.workdir, span, args.rows, data)
    config = write_config(args.workdir, args.window, args.train_steps)
    first = timed_run(config, args.workdir / "out")
    write_span(args.workdir, args.window + 1, args.rows, data)
    daily = timed_run(config, args.workdir / "out")
    print(json.dumps({"rows_per_span": args.rows, "window_spans": args.window, "first_run_s": round(first, 1),
                      "daily_run_s": round(daily, 1), "ratio": round(daily / first, 3), "target": 0.5}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
