"""Writes a readable evaluation report of a pipeline's latest Evaluator run.

    mtl-report --output-dir ./outputs

The Evaluator run is found through ML Metadata in ``<output-dir>/metadata.sqlite``.
Written under ``<output-dir>/reports/<run>/``: ``index.html`` (one self-contained
page), ``report.md`` (the same tables in Markdown) and ``metrics.json`` (one
record per task, slice and metric).
"""

from __future__ import annotations

import argparse
import sys
import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Optional

if __name__ == "__main__" and not __package__:
    # Run as a script (`python pipeline/report/writer.py`): start from the project root, not this
    # folder, whose modules would shadow top-level ones (see pipeline/local_runner.py).
    sys.path[0] = str(Path(__file__).resolve().parents[2])

from pipeline.atomic_write import write_atomically  # noqa: E402
from pipeline.cli.command import command  # noqa: E402
from pipeline.errors import RunStateError  # noqa: E402

REPORTS_DIR = "reports"
TEMPLATES = Path(__file__).resolve().parent / "templates"


class ReportError(RunStateError):
    """Why no report can be written, in one line."""


@dataclass
class EvaluatorRun:
    pipeline_name: str
    run_name: str  # the pipeline run that produced it, e.g. 20261127-001638.123456
    execution_id: int
    evaluation_uri: str
    metadata_path: Optional[Path] = None  # the run's ML Metadata store, for curves and history
    model_id: Optional[int] = None  # the evaluated Model artifact
    model_run_uri: Optional[str] = None  # the evaluated model's Trainer run (gate weights)
    task_types: dict[str, str] = field(default_factory=dict)  # task -> type, from the Trainer's configuration


def find_latest_evaluator_run(output_dir: Path, pipeline_name: Optional[str] = None) -> EvaluatorRun:
    """The latest finished Evaluator execution, or a ReportError saying why there is none."""
    if not output_dir.is_dir():
        raise ReportError(f"--output-dir {output_dir} does not exist or is not a directory")
    metadata_path = output_dir / "metadata.sqlite"
    if not metadata_path.is_file():  # checked first: opening the store would create it
        raise ReportError(f"{output_dir} has no metadata.sqlite: no pipeline has run there")
    from pipeline.results import mlmd  # after the cheap checks: it loads TFX

    store = mlmd.open_store(metadata_path)
    names = sorted(c.name for c in store.get_contexts_by_type("pipeline"))
    if pipeline_name is None:
        if len(names) > 1:
            raise ReportError(f"{output_dir} holds several pipelines ({', '.join(names)}); "
                              "choose one with --pipeline-name")
        if not names:
            raise ReportError(f"{output_dir} has no pipeline runs in its metadata")
        pipeline_name = names[0]
    failed = mlmd.latest_failed_execution(store, pipeline_name, "Evaluator")
    if failed is not None:
        raise ReportError(f"the latest Evaluator run (execution {failed.id}) of {pipeline_name!r} failed; "
                          f"see the run's log under {output_dir / 'logs'}")
    run = mlmd.latest_node_run(store, pipeline_name, "Evaluator")
    if run is None or "evaluation" not in run.outputs:
        raise ReportError(f"no finished Evaluator run of {pipeline_name!r} in {output_dir} "
                          "(did the pipeline stop before the Evaluator?)")
    run_name = re.sub(r"[^A-Za-z0-9._-]", "-", mlmd.run_name(store, run.execution))  # a portable folder name
    model = run.inputs.get("model")
    return EvaluatorRun(pipeline_name, run_name, run.execution.id, run.output("evaluation").uri,
                        metadata_path, model[0].id if model else None, mlmd.evaluated_model_run_uri(store, run),
                        mlmd.evaluated_task_types(store, run))


@dataclass
class ReportData:
    run: EvaluatorRun
    tables: list  # report_tables.TaskTable
    blessed: bool
    has_baseline: bool
    figures: dict[str, dict[str, str]]  # task -> {"by_slice": png, "fit": png}
    fit_titles: dict[str, str]
    interval_method: str = ""  # 'jackknife', 'poisson_bootstrap', or '' when intervals are off
    curves: Optional[object] = None  # training_logs.TrainingCurves of the evaluated model's Trainer run
    history: list = field(default_factory=list)  # history.EvaluatedModel, oldest first
    gates: Optional[object] = None  # gate_weights.GateWeights of a gated model
    gate_figures: list = field(default_factory=list)  # (expert group, heatmap png)


DEFAULT_HISTORY = 10  # evaluated models in the history


def _trainer_model_run(store, run: EvaluatorRun) -> Optional[str]:
    """The TensorBoard folder of the Trainer run that produced the evaluated model."""
    from pipeline.results import mlmd

    for trainer in reversed(mlmd.finished_node_runs(store, run.pipeline_name, "Trainer")):
        if any(m.id == run.model_id for m in trainer.outputs.get("model", [])) and "model_run" in trainer.outputs:
            return trainer.output("model_run").uri
    return None


def _curves_and_history(run: EvaluatorRun, key_metrics: dict[str, str], history: int):
    """(training curves or None, the last ``history`` evaluated models up to this one)."""
    from pipeline.results import history as model_history, mlmd, training_logs

    if run.metadata_path is None:
        return None, []
    store = mlmd.open_store(run.metadata_path)
    model_run = _trainer_model_run(store, run)
    curves = training_logs.read_training_curves(model_run, key_metrics) if model_run else None
    models = model_history.evaluated_models(store, run.pipeline_name, history, run.execution_id)
    return curves, model_history.with_key_metrics(models, key_metrics)


def load_report_data(run: EvaluatorRun, history: int = DEFAULT_HISTORY) -> ReportData:
    """Reads the evaluation with TFMA's loaders, the training logs and the history, and draws the figures."""
    from pipeline.report import plots as report_plots
    from pipeline.report.tables import build_task_tables
    from pipeline.results import eval_results, gate_weights

    uri = run.evaluation_uri
    try:
        records = eval_results.load_metric_records(uri)
        blessed, failures = eval_results.load_gate_failures(uri)
        gates = eval_results.load_gates(uri)
        method = eval_results.interval_method(uri)
        has_baseline = any(r.is_diff for r in records)
        baseline = eval_results.load_metric_records(uri, "baseline") if has_baseline else []
        bins = {b.task: b for b in eval_results.load_calibration_bins(uri) if b.slice == eval_results.OVERALL}
    except Exception as exc:  # a missing or unreadable evaluation: say which, in one line
        first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ReportError(f"cannot read the evaluation at {uri}: {first_line}") from None
    if not records:
        raise ReportError(f"the evaluation at {uri} holds no metrics")
    # The run's recorded configuration names each task's type (its key metric, metric names and
    # ranges); the report does not guess one from the metric names.
    untyped = sorted({r.task for r in records} - set(run.task_types))
    if untyped:
        raise ReportError(f"no task type recorded for {', '.join(map(repr, untyped))}: the Trainer of the "
                          f"evaluated model records no configuration naming it; rerun the pipeline to report on it")
    tables = build_task_tables(records, gates, failures, baseline, task_types=run.task_types)
    figures, fit_titles = {}, {}
    for table in tables:
        # One slice is a number in the table, not a chart.
        figures[table.task] = {"by_slice": report_plots.metric_by_slice(table)} if table.sliced else {}
        task_bins = bins.get(table.task)
        if task_bins is not None and table.task_type is not None:
            draw, title = report_plots.FIT_PLOTS[table.task_type.fit_plot]
            figures[table.task]["fit"] = draw(task_bins)
            fit_titles[table.task] = title
    gate_record = gate_weights.load(run.model_run_uri) if run.model_run_uri else None
    gate_figures = [(g.name, report_plots.gate_heatmap(g)) for g in gate_record.groups] if gate_record else []
    key_metrics = {t.task: t.key_metric for t in tables if t.key_metric}
    curves, models = _curves_and_history(run, key_metrics, history)
    for table in tables:
        label = table.label(table.key_metric)
        task_curves = curves.tasks.get(table.task) if curves else None
        if task_curves is not None and not task_curves.empty:
            figures[table.task]["curves"] = report_plots.training_curves(
                task_curves, label, curves.stopped_early, curves.best_step)
        if any(table.task in m.key_metrics for m in models):
            figures[table.task]["history"] = report_plots.key_metric_history(
                table.task, label, models, run.execution_id)
    return ReportData(run, tables, blessed, has_baseline, figures, fit_titles, method, curves, models,
                      gate_record, gate_figures)


def interval_text(row, metric: str) -> str:
    """A row's 95% interval of one metric as '[low, high]', or '' without one."""
    interval = row.interval(metric)
    return "" if interval is None else f"[{interval[0]:.4f}, {interval[1]:.4f}]"


def render(data: ReportData) -> dict[str, str]:
    """File name -> contents of the three report files."""
    import jinja2

    from pipeline.report.tables import format_value, metric_rows

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)),
                             autoescape=jinja2.select_autoescape(["html.j2"]),
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["num"] = format_value
    env.filters["delta"] = lambda v: "" if v is None else f"{v:+.4f}"
    env.filters["ci"] = interval_text
    context = {"data": data, "run": data.run, "tables": data.tables}
    metrics = {"pipeline": data.run.pipeline_name, "run": data.run.run_name,
               "evaluator_execution_id": data.run.execution_id, "evaluation_uri": data.run.evaluation_uri,
               "blessed": data.blessed, "has_baseline": data.has_baseline,
               "confidence_intervals": data.interval_method or None,
               "gates": [dict(task=t.task, **asdict(g)) for t in data.tables for g in t.gates],
               "metrics": metric_rows(data.tables),
               "history": [{"run": m.run_name, "evaluator_execution_id": m.execution_id, "model_id": m.model_id,
                            "blessed": m.blessed, "pushed": m.pushed, "key_metrics": m.key_metrics}
                           for m in data.history]}
    if data.gates is not None:
        metrics["gate_weights"] = json.loads(data.gates.to_json())
    return {"index.html": env.get_template("report.html.j2").render(context),
            "report.md": env.get_template("report.md.j2").render(context),
            "metrics.json": json.dumps(metrics, indent=2) + "\n"}


def write_report(output_dir: Path, pipeline_name: Optional[str] = None, history: int = DEFAULT_HISTORY) -> Path:
    """Finds the latest Evaluator run and writes its report; returns the index.html path."""
    output_dir = Path(output_dir)
    run = find_latest_evaluator_run(output_dir, pipeline_name)
    target = output_dir / REPORTS_DIR / run.run_name
    write_atomically(target, render(load_report_data(run, history)))
    return target / "index.html"


@command(quiet=True)
def main(argv: Optional[list[str]] = None) -> int:
    """``mtl-report``: 0 when the report is written; 1 when there is no Evaluator run to report."""
    parser = argparse.ArgumentParser(
        description="Write an HTML, Markdown and JSON report of the latest Evaluator run.")
    parser.add_argument("--output-dir", type=Path, required=True,
                        help="the pipeline's output dir (holds metadata.sqlite)")
    parser.add_argument("--pipeline-name", help="which pipeline, if the output dir holds several")
    parser.add_argument("--history", type=int, default=DEFAULT_HISTORY,
                        help=f"how many evaluated models the history shows [{DEFAULT_HISTORY}]")
    args = parser.parse_args(argv)
    if args.history < 1:
        parser.error(f"--history must be at least 1, got {args.history}")
    index = write_report(args.output_dir, args.pipeline_name, args.history)
    print(f"Report written: {index}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
