"""Writes a readable evaluation report of a pipeline's latest Evaluator run.

    mtl-report --output-dir ./outputs

The Evaluator run is found through ML Metadata in ``<output-dir>/metadata.sqlite``.
Written under ``<output-dir>/reports/<run>/``: ``index.html`` (one self-contained
page), ``report.md`` (the same tables in Markdown) and ``metrics.json`` (one
record per task, slice and metric).
"""

from __future__ import annotations

import argparse
import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Optional

from pipeline.atomic_write import write_atomically
from pipeline.cli.command import command
from pipeline.errors import RunStateError

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
    run_contexts = [c.name for c in store.get_contexts_by_execution(run.execution.id)
                    if store.get_context_types_by_id([c.type_id])[0].name == "pipeline_run"]
    run_name = run_contexts[0] if run_contexts else f"execution-{run.execution.id}"
    run_name = re.sub(r"[^A-Za-z0-9._-]", "-", run_name)  # a portable folder name
    return EvaluatorRun(pipeline_name, run_name, run.execution.id, run.output("evaluation").uri)


@dataclass
class ReportData:
    run: EvaluatorRun
    tables: list  # report_tables.TaskTable
    blessed: bool
    has_baseline: bool
    figures: dict[str, dict[str, str]]  # task -> {"by_slice": png, "fit": png}
    fit_titles: dict[str, str]


def load_report_data(run: EvaluatorRun) -> ReportData:
    """Reads the evaluation with TFMA's loaders and draws the figures."""
    from pipeline.config.task_types import by_key_metric
    from pipeline.report import plots as report_plots
    from pipeline.report.tables import build_task_tables
    from pipeline.results import eval_results

    uri = run.evaluation_uri
    try:
        records = eval_results.load_metric_records(uri)
        blessed, failures = eval_results.load_gate_failures(uri)
        gates = eval_results.load_gates(uri)
        has_baseline = any(r.is_diff for r in records)
        baseline = eval_results.load_metric_records(uri, "baseline") if has_baseline else []
        bins = {b.task: b for b in eval_results.load_calibration_bins(uri) if b.slice == eval_results.OVERALL}
    except Exception as exc:  # a missing or unreadable evaluation: say which, in one line
        first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ReportError(f"cannot read the evaluation at {uri}: {first_line}") from None
    if not records:
        raise ReportError(f"the evaluation at {uri} holds no metrics")
    tables = build_task_tables(records, gates, failures, baseline)
    figures, fit_titles = {}, {}
    for table in tables:
        figures[table.task] = {"by_slice": report_plots.metric_by_slice(table)}
        task_bins = bins.get(table.task)
        if task_bins is not None:
            draw, title = report_plots.FIT_PLOTS[by_key_metric(table.key_metric).fit_plot]
            figures[table.task]["fit"] = draw(task_bins)
            fit_titles[table.task] = title
    return ReportData(run, tables, blessed, has_baseline, figures, fit_titles)


def render(data: ReportData) -> dict[str, str]:
    """File name -> contents of the three report files."""
    import jinja2

    from pipeline.report.tables import NAN_NOTE, format_value, metric_label, metric_rows

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)),
                             autoescape=jinja2.select_autoescape(["html.j2"]),
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["label"] = metric_label
    env.filters["num"] = format_value
    env.filters["delta"] = lambda v: "" if v is None else f"{v:+.4f}"
    context = {"data": data, "run": data.run, "tables": data.tables, "nan_note": NAN_NOTE}
    metrics = {"pipeline": data.run.pipeline_name, "run": data.run.run_name,
               "evaluator_execution_id": data.run.execution_id, "evaluation_uri": data.run.evaluation_uri,
               "blessed": data.blessed, "has_baseline": data.has_baseline,
               "gates": [dict(task=t.task, **asdict(g)) for t in data.tables for g in t.gates],
               "metrics": metric_rows(data.tables)}
    return {"index.html": env.get_template("report.html.j2").render(context),
            "report.md": env.get_template("report.md.j2").render(context),
            "metrics.json": json.dumps(metrics, indent=2) + "\n"}


def write_report(output_dir: Path, pipeline_name: Optional[str] = None) -> Path:
    """Finds the latest Evaluator run and writes its report; returns the index.html path."""
    output_dir = Path(output_dir)
    run = find_latest_evaluator_run(output_dir, pipeline_name)
    target = output_dir / REPORTS_DIR / run.run_name
    write_atomically(target, render(load_report_data(run)))
    return target / "index.html"


@command(quiet=True)
def main(argv: Optional[list[str]] = None) -> int:
    """``mtl-report``: 0 when the report is written; 1 when there is no Evaluator run to report."""
    parser = argparse.ArgumentParser(
        description="Write an HTML, Markdown and JSON report of the latest Evaluator run.")
    parser.add_argument("--output-dir", type=Path, required=True,
                        help="the pipeline's output dir (holds metadata.sqlite)")
    parser.add_argument("--pipeline-name", help="which pipeline, if the output dir holds several")
    args = parser.parse_args(argv)
    index = write_report(args.output_dir, args.pipeline_name)
    print(f"Report written: {index}")
    return 0
