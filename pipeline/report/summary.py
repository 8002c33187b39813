"""The closing summary of a run: per-task metrics, gates, and what was pushed."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import tensorflow_data_validation as tfdv

from models.trainer_outputs import TRAINING_RECORD
from pipeline.results import eval_results, gate_weights, mlmd, span_data, task_weights
from pipeline.results.warm_start import warm_start_line
from pipeline.spans import has_span
from config import PipelineConfig
from config import tuning
from models.tasks import task_type


@dataclass
class TaskSummary:
    name: str
    type: str
    key_metric: str  # the metric the change gate compares (r2 or auc)
    label_variance: Optional[float]
    metrics: dict[str, float]
    failures: list[str] = field(default_factory=list)


@dataclass
class RunSummary:
    tasks: list[TaskSummary]
    eval_examples: Optional[int]
    blessed: bool
    pushed_path: Optional[str]
    push_cached: bool  # an unchanged rerun: the model was pushed by an earlier run
    serving_versions: list[str]
    gates: Optional[gate_weights.GateWeights] = None  # a gated model's mean gate weights
    task_weights: Optional[dict] = None  # learned task weights (uncertainty weighting)
    training: Optional[str] = None  # how many steps ran and why training stopped
    tuning: Optional[str] = None  # the Tuner's best hyperparameters, which the Trainer used
    warm_start: Optional[str] = None  # what the Trainer started from (training.warm_start)
    data: Optional[str] = None  # the spans read ({SPAN} inputs): newest span, window
    split: str = "test"  # the split the Evaluator scored (config.evaluation_split)

    def lines(self) -> list[str]:
        out = [self.data] if self.data else []
        out += [f"Tuning: {self.tuning}"] if self.tuning else []
        out += [f"Warm start: {self.warm_start}"] if self.warm_start else []
        out += [f"Training: {self.training}"] if self.training else []
        out.append(f"Evaluation on the {self.split} split ({self.eval_examples} examples):" if self.eval_examples
                   else f"Evaluation on the {self.split} split:")
        for t in self.tasks:
            m = t.metrics
            shown = task_type(t.type).report_columns
            parts = [f"{label} {m[key]:.4f}" for label, key in shown if key in m]
            if t.label_variance is not None:
                parts.append(f"label variance {t.label_variance:.4g}")
            if f"{t.key_metric}_diff" in m:
                parts.append(f"vs baseline {m[f'{t.key_metric}_diff']:+.4f}")
            verdict = "gate passed" if not t.failures else "gate FAILED: " + "; ".join(t.failures)
            out.append(f"  {t.name} ({t.type}): " + ", ".join(parts) + f" -> {verdict}")
        if self.task_weights is not None:
            out.append(task_weights.summary_line(self.task_weights))
        if self.gates is not None:
            out += self.gates.summary_lines()
        if self.pushed_path and self.push_cached:
            out.append(f"Blessed; unchanged since an earlier run, which pushed it to {self.pushed_path}")
        elif self.pushed_path:
            out.append(f"Blessed and pushed: {self.pushed_path}")
        else:
            reason = "the model was not blessed" if not self.blessed else "the Pusher did not push"
            kept = (f"; serving keeps {self.serving_versions[-1]}" if self.serving_versions
                    else "; nothing has been pushed yet")
            out.append(f"Not pushed: {reason}{kept}")
        return out


def _label_variances(statistics_uri: str, config: PipelineConfig, split: str) -> dict[str, float]:
    """Each label's variance on the evaluated split, so metrics can be read against it."""
    # StatisticsGen writes each split's statistics under Split-<name>/.
    stats = tfdv.load_stats_binary(str(Path(statistics_uri) / f"Split-{split}" / "FeatureStats.pb"))
    by_name = {f.path.step[0]: f for f in stats.datasets[0].features if f.path.step}
    variances = {}
    for task in config.tasks:
        feature = by_name.get(task.label)
        if feature is not None and feature.HasField("num_stats"):
            variances[task.name] = feature.num_stats.std_dev ** 2
    return variances


def _training_record(model_run_uri: str) -> Optional[str]:
    """The Trainer's own account of its run (models/trainer.py writes it)."""
    path = Path(model_run_uri) / TRAINING_RECORD
    if not path.is_file():
        return None
    return json.loads(path.read_text()).get("summary")


def _tuning_line(tuner: Optional[mlmd.NodeRun]) -> Optional[str]:
    """'best of 3 trials (eval loss 0.412): architecture mmoe, width 64, ...', from the Tuner's outputs."""
    if tuner is None:
        return None
    best = Path(tuner.output("best_hyperparameters").uri) / "best_hyperparameters.txt"
    results = Path(tuner.output("tuner_results").uri) / "tuner_results.json"
    if not best.is_file():
        return None
    values = json.loads(best.read_text()).get("values", {})
    trials = json.loads(results.read_text()) if results.is_file() else []
    scores = [t["score"] for t in trials if t.get("score") is not None]
    head = f"best of {len(trials)} trials" + (f" (eval loss {min(scores):.4g})" if scores else "")
    return f"{head}: {tuning.describe(values)}"


def serving_versions(serving_dir: Path) -> list[str]:
    if not serving_dir.is_dir():
        return []
    return sorted((p.name for p in serving_dir.iterdir() if p.is_dir() and p.name.isdigit()), key=int)


def summarize(metadata_path: Path, config: PipelineConfig, serving_dir: Path) -> RunSummary:
    store = mlmd.open_store(metadata_path)
    name = config.pipeline_name
    evaluator = mlmd.latest_node_run(store, name, "Evaluator")
    pusher = mlmd.latest_node_run(store, name, "Pusher")
    statistics = mlmd.latest_node_run(store, name, "StatisticsGen")
    trainer = mlmd.latest_node_run(store, name, "Trainer")
    if evaluator is None:
        raise RuntimeError("no finished Evaluator run in the metadata store")

    evaluation_uri = evaluator.output("evaluation").uri
    records = eval_results.load_metric_records(evaluation_uri)
    metrics = eval_results.overall_metrics(records)
    blessed, failures = eval_results.load_gate_failures(evaluation_uri)
    split = mlmd.evaluated_split(evaluator)
    variances = _label_variances(statistics.output("statistics").uri, config, split) if statistics else {}

    tasks = []
    for task in config.tasks:
        task_failures = [f.message for f in failures if f.task == task.name]
        tasks.append(TaskSummary(task.name, task.type, task.key_metric, variances.get(task.name),
                                 metrics.get(task.name, {}), task_failures))
    counts = [m.get("example_count") for m in metrics.values() if m.get("example_count")]

    pushed_path, push_cached = None, False
    if pusher is not None:
        push_cached = pusher.cached
        pushed = pusher.output("pushed_model")
        if mlmd.int_property(pushed, "pushed"):
            pushed_path = mlmd.string_property(pushed, "pushed_destination")
    model_run = mlmd.evaluated_model_run_uri(store, evaluator)
    training = _training_record(trainer.output("model_run").uri) if trainer else None
    tuned = _tuning_line(mlmd.latest_node_run(store, name, "Tuner")) if config.tuning.enabled else None
    warm = warm_start_line(store, trainer) if trainer and config.training.warm_start else None
    data = span_data.data_line(store, name, getattr(config.data, "window_spans", 1)) \
        if any(has_span(p) for p in config.data.split_patterns().values()) else None
    return RunSummary(tasks, int(counts[0]) if counts else None, blessed, pushed_path, push_cached,
                      serving_versions(serving_dir), gate_weights.load(model_run) if model_run else None,
                      task_weights.load(model_run) if model_run else None, training, tuned, warm, data, split)
