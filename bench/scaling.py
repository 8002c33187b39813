"""Scaling: the whole local pipeline at 10k and 100k examples (1M with --with-1m), and a cached rerun.

    python bench/scaling.py [--sizes 10000 100000] [--with-1m] [--repeats 1]

Each size runs the real command (``pipeline/local_runner.py``) into a fresh
output dir, as a user would. Per component: its seconds (the runner's own
lines). Per run: wall seconds, CPU seconds of all its processes (CPU/wall
above 1 means more than one core was used), and the peak RSS of its largest
process. Across sizes: a least-squares line, seconds = fixed + slope x
examples. Then the smallest size is run again unchanged: the cached rerun's
wall time against the first run's (same command, same process tree).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common  # noqa: E402

# Runs the command in a child and reports the child's resource use (it and its descendants).
_MEASURE = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
proc = subprocess.run(sys.argv[1:], capture_output=True, text=True)
wall = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"returncode": proc.returncode, "stdout": proc.stdout, "stderr": proc.stderr[-3000:],
                  "wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "max_rss_mb": usage.ru_maxrss / 1024}))
"""
_LINE = re.compile(r"^\s+(\S+)\s+(ran|cached)\s+([\d.]+) s$")


def measured_run(output_dir: Path, *args: str) -> dict:
    command = [sys.executable, str(common.REPO / "pipeline" / "local_runner.py"), "--output-dir", str(output_dir),
               *args]
    proc = subprocess.run([sys.executable, "-c", _MEASURE, *command], capture_output=True, text=True,
                          cwd=common.REPO)
    result = json.loads(proc.stdout)
    if result["returncode"] != 0:
        raise SystemExit(f"run failed: {' '.join(command)}\n{result['stdout']}\n{result['stderr']}")
    result["components"] = {m.group(1): float(m.group(3)) for m in map(_LINE.match, result["stdout"].splitlines())
                            if m}
    result["cached"] = [m.group(1) for m in map(_LINE.match, result["stdout"].splitlines())
                        if m and m.group(2) == "cached"]
    return result


def fit_line(xs: list[float], ys: list[float]) -> tuple[float, float]:
    """(fixed, slope) of the least-squares line y = fixed + slope * x."""
    import numpy as np

    slope, fixed = np.polyfit(np.asarray(xs, float), np.asarray(ys, float), 1)
    return float(fixed), float(slope)


def main(argv=None) -> dict:
    parser = common.base_parser(__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--with-1m", action="store_true", help="also run 1,000,000 examples (about 10 min)")
    parser.set_defaults(repeats=1)
    args = parser.parse_args(argv)
    sizes = sorted(set(args.sizes + ([1_000_000] if args.with_1m else [])))
    runs = {}
    for n in sizes:
        walls = []
        for i in range(args.repeats):
            out = args.work_dir / f"scaling-{n}-{i}"
            shutil.rmtree(out, ignore_errors=True)
            print(f"running {n:,} examples into {out} ...", flush=True)
            walls.append(measured_run(out, "--num-examples", str(n), "--seed", "7"))
        runs[n] = min(walls, key=lambda r: r["wall"]) if args.repeats > 1 else walls[0]
        runs[n]["all_walls"] = [r["wall"] for r in walls]

    first = runs[sizes[0]]
    rerun = measured_run(args.work_dir / f"scaling-{sizes[0]}-0", "--num-examples", str(sizes[0]), "--seed", "7")
    components = sorted({c for r in runs.values() for c in r["components"]},
                        key=lambda c: list(runs[sizes[-1]]["components"]).index(c)
                        if c in runs[sizes[-1]]["components"] else 99)
    rows = [[c, *[runs[n]["components"].get(c, 0.0) for n in sizes]] for c in components]
    rows += [["whole run (wall)", *[runs[n]["wall"] for n in sizes]],
             ["CPU s / wall s", *[runs[n]["cpu"] / runs[n]["wall"] for n in sizes]],
             ["peak RSS, MB", *[runs[n]["max_rss_mb"] for n in sizes]]]
    common.print_table(f"Scaling: seconds per component ({args.repeats} run(s) per size)",
                       ["component", *[f"{n:,}" for n in sizes]], rows)
    result = {"sizes": sizes, "runs": {str(n): {k: v for k, v in r.items() if k not in ("stdout", "stderr")}
                                       for n, r in runs.items()}}
    if len(sizes) >= 2:
        fixed, slope = fit_line(sizes, [runs[n]["wall"] for n in sizes])
        result.update(fixed_seconds=fixed, seconds_per_million=slope * 1e6)
        per_component = {c: fit_line(sizes, [runs[n]["components"].get(c, 0.0) for n in sizes]) for c in components}
        result["per_component_fixed_and_per_million"] = {c: [f, s * 1e6] for c, (f, s) in per_component.items()}
        common.print_table("Fit: seconds = fixed + slope x examples",
                           ["what", "fixed s", "s per 1M examples"],
                           [["whole run", fixed, slope * 1e6],
                            *[[c, f, s * 1e6] for c, (f, s) in per_component.items()]])
    result["cached_rerun"] = {"first_wall": first["wall"], "rerun_wall": rerun["wall"],
                              "ratio": rerun["wall"] / first["wall"], "cached_components": rerun["cached"],
                              "target_ratio": 0.2}
    common.print_table(f"Cached rerun at {sizes[0]:,} examples (same command again)",
                       ["what", "wall s", "vs first run"],
                       [["first run", first["wall"], 1.0], ["unchanged rerun", rerun["wall"],
                                                            rerun["wall"] / first["wall"]]])
    common.write_json(args.work_dir, "scaling", result)
    return result


if __name__ == "__main__":
    main()
