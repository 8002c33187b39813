"""The quality benchmark: the pipeline with default settings against scikit-learn, per task.

    .venv/bin/python bench/quality.py [--output-dir outputs/bench-quality] [--datasets diabetes,penguins]
        [--seeds 7,8,9] [--set model.numeric_embedding=periodic ...]
    make bench-quality

On each dataset (see bench/quality_datasets.py) every model is scored on the
same held-out rows (the dataset's ``eval`` part, the pipeline's test split)
and learns from the rest: the pipeline fits on 7/8 of them and stops early on
the other 1/8 (its eval split), scikit-learn fits on all of them. The
pipeline runs for real (the local runner, every component) on a plain
configuration: the features and the tasks, nothing tuned (no learning rate,
step count or layer size); its scores are the Evaluator's metrics on the test
split, which no training decision saw. The references, per task, are
scikit-learn's HistGradientBoosting{Regressor,Classifier} and a linear
(LinearRegression) or logistic (LogisticRegression) model on standardized
inputs with one-hot categories.

Each seed (``--seeds``) is one pipeline run with ``training.seed`` set to it
(the data and the split stay the same; after the first seed only the Trainer
and what follows it run again, the rest is cached) and one gradient-boosting
fit with ``random_state`` set to it. ``--reuse-runs`` scores the run already
in a table's folder instead, for one seed only, and only if that run was
trained with the very configuration this invocation would run. The table shows the mean over seeds and
the spread (lowest to highest). The pipeline's configuration also turns the
Evaluator's confidence intervals off: they change no metric value, only the
time the Evaluator takes.

The target: per task, the pipeline's mean is within 0.02 R² (regression) or
0.01 AUC (binary) or accuracy (multiclass) of the better scikit-learn mean,
or ahead of it. It prints a table of this invocation's runs only and writes it
as JSON (``<output-dir>/quality.json``), with each run's configuration (the
``--set`` values included).

The synthetic default is the pipeline's default run (no configuration at
all); the scikit-learn models are then fitted on the very examples its
ExampleGen wrote into train and eval, and scored on its test split.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Optional

import numpy as np
import pandas as pd
import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import quality_datasets as qd  # noqa: E402

from models.tasks import CALIBRATION, TASK_TYPES  # noqa: E402


@dataclass(frozen=True)
class Score:
    """How a task type is scored: the Evaluator's metric key, the scikit-learn scorer, the margin."""

    metric: str
    label: str
    tolerance: float
    score: Callable[[np.ndarray, np.ndarray], float]  # (labels, predictions) -> value


# The margin by which the pipeline may trail the better reference on a key metric (R² moves more).
TOLERANCES = {"r2": 0.02}


def _score(kind) -> Score:
    """A task type's key metric, its shown name and its scorer (the served-model check's)."""
    return Score(kind.key_metric, kind.metric_label(kind.key_metric), TOLERANCES.get(kind.key_metric, 0.01),
                 kind.score)


SCORES = {name: _score(kind) for name, kind in TASK_TYPES.items()}


@dataclass
class TaskResult:
    dataset: str
    task: str
    type: str
    metric: str
    pipeline: Optional[float]  # the mean over seeds
    hist_gradient_boosting: float
    linear: float
    gap: Optional[float]  # pipeline minus the better scikit-learn model (means)
    target_met: bool
    # One value per seed (the linear model has no seed).
    pipeline_seeds: list = field(default_factory=list)
    hist_gradient_boosting_seeds: list = field(default_factory=list)
    seeds: list = field(default_factory=list)


# --- scikit-learn references -------------------------------------------------

def sklearn_scores(train: pd.DataFrame, evaluation: pd.DataFrame, numeric: list[str],
                   categorical: list[str], y_train: np.ndarray, y_eval: np.ndarray,
                   task_type: str, seed: int = 0,
                   which: tuple[str, ...] = ("hist_gradient_boosting", "linear")) -> dict[str, float]:
    """HistGradientBoosting (``random_state=seed``) and a linear/logistic model (``which`` of them),
    fitted on ``train``, scored on ``evaluation`` (the held-out rows)."""
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LinearRegression, LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

    columns = numeric + categorical
    kind = TASK_TYPES[task_type]
    # A type whose fit is shown as calibration predicts probabilities: scikit-learn's classifiers.
    probabilities = kind.fit_plot == CALIBRATION
    # Gradient boosting: numeric as they are, categories as ordinal codes it treats as categories.
    trees_in = ColumnTransformer([("num", "passthrough", numeric)] + (
        [("cat", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1), categorical)]
        if categorical else []))
    is_category = [False] * len(numeric) + [True] * len(categorical)
    trees_cls = HistGradientBoostingClassifier if probabilities else HistGradientBoostingRegressor
    trees = make_pipeline(trees_in, trees_cls(random_state=seed, categorical_features=is_category))
    linear_in = ColumnTransformer(
        [("num", make_pipeline(SimpleImputer(), StandardScaler()), numeric)]
        + ([("cat", OneHotEncoder(handle_unknown="ignore"), categorical)] if categorical else []))
    linear = make_pipeline(linear_in, LogisticRegression(max_iter=5000) if probabilities else LinearRegression())
    result = {}
    for name, model in (("hist_gradient_boosting", trees), ("linear", linear)):
        if name not in which:
            continue
        model.fit(train[columns], y_train)
        if probabilities:
            # As the type serves them: its outputs are the last output_size class probabilities
            # (a binary task's one is P(1)), its labels class indices.
            classes = model.classes_
            served = model.predict_proba(evaluation[columns])[:, -kind.output_size(classes):]
            labels = np.searchsorted(classes, y_eval)
            result[name] = kind.score(labels, served[:, 0] if served.shape[1] == 1 else served)
        else:
            result[name] = kind.score(np.asarray(y_eval, float), model.predict(evaluation[columns]))
    return result


def task_labels(table: pd.DataFrame, task: qd.BenchTask) -> np.ndarray:
    """The task's labels: as its type encodes them (0/1 for a binary task), class names for a
    type with class outputs (the references and the pipeline take the names)."""
    kind = TASK_TYPES[task.type]
    if kind.class_outputs:
        return table[task.name].astype(str).to_numpy()
    positive = [task.positive] if task.positive is not None else []
    return np.array([kind.encode_label(str(v).strip(), positive) for v in table[task.name]], dtype=float)


# --- the pipeline -------------------------------------------------------------

def plain_config(dataset: qd.BenchDataset, seed: int) -> dict:
    """Features and tasks only (and the seed): everything else is the pipeline's default,
    but for the Evaluator's confidence intervals, which change no metric value."""
    features = [{"name": c} for c in dataset.numeric] + \
        [{"name": c, "type": "categorical"} for c in dataset.categorical]
    tasks = []
    for task in dataset.tasks:
        entry = {"name": task.name, "type": task.type}
        if task.positive is not None:
            entry["positive"] = task.positive
        tasks.append(entry)
    return merged({"pipeline_name": f"bench-{dataset.name.replace('_', '-')}",
            "data": {"source": "csv", "split": {"train": "train.csv", "eval": "eval.csv", "test": "test.csv"},
                     "features": features},
            "tasks": tasks,
            "training": {"seed": seed},
            "evaluation": {"confidence_intervals": "none"}}, OVERRIDES)


# --set KEY=VALUE: configuration values added to every table's plain configuration (a lever
# under test), e.g. model.numeric_embedding=periodic; the value is read as YAML.
OVERRIDES: dict = {}


def parse_override(text: str) -> dict:
    """'training.learning_rate=0.003' -> {'training': {'learning_rate': 0.003}}."""
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise ValueError(f"--set: give KEY=VALUE, e.g. model.numeric_embedding=periodic; got {text!r}")
    nested: dict = {}
    leaf = nested
    *parents, last = key.split(".")
    for part in parents:
        leaf = leaf.setdefault(part, {})
    leaf[last] = yaml.safe_load(value)
    return nested


def merged(base: dict, extra: dict) -> dict:
    out = dict(base)
    for key, value in extra.items():
        out[key] = merged(out.get(key, {}), value) if isinstance(value, dict) else value
    return out


REUSE_RUNS = False  # --reuse-runs: read the pipeline runs already in the output dir (one seed)
# The share of a table's training rows the pipeline stops early on (its eval split).
EARLY_STOPPING_FRACTION = 1 / 8


def pipeline_splits(dataset: qd.BenchDataset) -> dict[str, pd.DataFrame]:
    """The pipeline's train, eval (early stopping) and test (scored) rows: test is the dataset's
    held-out ``eval`` part, which every model is scored on; train and eval divide the rest."""
    train, stop = qd.split(dataset.train, eval_fraction=EARLY_STOPPING_FRACTION)
    return {"train": train, "eval": stop, "test": dataset.eval}


def reused_run_problem(output_dir: Path, config: dict) -> Optional[str]:
    """Why the run in ``output_dir`` cannot stand for a run of ``config`` (None: it can)."""
    from config import build_config
    from pipeline.results.run_config import recorded_config

    wanted = build_config(config, base_dir=str(output_dir.parent / "data")).model_dump(mode="json")
    recorded = recorded_config(output_dir).model_dump(mode="json")
    # The recorded configuration has the data's decisions made (transforms, classes): compare the rest.
    differs = sorted(k for k in wanted if k != "data" and k != "tasks" and wanted[k] != recorded.get(k))
    if differs:
        return f"{output_dir} holds a run with other {', '.join(differs)} settings; run without --reuse-runs"
    return None


def run_pipeline(output_dir: Path, config_path: Optional[Path], fresh: bool = True,
                 config: Optional[dict] = None) -> tuple[Optional[float], list[str]]:
    """Runs the real local runner; (seconds, its terminal lines). ``fresh``: start from an empty
    output dir; otherwise reuse its cache (a later seed reruns only what the seed changes).
    With --reuse-runs, a finished run of the same ``config`` there is read instead."""
    if REUSE_RUNS and (output_dir / "metadata.sqlite").is_file():
        problem = reused_run_problem(output_dir, config or {})
        if problem:
            raise RuntimeError(problem)
        return None, []
    if fresh and output_dir.exists():
        shutil.rmtree(output_dir)
    command = [sys.executable, str(REPO / "pipeline" / "local_runner.py"), "--output-dir", str(output_dir)]
    if config_path is not None:
        command += ["--config", str(config_path)]
    started = time.monotonic()
    proc = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
    seconds = time.monotonic() - started
    lines = (proc.stdout + proc.stderr).splitlines()
    if proc.returncode != 0:
        raise RuntimeError(f"pipeline run into {output_dir} failed ({proc.returncode}):\n" + "\n".join(lines[-20:]))
    return seconds, lines


def pipeline_metrics(output_dir: Path, pipeline_name: str) -> dict[str, dict[str, float]]:
    """task -> metric -> value on the split the Evaluator scored (test), from its output."""
    from pipeline.results import eval_results, mlmd

    store = mlmd.open_store(output_dir / "metadata.sqlite")
    evaluator = mlmd.latest_node_run(store, pipeline_name, "Evaluator")
    records = eval_results.load_metric_records(evaluator.output("evaluation").uri)
    return eval_results.overall_metrics(records)


def _mean(values: list) -> Optional[float]:
    known = [v for v in values if v is not None and not np.isnan(v)]
    return float(np.mean(known)) if known and len(known) == len(values) else None


def compare(dataset: str, task: str, task_type: str, seeds: list[int], pipeline_values: list,
            references: list[dict[str, float]]) -> TaskResult:
    """One task over seeds: ``pipeline_values`` and ``references`` hold one entry per seed."""
    score = SCORES[task_type]
    pipeline_value = _mean(pipeline_values)
    trees = [r["hist_gradient_boosting"] for r in references]
    linear = float(np.mean([r["linear"] for r in references]))
    best = max(float(np.mean(trees)), linear)
    gap = None if pipeline_value is None else pipeline_value - best
    return TaskResult(dataset, task, task_type, score.metric, pipeline_value, float(np.mean(trees)), linear,
                      # (1e-9: a gap of exactly the tolerance, give or take float rounding, is met)
                      gap, gap is not None and gap >= -score.tolerance - 1e-9,
                      pipeline_seeds=list(pipeline_values), hist_gradient_boosting_seeds=trees, seeds=list(seeds))


def bench_table(dataset: qd.BenchDataset, work: Path, seeds: list[int]) -> tuple[list[TaskResult], dict]:
    data_dir = work / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    splits = pipeline_splits(dataset)
    for name, rows in splits.items():
        rows.to_csv(data_dir / f"{name}.csv", index=False)
    values = {task.name: [] for task in dataset.tasks}
    references = {task.name: [] for task in dataset.tasks}
    seconds, lines, configs = [], [], []
    for i, seed in enumerate(seeds):
        config = plain_config(dataset, seed)
        configs.append(config)
        config_path = data_dir / "config.yaml"
        config_path.write_text(yaml.safe_dump(config, sort_keys=False))
        took, run_lines = run_pipeline(work / "run", config_path, fresh=i == 0, config=config)
        seconds.append(took and round(took, 1))
        lines += run_lines
        metrics = pipeline_metrics(work / "run", config["pipeline_name"])
        for task in dataset.tasks:
            values[task.name].append(metrics.get(task.name, {}).get(SCORES[task.type].metric))
            # The linear model has no seed: fitted once.
            which = ("hist_gradient_boosting", "linear") if i == 0 else ("hist_gradient_boosting",)
            scores = sklearn_scores(dataset.train, dataset.eval, dataset.numeric, dataset.categorical,
                                    task_labels(dataset.train, task), task_labels(dataset.eval, task),
                                    task.type, seed, which)
            references[task.name].append({"linear": references[task.name][0]["linear"], **scores} if i else scores)
    results = [compare(dataset.name, task.name, task.type, seeds, values[task.name], references[task.name])
               for task in dataset.tasks]
    return results, {"rows_train": len(splits["train"]), "rows_eval": len(splits["eval"]),
                     "rows_test": len(splits["test"]), "pipeline_seconds": seconds, "notes": dataset.notes,
                     "configs": configs, "run_output": lines}


def _read_split(uri: str, split: str) -> dict[str, np.ndarray]:
    import tensorflow as tf

    columns: dict[str, list] = {}
    files = sorted(str(p) for p in Path(uri, f"Split-{split}").glob("*"))
    for record in tf.data.TFRecordDataset(files, compression_type="GZIP").as_numpy_iterator():
        example = tf.train.Example.FromString(record)
        for key, feature in example.features.feature.items():
            kind = feature.WhichOneof("kind")
            columns.setdefault(key, []).append(list(getattr(feature, kind).value))
    return {k: np.asarray(v) for k, v in columns.items()}


def bench_synthetic(work: Path) -> tuple[list[TaskResult], dict]:
    """The default run; references fitted on the examples its ExampleGen wrote."""
    from pipeline.results import mlmd
    from config import PipelineConfig

    config = PipelineConfig()
    seconds, lines = run_pipeline(work / "run", None, config={})
    metrics = pipeline_metrics(work / "run", config.pipeline_name)
    store = mlmd.open_store(work / "run" / "metadata.sqlite")
    examples_uri = mlmd.latest_node_run(store, config.pipeline_name, "SyntheticExampleGen") \
        .output("examples").uri
    # scikit-learn learns from every example the pipeline learned from (train and eval); all are scored on test.
    fit, stop = _read_split(examples_uri, "train"), _read_split(examples_uri, "eval")
    train = {k: np.concatenate([fit[k], stop[k]]) for k in fit}
    evaluation = _read_split(examples_uri, config.evaluation_split)
    frames = [pd.DataFrame(split["x"], columns=[f"x{i}" for i in range(split["x"].shape[1])])
              for split in (train, evaluation)]
    numeric = list(frames[0].columns)
    results = []
    for task in config.tasks:
        references = sklearn_scores(frames[0], frames[1], numeric, [], train[task.label][:, 0],
                                    evaluation[task.label][:, 0], task.type)
        value = metrics.get(task.name, {}).get(SCORES[task.type].metric)
        results.append(compare(qd.SYNTHETIC, task.name, task.type, [config.training.seed], [value], [references]))
    return results, {"rows_train": len(frames[0]), "rows_test": len(frames[1]),
                     "pipeline_seconds": seconds and round(seconds, 1), "notes": "the default run, no config",
                     "configs": [{}], "run_output": lines}


# --- output ---------------------------------------------------------------------

def _fmt(value: Optional[float]) -> str:
    return "NaN" if value is None or np.isnan(value) else f"{value:.4f}"


def _spread(values: list) -> str:
    """'' for one value; ' (0.8712–0.8790)' for several."""
    known = [v for v in values if v is not None and not np.isnan(v)]
    return f" ({min(known):.4f}–{max(known):.4f})" if len(known) > 1 else ""


def table_lines(results: list[TaskResult]) -> list[str]:
    header = "| dataset | task | metric | seeds | pipeline (spread) | HistGB (spread) | linear | gap to best | target |"
    lines = [header, "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | --- |"]
    for r in results:
        score = SCORES[r.type]
        gap = "n/a" if r.gap is None else f"{r.gap:+.4f}"
        verdict = "met" if r.target_met else f"MISSED (by {-(r.gap or 0) - score.tolerance:.4f})" \
            if r.gap is not None else "MISSED (no value)"
        lines.append(f"| {r.dataset} | {r.task} | {score.label} | {len(r.seeds) or 1} | "
                     f"{_fmt(r.pipeline)}{_spread(r.pipeline_seeds)} | "
                     f"{_fmt(r.hist_gradient_boosting)}{_spread(r.hist_gradient_boosting_seeds)} | "
                     f"{_fmt(r.linear)} | {gap} | {verdict} |")
    return lines


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output-dir", type=Path, default=REPO / "outputs" / "bench-quality")
    parser.add_argument("--datasets", default=",".join(qd.ALL),
                        help=f"comma-separated, from {', '.join(qd.ALL)}, or a group: "
                             f"{', '.join(qd.GROUPS)} (the real tables) [all]")
    parser.add_argument("--seeds", default="7",
                        help="comma-separated training seeds, one pipeline run each [7, the default seed]")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="a configuration value for every table (not the synthetic default run), "
                             "e.g. model.numeric_embedding=periodic; repeatable")
    parser.add_argument("--reuse-runs", action="store_true",
                        help="score the pipeline runs already in the output dir instead of running again "
                             "(one seed; each run must have this invocation's configuration)")
    args = parser.parse_args(argv)
    global REUSE_RUNS
    REUSE_RUNS = args.reuse_runs
    names = [n for part in args.datasets.split(",") if part.strip()
             for n in qd.GROUPS.get(part.strip(), [part.strip()])]
    unknown = [n for n in names if n not in qd.ALL]
    if unknown:
        print(f"error: --datasets: unknown {', '.join(unknown)}; choose from {', '.join(qd.ALL)}", file=sys.stderr)
        return 2
    try:
        seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    except ValueError:
        print(f"error: --seeds: give whole numbers separated by commas, got {args.seeds!r}", file=sys.stderr)
        return 2
    if not seeds:
        print("error: --seeds: give at least one seed, e.g. --seeds 7,8,9", file=sys.stderr)
        return 2
    if args.reuse_runs and len(seeds) > 1:
        # A table's folder holds one run: it would be scored once per seed.
        print(f"error: --reuse-runs: a table's folder holds one run; give one seed, not {args.seeds!r}",
              file=sys.stderr)
        return 2
    global OVERRIDES
    try:
        for text in args.set:
            OVERRIDES = merged(OVERRIDES, parse_override(text))
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    args.output_dir.mkdir(parents=True, exist_ok=True)
    results, runs = [], {}
    for name in names:
        work = args.output_dir / name
        print(f"{name}: running the pipeline ...", flush=True)
        found, info = bench_synthetic(work) if name == qd.SYNTHETIC else bench_table(qd.DATASETS[name](), work, seeds)
        results += found
        runs[name] = info
        summary = [line.strip() for line in info["run_output"]
                   if line.startswith("Training") or any(f"({t})" in line for t in SCORES)]
        print(f"{name}: {info['rows_train']} train / {info.get('rows_eval', 0)} eval / {info['rows_test']} test "
              f"rows, pipeline {info['pipeline_seconds']} s" + "".join(f"\n  {s}" for s in summary), flush=True)
    # Only this invocation's runs: a table never mixes rows of other configurations or code.
    lines = table_lines(results)
    print("\n".join(lines))
    met = sum(r.target_met for r in results)
    print(f"targets met: {met} of {len(results)}")
    out = {"results": [asdict(r) for r in results], "runs": runs, "set": list(args.set), "seeds": seeds,
           "scored_split": "test", "tolerance": {t: s.tolerance for t, s in SCORES.items()}}
    (args.output_dir / "quality.json").write_text(json.dumps(out, indent=2, default=float))
    (args.output_dir / "quality.md").write_text("\n".join(lines) + "\n")
    print(f"wrote {args.output_dir / 'quality.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
