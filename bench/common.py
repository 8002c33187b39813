"""What every benchmark shares: timing with medians, the result table, a base pipeline run.

Each benchmark measures a stage against a ceiling timed in the same process
(the machines are shared and noisy, so only same-process ratios and medians
of repeats are compared), prints a table and writes its figures as JSON.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Optional

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO = Path(__file__).resolve().parent.parent
DEFAULT_WORK_DIR = REPO / "outputs" / "bench"


def base_parser(description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--work-dir", type=Path, default=DEFAULT_WORK_DIR,
                        help=f"where runs and results go [{DEFAULT_WORK_DIR.relative_to(REPO)}]")
    parser.add_argument("--repeats", type=int, default=3, help="timed repeats; the median is reported [3]")
    return parser


class Timing:
    """Wall and CPU seconds (this process, all threads) of each repeat of one measurement.

    Other jobs on a shared machine stretch wall time; CPU time much less so.
    """

    def __init__(self):
        self.wall: list[float] = []
        self.cpu: list[float] = []

    def add(self, fn: Callable[[], object]):
        wall, cpu = time.perf_counter(), time.process_time()
        value = fn()
        self.wall.append(time.perf_counter() - wall)
        self.cpu.append(time.process_time() - cpu)
        return value

    @property
    def median_wall(self) -> float:
        return median(self.wall)

    @property
    def median_cpu(self) -> float:
        return median(self.cpu)

    def as_dict(self) -> dict:
        return {"wall_seconds": self.wall, "cpu_seconds": self.cpu}


def timed(fn: Callable[[], object], repeats: int) -> Timing:
    timing = Timing()
    for _ in range(repeats):
        timing.add(fn)
    return timing


def median(values: list[float]) -> float:
    return float(statistics.median(values))


def peak_rss_mb(children: bool = False) -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF)
    return usage.ru_maxrss / 1024.0


def machine() -> dict:
    pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    return {"cores": os.cpu_count(), "memory_gib": round(pages / 2 ** 30, 1),
            "python": platform.python_version(), "load_average_at_start": os.getloadavg()[0]}


def print_table(title: str, header: list[str], rows: list[list]) -> None:
    cells = [[str(c) for c in header]] + [[_fmt(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    print(f"\n{title}")
    for n, row in enumerate(cells):
        print("  " + "  ".join(c.rjust(w) if n and i else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths))))
    sys.stdout.flush()


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def write_json(work_dir: Path, name: str, result: dict) -> Path:
    work_dir.mkdir(parents=True, exist_ok=True)
    path = work_dir / f"{name}.json"
    path.write_text(json.dumps({"benchmark": name, "machine": machine(), **result}, indent=2) + "\n")
    print(f"wrote {path}")
    return path


def run_pipeline(output_dir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """The real local runner, as a user runs it."""
    command = [sys.executable, str(REPO / "pipeline" / "local_runner.py"), "--output-dir", str(output_dir), *args]
    proc = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise SystemExit(f"pipeline run failed ({' '.join(command)}):\n{proc.stdout}\n{proc.stderr[-3000:]}")
    return proc


def latest_artifact(output_dir: Path, component: str, key: str) -> Path:
    """The newest artifact folder of a component's output (by execution id)."""
    found = glob.glob(str(output_dir / "pipeline_root" / component / key / "*"))
    if not found:
        raise SystemExit(f"no {component} {key} under {output_dir}")
    return Path(max(found, key=lambda p: int(Path(p).name)))


def base_run(work_dir: Path, num_examples: int = 10_000, config: Optional[Path] = None) -> Path:
    """A finished pipeline run (trained model, transform graph) of the default or of ``config``, made once."""
    output_dir = work_dir / (f"base-{num_examples}" if config is None else f"base-{config.stem}-{num_examples}")
    if not list((output_dir / "pipeline_root" / "Trainer" / "model").glob("*/Format-Serving")):
        print(f"training a base model: pipeline run at {num_examples:,} examples into {output_dir}")
        run_pipeline(output_dir, *(["--config", str(config)] if config else []),
                     "--num-examples", str(num_examples), "--seed", "7")
    return output_dir
