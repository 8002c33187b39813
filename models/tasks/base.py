"""What a task type is: the base class every type implements, and the registry of types.

A task type owns everything that differs between kinds of prediction: its
Keras loss and metrics, how a raw label becomes the number the model learns
(in TensorFlow for Transform, in Python for CSV cells and served examples),
its TFMA metrics and gates, how the served model is scored, and how the
report shows it. The rest of the pipeline asks a task's type
(``task_type(task.type)``) instead of branching on its name.

The facts the configuration validates a task with (name, output activations,
label values, key metric, gate fields and defaults) are the type's kind in
``config.task_kinds``, which every type here subclasses; ``register`` adds a
type to both registries.

Importable without TensorFlow (the configuration validates with it):
TensorFlow, tf_keras and TFMA are imported inside the methods that need them.
"""

from __future__ import annotations

import math
import re
from typing import ClassVar, Iterable, Optional, Sequence

import numpy as np

from config.task_kinds import TaskKind, register_kind
from config.tasks import GATE_FIELDS

# The report's fit figure, and the Evaluator plot it is drawn from.
PREDICTED_AGAINST_ACTUAL = "predicted_against_actual"  # CalibrationPlot over the prediction range
CALIBRATION = "calibration"  # CalibrationPlot over probabilities
# (shown name, metric key) of the metrics every type's evaluation holds.
COMMON_METRICS = (("mean label", "mean_label"), ("mean prediction", "mean_prediction"), ("examples", "example_count"))


def is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


class TaskType(TaskKind):
    """One kind of prediction. A subclass also subclasses its kind (``config.task_kinds``: name,
    activations, label values, key metric, gate fields), sets the class attributes below and
    implements the methods that raise NotImplementedError; ``register`` adds an instance to
    ``TASK_TYPES``."""

    # Training.
    keras_loss: ClassVar[str]  # a tf_keras loss name
    # Uncertainty weighting's factor in front of exp(-s) * loss (models.task_weighting):
    # 1/2 where the loss is a Gaussian negative log likelihood, 1 for a classification loss.
    likelihood_scale: ClassVar[float] = 1.0
    # Evaluation.
    key_metric_class: ClassVar[str]  # its MetricConfig class_name (in tfma_metrics)
    # The kind's other_gates, each with the TFMA class it bounds (register checks they are the same).
    upper_gates: ClassVar[dict[str, str]] = {}  # GateConfig field -> TFMA class it bounds from above
    macro_gates: ClassVar[dict[str, str]] = {}  # GateConfig field -> macro-averaged TFMA class, from below
    key_direction: ClassVar[str] = "higher_is_better"
    tfma_metrics: ClassVar[tuple[str, ...]]  # TFMA MetricConfig class names, in EvalConfig order
    tfma_metric_modules: ClassVar[dict[str, str]] = {}  # class -> module, for the project's own metrics
    # Every TFMA metric of the type reads a group of examples' arrays as it reads one
    # example's, so the Evaluator may feed it per-slice groups (models.slice_groups).
    grouped_eval: ClassVar[bool] = False
    # Reporting.
    report_columns: ClassVar[tuple[tuple[str, str], ...]]  # (shown name, metric key) in the console summary
    serving_metric: ClassVar[str]  # the metric key ``score`` computes, shown by the served-model check
    fit_plot: ClassVar[str]  # PREDICTED_AGAINST_ACTUAL or CALIBRATION

    # The values each metric can take (a per-class or macro-averaged metric reads its base's).
    metric_ranges: ClassVar[dict[str, tuple[float, float]]] = {}

    def metric_label(self, metric: str) -> str:
        """The shown name of a metric of this type, e.g. 'r2' -> 'R²'; the key itself if it has none."""
        return dict((key, label) for label, key in (*self.report_columns, *COMMON_METRICS)).get(metric, metric)

    def metric_range(self, metric: str) -> tuple[float, float]:
        """The values a metric (``auc``, ``auc_class_2``, ``macro_auc``, ...) can take; unbounded if unknown."""
        return self.metric_ranges.get(re.sub(r"_class_\d+$", "", metric.removeprefix("macro_")),
                                      (-math.inf, math.inf))

    @property
    def metric_order(self) -> list[str]:
        """Metric keys in the order the report shows them: the summary's columns, then the common ones."""
        return [key for _, key in (*self.report_columns, *COMMON_METRICS)]

    # --- labels -------------------------------------------------------------------------------
    def encode_label(self, text: str, positive: Sequence[str] = (), classes: Sequence[str] = ()) -> float:
        """A present raw label (as text) as the number the model learns; NaN if it is not a label
        of this task (a value outside its classes). ValueError if it cannot be one."""
        raise NotImplementedError

    def encode_label_tensor(self, present, positive: Sequence[str] = (), classes: Sequence[str] = ()):
        """``encode_label`` in TensorFlow: a SparseTensor of present raw labels -> a SparseTensor of
        float32 labels (entries that are not labels of the task dropped)."""
        raise NotImplementedError

    def label_problem(self, values: set[str], positive: Sequence[str] = (),
                      classes: Sequence[str] = ()) -> Optional[str]:
        """What is wrong with a column's present label values for this type, or None.

        The sentence names the values and the fix; the caller adds the file, column and task."""
        raise NotImplementedError

    # --- training -----------------------------------------------------------------------------
    def keras_metrics(self, project_metrics: bool = True) -> list:
        """New tf_keras metric objects shown while training; without the project's own metric
        classes if ``project_metrics`` is False (the compile a model is saved with, so it loads
        where this project was never imported)."""
        raise NotImplementedError

    # --- evaluation ---------------------------------------------------------------------------
    def tfma_metric_configs(self, task, evaluation) -> dict:
        """class_name -> ``tfma.MetricConfig`` (no thresholds) of one task's metrics."""
        import tensorflow_model_analysis as tfma

        return {name: tfma.MetricConfig(class_name=name, module=self.tfma_metric_modules.get(name, ""))
                for name in self.tfma_metrics}

    def extra_metrics_specs(self, task) -> list:
        """More ``tfma.MetricsSpec`` for the task beyond its plain one (e.g. per-class metrics)."""
        return []

    def score(self, labels: np.ndarray, predictions: np.ndarray) -> float:
        """``serving_metric`` of served predictions against known labels (no missing ones)."""
        raise NotImplementedError

    # --- serving ------------------------------------------------------------------------------
    def served_output(self, output):
        """The model's output for this task (a tensor, on the label's scale) as the serving
        signatures return it."""
        return output

    # --- batch predictions (mtl-predict) ------------------------------------------------------
    def prediction_columns(self, task: str, classes: Sequence[str] = ()) -> list[str]:
        """The columns a file of predictions holds for one task: here its one served value."""
        return [task]

    def prediction_values(self, served: np.ndarray, classes: Sequence[str] = ()) -> list[np.ndarray]:
        """The task's served output, [rows, outputs], as the values of ``prediction_columns``."""
        return [np.asarray(served, dtype=np.float32).reshape(len(served), -1)[:, 0]]


TASK_TYPES: dict[str, TaskType] = {}


def register(cls: type[TaskType]) -> type[TaskType]:
    """Class decorator: add one instance of a task type to ``TASK_TYPES`` under its name."""
    if getattr(cls, "name", None) in TASK_TYPES and type(TASK_TYPES[cls.name]) is not cls:
        raise ValueError(f"task type {cls.name!r} is registered twice")
    if (*cls.upper_gates, *cls.macro_gates) != cls.other_gates:
        raise ValueError(f"task type {cls.name!r}: upper_gates and macro_gates must bound its kind's other_gates "
                         f"{cls.other_gates}, got {(*cls.upper_gates, *cls.macro_gates)}")
    unknown = [f for f in cls().gate_fields if f not in GATE_FIELDS]
    if unknown:
        raise ValueError(f"task type {cls.name!r}: gate field(s) {unknown} are not GateConfig fields {GATE_FIELDS}")
    instance = cls()
    register_kind(instance)  # the configuration validates a task's type against this registry
    TASK_TYPES[cls.name] = instance
    return cls


def task_type(name: str) -> TaskType:
    """The registered type of that name; KeyError for an unknown one (the config rejects those)."""
    return TASK_TYPES[name]


def text_values(values: Iterable[str]) -> str:
    """Up to five values, quoted, for a message."""
    return ", ".join(map(repr, sorted(values)[:5]))
