"""Task types: each registered type is complete, encodes labels the same in Python and in
TensorFlow, and a new type is one module (a toy ``count`` type, added here as a user would)."""

import numpy as np
import pytest

from config import PipelineConfig, build_config
from config.task_kinds import TASK_KINDS
from models.tasks import GATE_FIELDS, TASK_TYPES, register, task_type
from models.tasks.regression import Regression


def test_the_configuration_and_the_models_know_the_same_types():
    # The configuration validates a task's type against TASK_KINDS; every type it accepts must be one
    # the models can train (TASK_TYPES), with the same facts (the type is its kind's subclass).
    assert list(TASK_KINDS) == list(TASK_TYPES) == ["regression", "binary", "multiclass"]
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


class Count(Regression):
    """A toy type as a user would add one: counts, fitted by Poisson log likelihood on an
    exponential output, on the raw scale (no standardized label); gated on R² like regression,
    and its labels are numbers as regression's are."""

    name = "count"
    keras_loss = "poisson"
    likelihood_scale = 1.0
    output_activation = "exponential"
    output_activations = ("exponential",)
    standardized_label = False

    def label_problem(self, values, positive=(), classes=()):
        negative = sorted(v for v in values if float(v) < 0)
        return f"holds negative counts ({', '.join(negative[:3])})" if negative else None


@pytest.fixture
def count_type():
    register(Count)
    yield TASK_TYPES["count"]
    del TASK_TYPES["count"], TASK_KINDS["count"]


def test_a_new_type_is_one_class_the_pipeline_uses(count_type):
    from models.builder import build_model, compile_model
    from components.eval_config import build_eval_config
    from pipeline.report.tables import build_task_tables
    from pipeline.results.eval_results import MetricRecord

    config = build_config({"tasks": [{"name": "y1", "type": "count"}, {"name": "y2", "type": "regression"}],
                           "training": {"train_steps": 5}})
    task = config.tasks[0]
    assert task_type(task.type) is count_type and task.output_activation == "exponential"
    assert task.gate.min_r2 == 0.5  # the default gate of the type it extends
    with pytest.raises(ValueError, match="task type must be"):
        build_config({"tasks": [{"name": "y1", "type": "counts"}, {"name": "y2"}]})

    model = compile_model(build_model(config, {"x_xf": 4}), config)
    assert model.loss["y1"] == "poisson"
    x = np.random.default_rng(0).normal(size=(64, 4)).astype("float32")
    counts = np.random.default_rng(1).poisson(2.0, size=(64, 1)).astype("float32")
    history = model.fit({"x_xf": x}, {"y1": counts, "y2": x[:, :1]}, epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    assert float(np.min(model.predict({"x_xf": x}, verbose=0)["y1"])) > 0  # an exponential output

    eval_config = build_eval_config(config)
    (spec,) = [s for s in eval_config.metrics_specs if list(s.output_names) == ["y1"]]
    assert "R2FromSums" in [m.class_name for m in spec.metrics]
    assert "y1" not in config.transform_custom_config()["scaled_labels"]

    record = MetricRecord(task="y1", slice="Overall", metric="r2", value=0.7, lower=None, upper=None,
                          is_diff=False)
    (table,) = build_task_tables([record], [], [], task_types={"y1": "count"})
    assert table.task_type is count_type and table.key_metric == "r2"
    assert count_type.label_problem({"3", "-1"}) == "holds negative counts (-1)"
