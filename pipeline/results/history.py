"""The last N models this pipeline evaluated, from ML Metadata: key metric, blessed, pushed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from ml_metadata import metadata_store

from pipeline.results import eval_results, mlmd
from pipeline.results.span_data import trained_spans


@dataclass
class EvaluatedModel:
    run_name: str  # the pipeline run whose Evaluator evaluated it
    execution_id: int  # that Evaluator execution
    model_id: int  # the Trainer's Model artifact
    evaluation_uri: str
    blessed: bool
    pushed: bool  # a Pusher pushed this model (in this run or a later cached one)
    key_metrics: dict[str, float] = field(default_factory=dict)  # task -> overall key metric
    spans: str = ""  # the spans it was trained on ({SPAN} inputs), e.g. "spans 3-5"


def evaluated_models(store: metadata_store.MetadataStore, pipeline_name: str, limit: int,
                     up_to_execution_id: Optional[int] = None) -> list[EvaluatedModel]:
    """The last ``limit`` distinct evaluations of the pipeline, oldest first.

    Only Evaluator executions up to ``up_to_execution_id`` (the reported one)
    count; a cached execution repeats an earlier evaluation and is counted once.
    """
    pushed_models = set()
    for pusher in mlmd.finished_node_runs(store, pipeline_name, "Pusher"):
        if "pushed_model" in pusher.outputs and mlmd.int_property(pusher.output("pushed_model"), "pushed"):
            pushed_models.update(m.id for m in pusher.inputs.get("model", []))
    models, seen = [], set()
    for run in mlmd.finished_node_runs(store, pipeline_name, "Evaluator"):
        if "evaluation" not in run.outputs or "model" not in run.inputs:
            continue
        if up_to_execution_id is not None and run.execution.id > up_to_execution_id:
            break
        evaluation = run.output("evaluation")
        if evaluation.id in seen:
            continue
        seen.add(evaluation.id)
        model = run.inputs["model"][0]
        blessing = run.outputs.get("blessing")
        models.append(EvaluatedModel(
            mlmd.run_name(store, run.execution), run.execution.id, model.id, evaluation.uri,
            bool(blessing and mlmd.int_property(blessing[0], "blessed")), model.id in pushed_models))
    models = models[-limit:] if limit > 0 else []
    spans = trained_spans(store, [m.model_id for m in models]) if models else {}
    for model in models:
        model.spans = spans.get(model.model_id, "")
    return models


def with_key_metrics(models: list[EvaluatedModel], key_metrics: dict[str, str]) -> list[EvaluatedModel]:
    """Fills each model's overall key metric per task (``key_metrics``: task -> TFMA metric name)."""
    for model in models:
        overall = eval_results.overall_metrics(eval_results.load_metric_records(model.evaluation_uri))
        model.key_metrics = {task: overall[task][metric] for task, metric in key_metrics.items()
                             if metric in overall.get(task, {})}
    return models
