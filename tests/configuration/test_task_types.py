"""Task types: each registered type is complete, encodes labels the same in Python and in
TensorFlow, and a new type is one module (``models/tasks/count.py``, added the documented way)."""

import numpy as np
import pytest

from config import PipelineConfig, build_config
from config.task_kinds import TASK_KINDS
from models.tasks import GATE_FIELDS, TASK_TYPES, register, task_type
from models.tasks.regression import Regression


def test_the_configuration_and_the_models_know_the_same_types():
    # The configuration validates a task's type against TASK_KINDS; every type it accepts must be one
    # the models can train (TASK_TYPES), with the same facts (the type is its kind's subclass).
    assert list(TASK_KINDS) == list(TASK_TYPES) == ["regression", "binary", "multiclass", "count"]
    for name, kind in TASK_TYPES.items():
        assert TASK_KINDS[name] is kind
        assert kind.gate_fields == (kind.key_gate, *kind.upper_gates, *kind.macro_gates)


def test_a_type_whose_gates_differ_from_its_kind_is_refused():
    class Loose(Regression):
        name = "loose"
        upper_gates = {}

    with pytest.raises(ValueError, match="other_gates"):
        register(Loose)
    assert "loose" not in TASK_KINDS and "loose" not in TASK_TYPES


@pytest.mark.parametrize("name", sorted(TASK_TYPES))
def test_entry_is_complete(name):
    from pipeline.report.plots import FIT_PLOTS

    kind = TASK_TYPES[name]
    assert kind.name == name
    assert kind.key_metric_class in kind.tfma_metrics
    assert set(kind.upper_gates.values()) <= set(kind.tfma_metrics)
    assert set(kind.tfma_metric_modules) <= {*kind.tfma_metrics, *getattr(kind, "tfma_per_class_metrics", ()),
                                             *getattr(kind, "tfma_macro_metrics", ())}
    assert set(kind.gate_fields) <= set(GATE_FIELDS) <= set(PipelineConfig().tasks[0].gate.model_fields)
    assert set(kind.default_gate) <= set(kind.gate_fields)
    assert kind.output_activation in kind.output_activations
    assert kind.fit_plot in FIT_PLOTS
    assert kind.serving_metric in dict(map(reversed, kind.report_columns)) or kind.serving_metric == "accuracy"
    first, second = kind.keras_metrics(), kind.keras_metrics()
    assert [m.name for m in first] == [m.name for m in second] and not set(map(id, first)) & set(map(id, second))


@pytest.mark.parametrize("name", sorted(TASK_TYPES))
def test_a_task_of_each_type_gets_its_defaults(name):
    kind = TASK_TYPES[name]
    tasks = [{"name": "y1", "type": name}]
    data = {"source": "csv", "path": "x.csv", "features": [{"name": "f"}]}
    task = build_config({"tasks": tasks, "data": data}).tasks[0]
    assert task_type(task.type) is kind and task.kind is kind and task.key_metric == kind.key_metric
    assert task.output_activation == kind.output_activation
    assert {f: getattr(task.gate, f) for f in kind.default_gate} == kind.default_gate


# (type, positive, classes, raw label texts, what the model learns: NaN = not a label of the task)
ENCODINGS = [
    ("regression", (), (), ["2.5", "-1", "0"], [2.5, -1.0, 0.0]),
    ("binary", (), (), ["1", "0", "1.0"], [1.0, 0.0, 1.0]),
    ("binary", ("yes", "maybe"), (), ["yes", "no", "maybe"], [1.0, 0.0, 1.0]),
    ("multiclass", (), ("Adelie", "Chinstrap", "Gentoo"), ["Gentoo", "Emperor", "Adelie"], [2.0, np.nan, 0.0]),
    ("count", (), (), ["3", "0", "12.0"], [3.0, 0.0, 12.0]),
]


@pytest.mark.parametrize("name, positive, classes, texts, expected", ENCODINGS)
def test_python_and_tensorflow_encode_a_label_alike(name, positive, classes, texts, expected):
    import tensorflow as tf

    kind = TASK_TYPES[name]
    in_python = [kind.encode_label(t, positive, classes) for t in texts]
    np.testing.assert_array_equal(in_python, expected)
    present = tf.SparseTensor([[i, 0] for i in range(len(texts))], tf.constant(texts), [len(texts), 1])
    encoded = kind.encode_label_tensor(present, positive, classes)
    in_tf = np.full(len(texts), np.nan)
    in_tf[encoded.indices.numpy()[:, 0]] = encoded.values.numpy()
    np.testing.assert_array_equal(in_tf, expected)


def test_label_problems_name_the_values_and_the_fix():
    assert TASK_TYPES["regression"].label_problem({"1.5", "high"}) == (
        "holds non-numbers ('high'); use a numeric column or make the task binary with its positive value(s)")
    assert "other than 0/1 ('no', 'yes')" in TASK_TYPES["binary"].label_problem({"yes", "no", "1"})
    assert TASK_TYPES["binary"].label_problem({"yes", "no"}, positive=["yes"]) is None
    assert "not among its classes" in TASK_TYPES["multiclass"].label_problem({"a", "d"}, classes=["a", "b"])
    assert "one class only" in TASK_TYPES["multiclass"].label_problem({"a"})


def test_count_labels_and_score():
    count = TASK_TYPES["count"]
    assert count.label_problem({"3", "0"}) is None
    assert count.label_problem({"3", "-1", "2.5"}) == (
        "holds values that are not counts ('-1', '2.5'); a count task needs non-negative whole numbers: "
        "use a count column or make the task a regression")
    assert "non-numbers ('many')" in count.label_problem({"many"})
    from models.tasks.count import mean_poisson_deviance

    labels = np.array([0.0, 1.0, 4.0])
    assert count.score(labels[1:], labels[1:]) == 0.0  # the rate each count was
    assert mean_poisson_deviance(labels, np.array([1e-12, 1, 4])) == pytest.approx(0.0, abs=1e-11)
    # By hand: 2·[(0 − 0 + 1) + (1·log(1/2) − (1 − 2)) + (4·log(4/2) − (4 − 2))] / 3
    expected = 2 * (1 + (np.log(0.5) + 1) + (4 * np.log(2) - 2)) / 3
    assert count.score(labels, np.array([1.0, 2.0, 2.0])) == pytest.approx(expected)
    assert np.isnan(count.score(labels, np.array([1.0, 0.0, 2.0])))  # a rate of 0 is no Poisson rate


def test_a_synthetic_label_cannot_be_a_count():
    with pytest.raises(ValueError, match="is written as numbers, so the task type must be regression, not count"):
        build_config({"tasks": [{"name": "y1", "type": "count"}, {"name": "y2"}]})


def test_the_count_type_runs_through_the_config_the_model_the_evaluator_and_the_report():
    from components.eval_config import build_eval_config
    from models.builder import build_model, compile_model
    from pipeline.report.tables import build_task_tables
    from pipeline.results.eval_results import MetricRecord

    count_type = TASK_TYPES["count"]
    data = {"source": "csv", "path": "x.csv", "features": [{"name": "x"}]}
    config = build_config({"tasks": [{"name": "visits", "type": "count"}, {"name": "spend"}], "data": data,
                           "training": {"train_steps": 5}})
    task = config.tasks[0]
    assert task_type(task.type) is count_type and task.output_activation == "exponential"
    assert task.gate.min_r2 == 0.3 and task.gate.max_mse is None  # the kind's default gate
    with pytest.raises(ValueError, match="output_activation 'exponential'"):
        build_config({"tasks": [{"name": "visits", "type": "count", "output_activation": "linear"}], "data": data})
    with pytest.raises(ValueError, match="use min_r2/max_mse gates, not"):
        build_config({"tasks": [{"name": "visits", "type": "count", "gate": {"min_auc": 0.6}}], "data": data})

    model = compile_model(build_model(config, {"x_xf": 4}), config)
    assert model.loss["visits"] == "poisson"
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 4)).astype("float32")
    counts = rng.poisson(np.exp(0.5 * x[:, :1])).astype("float32")  # the rate follows the first input
    before = count_type.score(counts, model.predict({"x_xf": x}, verbose=0)["visits"])
    history = model.fit({"x_xf": x}, {"visits": counts, "spend": x[:, 1:2]}, epochs=30, batch_size=64, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    predicted = model.predict({"x_xf": x}, verbose=0)["visits"]
    assert float(np.min(predicted)) > 0  # an exponential output: a positive rate
    assert count_type.score(counts, predicted) < before  # it learns the rate

    eval_config = build_eval_config(config)
    (spec,) = [s for s in eval_config.metrics_specs if list(s.output_names) == ["visits"]]
    assert "R2FromSums" in [m.class_name for m in spec.metrics]
    custom = config.transform_custom_config()
    assert "visits" not in custom["scaled_labels"] and "spend" in custom["scaled_labels"]

    record = MetricRecord(task="visits", slice="Overall", metric="r2", value=0.7, lower=0.5, upper=1.2,
                          is_diff=False)
    (table,) = build_task_tables([record], [], [], task_types={"visits": "count"})
    assert table.task_type is count_type and table.key_metric == "r2" and table.label("r2") == "R²"
    assert table.overall.interval("r2") == (0.5, 1.0)  # cut at the type's range of R²
    assert table.label("mean_poisson_deviance") == "Poisson deviance"
