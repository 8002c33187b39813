"""Multiclass classification: a probability per class, fitted by log loss and gated on accuracy."""

from __future__ import annotations

import math
from typing import Optional, Sequence

import numpy as np

from config.task_kinds import MulticlassKind
from models.tasks.base import CALIBRATION, TaskType, register, text_values
from models.tasks.binary import CLASSIFICATION_METRICS_MODULE


def accuracy_score(labels: np.ndarray, probabilities: np.ndarray) -> float:
    """Share of examples whose most probable class is the label's (labels: class indices)."""
    return float(np.mean(np.argmax(probabilities, axis=1) == labels))


@register
class Multiclass(MulticlassKind, TaskType):
    keras_loss = "sparse_categorical_crossentropy"
    key_metric_class = "SparseCategoricalAccuracyFromCounts"
    macro_gates = {"min_auc": "AUCFromHistogram"}
    # From per-slice counts and per-class histograms (models.classification_metrics).
    tfma_metrics = ("ExampleCount", "SparseCategoricalAccuracyFromCounts", "SparseCategoricalCrossentropyFromCounts",
                    "MultiClassConfusionMatrixPlotFromCounts")
    # Computed for each class on its own (one-vs-rest), and averaged over classes.
    tfma_per_class_metrics = ("PrecisionFromCounts", "RecallFromCounts", "AUCFromHistogram")
    tfma_macro_metrics = ("AUCFromHistogram",)
    tfma_metric_modules = {name: CLASSIFICATION_METRICS_MODULE for name in (
        *tfma_metrics[1:], *tfma_per_class_metrics)}
    grouped_eval = True
    report_columns = (("accuracy", "sparse_categorical_accuracy"), ("macro AUC", "macro_auc"),
                      ("log loss", "sparse_categorical_crossentropy"))
    metric_ranges = {"sparse_categorical_accuracy": (0.0, 1.0), "sparse_categorical_crossentropy": (0.0, math.inf),
                     "auc": (0.0, 1.0), "precision": (0.0, 1.0), "recall": (0.0, 1.0)}
    serving_metric = "accuracy"
    fit_plot = CALIBRATION

    def encode_label(self, text: str, positive: Sequence[str] = (), classes: Sequence[str] = ()) -> float:
        # A value outside the classes is not a label of the task: it counts as missing.
        return float(list(classes).index(text)) if text in classes else float("nan")

    def encode_label_tensor(self, present, positive: Sequence[str] = (), classes: Sequence[str] = ()):
        import tensorflow as tf

        values = present.values
        text = values if values.dtype == tf.string else tf.strings.as_string(values)
        matches = tf.equal(text[:, None], tf.constant(list(classes))[None, :])
        known = tf.reduce_any(matches, axis=1)
        present = tf.sparse.retain(present, known)
        indices = tf.argmax(tf.boolean_mask(matches, known), axis=1)
        return tf.SparseTensor(present.indices, tf.cast(indices, tf.float32), present.dense_shape)

    def label_problem(self, values: set[str], positive: Sequence[str] = (),
                      classes: Sequence[str] = ()) -> Optional[str]:
        if classes:
            unknown = values - set(classes)
            if unknown:
                return (f"holds {text_values(unknown)}, not among its classes {list(classes)}; "
                        "add them to the task's classes (or remove classes to take them from the data)")
        elif len(values) < 2:
            return (f"holds one class only ({next(iter(values))!r}); a {self.name} task needs at least two "
                    "classes: use a column with several, or drop the task")
        return None

    def prediction_columns(self, task: str, classes: Sequence[str] = ()) -> list[str]:
        """The predicted class, then one probability column per class, named ``<task>_<class>``."""
        return [task, *(f"{task}_{name}" for name in classes)]

    def prediction_values(self, served: np.ndarray, classes: Sequence[str] = ()) -> list[np.ndarray]:
        probabilities = np.asarray(served, dtype=np.float32).reshape(len(served), len(classes))
        predicted = np.asarray(classes, dtype=object)[np.argmax(probabilities, axis=1)] if len(served) else \
            np.array([], dtype=object)
        return [predicted, *probabilities.T]

    def keras_metrics(self, project_metrics: bool = True) -> list:
        import tf_keras

        return [tf_keras.metrics.SparseCategoricalAccuracy(name="accuracy")]

    def extra_metrics_specs(self, task) -> list:
        """Metrics per class (one-vs-rest) and averaged over classes.

        TFMA computes them from the class probabilities: ``binarize`` gives one value per
        class id, ``aggregate`` the macro average (which needs the class ids up front, hence
        the task's ``classes``)."""
        import tensorflow_model_analysis as tfma

        class_ids = list(range(len(task.classes)))
        per_class = tfma.MetricsSpec(output_names=[task.name],
                                     binarize=tfma.BinarizationOptions(class_ids={"values": class_ids}),
                                     metrics=[self._metric_config(c) for c in self.tfma_per_class_metrics])
        averaged = tfma.MetricsSpec(output_names=[task.name],
                                    aggregate=tfma.AggregationOptions(
                                        macro_average=True, class_weights={i: 1.0 for i in class_ids}),
                                    metrics=[self._metric_config(c) for c in self.tfma_macro_metrics])
        return [per_class, averaged]

    def _metric_config(self, class_name: str):
        import tensorflow_model_analysis as tfma

        return tfma.MetricConfig(class_name=class_name, module=self.tfma_metric_modules.get(class_name, ""))

    def score(self, labels: np.ndarray, predictions: np.ndarray) -> float:
        return accuracy_score(labels, predictions)
