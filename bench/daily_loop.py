"""The daily loop's cost: a run adding one span to a window of three, against the first run.

    python bench/daily_loop.py [--rows 100000] [--window 3] [--repeats 1] [--train-steps N]
                               [--warm-start-max-steps N] [--workdir /tmp/daily_loop]

Rows of the synthetic generator (``components.synthetic_data.generate``, 10
inputs, 2 regression tasks) are written as one CSV per span
(``daily/span-N/rows.csv``). Run 1 reads spans 1..window (the older ones
ingested first); then span window+1 is added and run 2 reads the newest
window (older spans not read again; Transform reads run 1's analyzer cache,
the Trainer starts from run 1's model). Target: run 2 at most 0.5x run 1.
Both runs train as the configuration's defaults plan it (run 1 until early
stopping, at most ``training.max_steps``; run 2, warm-started, at most
``training.warm_start_max_steps``) unless ``--train-steps`` fixes both budgets.

Each run is timed twice: wall clock, and the CPU time of the runner process
and its children (Beam workers included), which other work on a shared
machine disturbs much less. Each repeat starts from an empty folder; the
medians are printed, with each component's time (the runner's lines) per run.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Optional

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


def write_config(root: Path, window: int, train_steps: Optional[int], warm_start_max_steps: Optional[int]) -> Path:
    import yaml

    path = root / "daily.yaml"
    # The loop as docs/daily-loop.md runs it; a budget given here replaces the defaults'.
    training = {"warm_start": True, "train_steps": train_steps, "warm_start_max_steps": warm_start_max_steps}
    path.write_text(yaml.safe_dump({
        "pipeline_name": "daily-loop",
        "data": {"source": "csv", "path": "daily/span-{SPAN}/rows.csv", "window_spans": window,
                 "features": [{"name": f"x{i}"} for i in range(INPUTS)]},
        "tasks": [{"name": "y1"}, {"name": "y2"}],
        "training": {key: value for key, value in training.items() if value is not None},
        "evaluation": {"confidence_intervals": "none"},
    }))
    return path


# The runner's line per component: "  Transform                        ran        12.1 s".
COMPONENT_LINE = re.compile(r"^  (\S+)\s+(ran|cached)\s+([0-9.]+) s$")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed_run(config: Path, output_dir: Path) -> dict:
    """One run of the runner: its wall and CPU seconds, and each component's (wall) seconds."""
    started, cpu = time.monotonic(), _children_cpu()
    run = subprocess.run([sys.executable, str(ROOT / "pipeline" / "local_runner.py"), "--config", str(config),
                          "--output-dir", str(output_dir)], cwd=ROOT, capture_output=True, text=True)
    seconds, cpu_seconds = time.monotonic() - started, _children_cpu() - cpu
    print(run.stdout, file=sys.stderr)
    if run.returncode != 0:
        raise SystemExit(f"error: the run failed (exit {run.returncode}); its output is above")
    components: dict[str, float] = {}
    for line in run.stdout.splitlines():
        match = COMPONENT_LINE.match(line)
        if match:  # the window's older spans read first are CsvExampleGen lines too: summed
            components[match[1]] = round(components.get(match[1], 0.0) + float(match[3]), 1)
    return {"wall_s": round(seconds, 1), "cpu_s": round(cpu_seconds, 1), "components_s": components}


def first_and_daily(workdir: Path, rows: int, window: int, train_steps: Optional[int],
                    warm_start_max_steps: Optional[int]) -> tuple[dict, dict]:
    """The first run on spans 1..window, then the daily run after span window+1 arrives, in ``workdir``."""
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    data = generated_table(rows, window + 1)
    for span in range(1, window + 1):
        write_span(workdir, span, rows, data)
    config = write_config(workdir, window, train_steps, warm_start_max_steps)
    first = timed_run(config, workdir / "out")
    write_span(workdir, window + 1, rows, data)
    return first, timed_run(config, workdir / "out")


def summary(pairs: list[tuple[dict, dict]], rows: int, window: int) -> dict:
    """Medians over the repeats: each run's wall and CPU seconds, the daily run's over the first's."""
    def median(values):
        return round(statistics.median(values), 3)

    result = {"rows_per_span": rows, "window_spans": window, "repeats": len(pairs)}
    for clock in ("wall_s", "cpu_s"):
        result[f"first_run_{clock}"] = median([first[clock] for first, _ in pairs])
        result[f"daily_run_{clock}"] = median([daily[clock] for _, daily in pairs])
        result[f"ratio_{clock[:-2]}"] = median([daily[clock] / first[clock] for first, daily in pairs])
    result["target"] = 0.5
    result["pairs_cpu_s"] = [[first["cpu_s"], daily["cpu_s"]] for first, daily in pairs]  # the spread
    result["first_run_components_s"] = pairs[-1][0]["components_s"]
    result["daily_run_components_s"] = pairs[-1][1]["components_s"]
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="rows per span [100000]")
    parser.add_argument("--window", type=int, default=3, help="window_spans [3]")
    parser.add_argument("--train-steps", type=int, help="both runs' budget [the defaults' plan]")
    parser.add_argument("--warm-start-max-steps", type=int,
                        help="the daily run's cap [the default training.warm_start_max_steps]")
    parser.add_argument("--repeats", type=int, default=1, help="first and daily run pairs, medians [1]")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/daily_loop"))
    args = parser.parse_args()
    pairs = [first_and_daily(args.workdir, args.rows, args.window, args.train_steps, args.warm_start_max_steps)
             for _ in range(args.repeats)]
    print(json.dumps(summary(pairs, args.rows, args.window)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
