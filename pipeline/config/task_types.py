"""The task-type registry: everything that differs between task types, as plain data.

One entry per type. The configuration checks, the Keras compile step, the
Transform's label encoding, the Evaluator's metrics and gates, the data checks,
the served-model check, the console summary and the report all read the entry
of a task's type here instead of branching on the type, so adding a type is
adding one entry (and, for a new label encoding or metric, the one place that
implements it).

Pure Python: no TensorFlow, so the configuration stays importable without it.
Keras metric names are turned into tf_keras objects by ``models.metrics``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

# How a raw label becomes the float the model learns (models.preprocessing,
# pipeline.preflight.data_checks, pipeline.results.serving_check).
LABEL_NUMBER = "number"  # the value as a float
LABEL_ZERO_ONE = "0/1"  # 0/1 as written, or 1 for one of the task's declared positive values
LABEL_CLASS_INDEX = "class index"  # the index of the value among the task's classes

# The report's fit figure, and the Evaluator plot it is drawn from.
PREDICTED_AGAINST_ACTUAL = "predicted_against_actual"  # CalibrationPlot over the prediction range
CALIBRATION = "calibration"  # CalibrationPlot over probabilities

# The absolute gate fields of GateConfig, in its order; each type allows some.
GATE_FIELDS = ("min_r2", "max_mse", "min_auc", "max_log_loss", "min_accuracy")


@dataclass(frozen=True)
class TaskType:
    """What one task type means to every part of the pipeline."""

    name: str
    keras_loss: str  # a tf_keras loss name
    keras_metrics: tuple[str, ...]  # names in models.metrics.KERAS_METRICS
    tfma_metrics: tuple[str, ...]  # TFMA MetricConfig class names, in EvalConfig order
    key_metric: str  # the metric's name in TFMA's results; higher is better
    key_metric_class: str  # its MetricConfig class_name (in tfma_metrics)
    key_gate: str  # GateConfig field bounding the key metric from below; also carries the change gate
    upper_gates: dict[str, str]  # GateConfig field -> TFMA class it bounds from above
    default_gate: dict[str, float]  # set when none of the type's absolute gates is
    output_activation: str  # the default
    output_activations: tuple[str, ...]  # the allowed ones
    label_encoding: str  # LABEL_NUMBER or LABEL_ZERO_ONE
    accepts_positive: bool  # whether ``positive`` label values may be declared
    report_columns: tuple[tuple[str, str], ...]  # (shown name, metric key) in the console summary
    serving_scorer: str  # the served-model check's scorer (pipeline.results.serving_check.SCORERS)
    fit_plot: str  # PREDICTED_AGAINST_ACTUAL or CALIBRATION
    tfma_metric_modules: dict[str, str] = field(default_factory=dict)  # class -> module (project metrics)
    # One output per class (softmax) instead of one number; the label is a class index.
    class_outputs: bool = False
    # TFMA metrics computed for each class on its own (one-vs-rest), and averaged over classes.
    tfma_per_class_metrics: tuple[str, ...] = ()
    tfma_macro_metrics: tuple[str, ...] = ()
    # GateConfig field -> macro-averaged TFMA class it bounds from below.
    macro_gates: dict[str, str] = field(default_factory=dict)
    key_direction: str = "higher_is_better"
    # Transform writes a standardized copy of the label, which the Trainer fits;
    # serving_default returns the original scale (models.preprocessing, models.trainer).
    standardized_label: bool = False
    # serving_default clips the output to [1e-7, 1 - 1e-7], so log loss stays finite.
    clipped_probability: bool = False
    # Every TFMA metric of the type reads a group of examples' arrays as it reads
    # one example's, so the Evaluator may feed it per-slice groups (models.slice_groups).
    grouped_eval: bool = False

    @property
    def gate_fields(self) -> tuple[str, ...]:
        """The absolute gate fields this type allows."""
        return (self.key_gate, *self.upper_gates, *self.macro_gates)

    def metric_label(self, metric: str) -> str:
        """The shown name of one of the report columns, e.g. 'r2' -> 'R²'."""
        return dict((key, label) for label, key in self.report_columns).get(metric, metric)


TASK_TYPES: dict[str, TaskType] = {
    "regression": TaskType(
        name="regression",
        keras_loss="mse",
        keras_metrics=("mse", "mae", "r2"),
        # All but the count from one numpy pass per slice (models.regression_metrics);
        # R² is the project's scale-free gate. The plot is replaced by
        # pipeline.eval_config with its range.
        tfma_metrics=("ExampleCount", "MeanLabelFromSums", "MeanPredictionFromSums",
                      "MeanSquaredErrorFromSums", "MeanAbsoluteErrorFromSums", "RootMeanSquaredError", "R2",
                      "CalibrationPlot"),
        tfma_metric_modules={name: "models.regression_metrics" for name in (
            "MeanLabelFromSums", "MeanPredictionFromSums", "MeanSquaredErrorFromSums",
            "MeanAbsoluteErrorFromSums", "RootMeanSquaredError", "R2")},
        key_metric="r2",
        key_metric_class="R2",
        key_gate="min_r2",
        upper_gates={"max_mse": "MeanSquaredErrorFromSums"},
        default_gate={"min_r2": 0.5},
        output_activation="linear",
        output_activations=("linear", "sigmoid"),
        label_encoding=LABEL_NUMBER,
        accepts_positive=False,
        report_columns=(("R²", "r2"), ("MSE", "mean_squared_error"), ("MAE", "mean_absolute_error"),
                        ("RMSE", "root_mean_squared_error")),
        serving_scorer="r2",
        fit_plot=PREDICTED_AGAINST_ACTUAL,
        standardized_label=True,
        grouped_eval=True,
    ),
    "binary": TaskType(
        name="binary",
        keras_loss="binary_crossentropy",
        keras_metrics=("auc", "log_loss"),
        # From per-slice counts and the plot's histogram (models.classification_metrics); the
        # plot is replaced by pipeline.eval_config with its range.
        tfma_metrics=("ExampleCount", "MeanLabelFromCounts", "MeanPredictionFromCounts", "AUCFromHistogram",
                      "BinaryCrossEntropyFromCounts", "CalibrationFromCounts", "CalibrationPlot"),
        tfma_metric_modules={name: "models.classification_metrics" for name in (
            "MeanLabelFromCounts", "MeanPredictionFromCounts", "AUCFromHistogram", "BinaryCrossEntropyFromCounts",
            "CalibrationFromCounts")},
        key_metric="auc",
        key_metric_class="AUCFromHistogram",
        key_gate="min_auc",
        upper_gates={"max_log_loss": "BinaryCrossEntropyFromCounts"},
        default_gate={"min_auc": 0.7},
        output_activation="sigmoid",  # its loss is log loss on a probability
        output_activations=("sigmoid",),
        label_encoding=LABEL_ZERO_ONE,
        accepts_positive=True,
        report_columns=(("AUC", "auc"), ("log loss", "binary_crossentropy"), ("calibration", "calibration")),
        serving_scorer="auc",
        fit_plot=CALIBRATION,
        clipped_probability=True,
        grouped_eval=True,
    ),
    "multiclass": TaskType(
        name="multiclass",
        keras_loss="sparse_categorical_crossentropy",
        keras_metrics=("accuracy",),
        tfma_metrics=("ExampleCount", "SparseCategoricalAccuracyFromCounts",
                      "SparseCategoricalCrossentropyFromCounts", "MultiClassConfusionMatrixPlotFromCounts"),
        tfma_per_class_metrics=("PrecisionFromCounts", "RecallFromCounts", "AUCFromHistogram"),
        tfma_macro_metrics=("AUCFromHistogram",),
        tfma_metric_modules={name: "models.classification_metrics" for name in (
            "SparseCategoricalAccuracyFromCounts", "SparseCategoricalCrossentropyFromCounts",
            "MultiClassConfusionMatrixPlotFromCounts", "PrecisionFromCounts", "RecallFromCounts",
            "AUCFromHistogram")},
        key_metric="sparse_categorical_accuracy",
        key_metric_class="SparseCategoricalAccuracyFromCounts",
        key_gate="min_accuracy",
        upper_gates={},
        macro_gates={"min_auc": "AUCFromHistogram"},
        default_gate={"min_accuracy": 0.5},
        output_activation="softmax",
        output_activations=("softmax",),
        label_encoding=LABEL_CLASS_INDEX,
        accepts_positive=False,
        report_columns=(("accuracy", "sparse_categorical_accuracy"), ("macro AUC", "macro_auc"),
                        ("log loss", "sparse_categorical_crossentropy")),
        serving_scorer="accuracy",
        fit_plot=CALIBRATION,
        class_outputs=True,
        grouped_eval=True,
    ),
}


def task_type(name: str) -> TaskType:
    """The registry entry of a task type; KeyError for an unknown one (the config rejects those)."""
    return TASK_TYPES[name]


def by_key_metric(metric: Optional[str]) -> Optional[TaskType]:
    """The task type whose key metric this is (the report knows tasks only by their metrics)."""
    return next((t for t in TASK_TYPES.values() if t.key_metric == metric), None)


def with_label_encoding(encoding: str) -> TaskType:
    """The first task type whose labels are encoded this way."""
    return next(t for t in TASK_TYPES.values() if t.label_encoding == encoding)
