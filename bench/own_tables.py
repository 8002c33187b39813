"""Own tables at scale: a binary task and a CSV table with a 5-class task, beside the synthetic default.

    python bench/own_tables.py [--synthetic-examples 1000000] [--multiclass-rows 50000] [--csv-rows 1000000]

Real runs of ``pipeline/local_runner.py``, each into a fresh output dir, one
after another in this command:

- ``data/synthetic.yaml`` (two regression tasks) at --synthetic-examples: the reference;
- ``data/synthetic_binary.yaml`` (a regression and a binary task), same size and seed;
- ``gems`` (``bench/quality_datasets.py``: a generated diamond-like table, 5
  numeric and 2 categorical columns, a price and a 5-grade cut) written as one
  CSV of --multiclass-rows rows, with a plain config as a user writes it
  (features and tasks; default split, transforms and intervals);
- the same table at --csv-rows.

Reported per run: each component's seconds (the runner's own lines), the
Evaluator's eval rows per second, wall time, CPU seconds and peak RSS (its
largest process) against the reference. CsvExampleGen is set against a ceiling
measured here: the same CSV read with pyarrow, serialized as the same
``tf.Example``s in numpy (``encoding.encode_examples``, the synthetic
ExampleGen's serializer) and written gzipped with ``TFRecordWriter``.
"""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common, quality_datasets  # noqa: E402
from bench.eval_own_data import eval_rows, run_inputs  # noqa: E402
from bench.scaling import measured_run  # noqa: E402

TARGETS = {"binary_evaluator_rows_per_s": 10_000, "binary_run_vs_synthetic": 1.25,
           "multiclass_evaluator_rows_per_s": 10_000, "csv_run_vs_synthetic": 1.5,
           "csv_example_gen_vs_ceiling": 0.3, "csv_rss_vs_synthetic": 1.3}


def write_table(rows: int, folder: Path) -> Path:
    """``gems`` at ``rows`` rows as folder/gems.csv, and its plain config; returns the config path."""
    folder.mkdir(parents=True, exist_ok=True)
    dataset = quality_datasets.gems(rows=rows)
    dataset.table.to_csv(folder / "gems.csv", index=False)
    config = {"pipeline_name": "bench-gems",
              "data": {"source": "csv", "path": "gems.csv",
                       "features": [{"name": c} for c in dataset.numeric]
                       + [{"name": c, "type": "categorical"} for c in dataset.categorical]},
              "tasks": [{"name": t.name, "type": t.type} for t in dataset.tasks]}
    (folder / "gems.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    return folder / "gems.yaml"


def csv_ceiling(csv_path: Path, numeric: list[str], text: list[str], out: Path) -> float:
    """Seconds to read the CSV with pyarrow, serialize its rows as tf.Examples in numpy and write them gzipped."""
    import pyarrow.csv as pa_csv
    import tensorflow as tf

    from components.synthetic_example_gen.encoding import encode_examples

    started = time.perf_counter()
    table = pa_csv.read_csv(csv_path)
    records = encode_examples(floats={c: table[c].to_numpy() for c in numeric},
                              strings={c: table[c].to_numpy() for c in text})
    with tf.io.TFRecordWriter(str(out), options="GZIP") as writer:
        for record in records:
            writer.write(record)
    return time.perf_counter() - started


def timed_run(name: str, out: Path, *args: str) -> dict:
    shutil.rmtree(out, ignore_errors=True)
    print(f"running {name} into {out} ...", flush=True)
    run = measured_run(out, *args)
    run["eval_rows"] = eval_rows(run_inputs(out)[2])
    run["evaluator_rows_per_s"] = run["eval_rows"] / run["components"]["Evaluator"]
    return {k: v for k, v in run.items() if k not in ("stdout", "stderr")}


def main(argv=None) -> dict:
    parser = common.base_parser(__doc__.splitlines()[0])
    parser.add_argument("--synthetic-examples", type=int, default=1_000_000)
    parser.add_argument("--multiclass-rows", type=int, default=50_000)
    parser.add_argument("--csv-rows", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    work = args.work_dir / "own-tables"
    n = str(args.synthetic_examples)

    runs = {"synthetic": timed_run("synthetic", work / "synthetic", "--config", "data/synthetic.yaml",
                                   "--num-examples", n, "--seed", "7"),
            "binary": timed_run("synthetic_binary", work / "binary", "--config", "data/synthetic_binary.yaml",
                                "--num-examples", n, "--seed", "7")}
    runs["multiclass"] = timed_run(f"gems, {args.multiclass_rows:,} rows", work / "multiclass",
                                   "--config", str(write_table(args.multiclass_rows, work / "multiclass-data")))
    csv_config = write_table(args.csv_rows, work / "csv-data")
    runs["csv"] = timed_run(f"gems, {args.csv_rows:,} rows", work / "csv", "--config", str(csv_config))
    dataset = quality_datasets.gems(rows=10)
    ceiling = csv_ceiling(csv_config.parent / "gems.csv", dataset.numeric + ["price"],
                          dataset.categorical + ["cut"], work / "ceiling.tfrecord.gz")

    reference = runs["synthetic"]
    components = list(dict.fromkeys(c for run in runs.values() for c in run["components"]))
    common.print_table("Seconds per component",
                       ["component", *runs], [[c, *[r["components"].get(c, 0.0) for r in runs.values()]]
                                              for c in components]
                       + [["Evaluator eval rows/s", *[r["evaluator_rows_per_s"] for r in runs.values()]],
                          ["whole run (wall)", *[r["wall"] for r in runs.values()]],
                          ["whole run vs synthetic", *[r["wall"] / reference["wall"] for r in runs.values()]],
                          ["CPU s / wall s", *[r["cpu"] / r["wall"] for r in runs.values()]],
                          ["peak RSS, MB", *[r["max_rss_mb"] for r in runs.values()]],
                          ["peak RSS vs synthetic", *[r["max_rss_mb"] / reference["max_rss_mb"]
                                                      for r in runs.values()]]])
    figures = {
        "binary_evaluator_rows_per_s": runs["binary"]["evaluator_rows_per_s"],
        "binary_run_vs_synthetic": runs["binary"]["wall"] / reference["wall"],
        "multiclass_evaluator_rows_per_s": runs["multiclass"]["evaluator_rows_per_s"],
        "csv_run_vs_synthetic": runs["csv"]["wall"] / reference["wall"],
        "csv_example_gen_vs_ceiling": ceiling / runs["csv"]["components"]["CsvExampleGen"],
        "csv_rss_vs_synthetic": runs["csv"]["max_rss_mb"] / reference["max_rss_mb"]}
    met = {k: (v >= TARGETS[k]) if k.endswith("rows_per_s") or k.endswith("ceiling") else (v <= TARGETS[k])
           for k, v in figures.items()}
    common.print_table("Targets", ["figure", "measured", "target", "met"],
                       [[k, v, TARGETS[k], "yes" if met[k] else "no"] for k, v in figures.items()])
    print(f"CsvExampleGen ceiling: {ceiling:.1f} s for {args.csv_rows:,} rows "
          f"(pyarrow read + numpy serialization + gzipped TFRecordWriter)")
    result = {"runs": runs, "csv_ceiling_s": ceiling, "figures": figures, "targets": TARGETS, "met": met}
    common.write_json(args.work_dir, "own_tables", result)
    return result


if __name__ == "__main__":
    main()
