"""The task-type registry: every entry names things that exist where they are used."""

import pytest

from pipeline.config import PipelineConfig, build_config
from pipeline.config.task_types import GATE_FIELDS, TASK_TYPES, by_key_metric


@pytest.mark.parametrize("name", sorted(TASK_TYPES))
def test_entry_is_complete(name):
    from models.metrics import KERAS_METRICS
    from pipeline.report.plots import FIT_PLOTS
    from pipeline.results.serving_check import SCORERS

    kind = TASK_TYPES[name]
    assert kind.name == name
    assert set(kind.keras_metrics) <= set(KERAS_METRICS)
    assert kind.key_metric_class in kind.tfma_metrics
    assert set(kind.upper_gates.values()) <= set(kind.tfma_metrics)
    assert set(kind.tfma_metric_modules) <= {*kind.tfma_metrics, *kind.tfma_per_class_metrics,
                                             *kind.tfma_macro_metrics}
    assert set(kind.gate_fields) <= set(GATE_FIELDS) <= set(PipelineConfig().tasks[0].gate.model_fields)
    assert set(kind.default_gate) <= set(kind.gate_fields)
    assert kind.output_activation in kind.output_activations
    assert kind.serving_scorer in SCORERS and kind.fit_plot in FIT_PLOTS
    assert by_key_metric(kind.key_metric) is kind


@pytest.mark.parametrize("name", sorted(TASK_TYPES))
def test_a_task_of_each_type_gets_its_defaults(name):
    kind = TASK_TYPES[name]
    tasks = [{"name": "y1", "type": name}]
    data = {"source": "csv", "path": "x.csv", "features": [{"name": "f"}]}
    task = build_config({"tasks": tasks, "data": data}).tasks[0]
    assert task.task_type is kind and task.key_metric == kind.key_metric
    assert task.output_activation == kind.output_activation
    assert {f: getattr(task.gate, f) for f in kind.default_gate} == kind.default_gate
