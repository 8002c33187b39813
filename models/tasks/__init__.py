"""Task types: one class per type, one module per class (``base.TaskType`` says what a type provides).

A new type is one module here whose ``TaskType`` subclass is decorated with
``@register``, and its import below (which also puts it in the Transform's and
the Trainer's cache keys). A type with new configuration facts (another name,
output activations, label values, default gate) subclasses its kind, declared
in ``config.task_kinds`` so that the configuration validates it where
``models`` is never imported (``count.py`` and ``CountKind`` are an example).
"""

# Each registers its type, in this order.
from models.tasks import regression, binary, multiclass, count  # noqa: F401,I001
from models.tasks.base import (CALIBRATION, GATE_FIELDS, PREDICTED_AGAINST_ACTUAL, TASK_TYPES, TaskType,
                               register, task_type)

__all__ = ["CALIBRATION", "GATE_FIELDS", "PREDICTED_AGAINST_ACTUAL", "TASK_TYPES", "TaskType", "register",
           "task_type"]
