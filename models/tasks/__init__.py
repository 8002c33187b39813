"""Task types: one class per type, one module per class (``base.TaskType`` says what a type provides).

A new type is one module here whose ``TaskType`` subclass is decorated with
``@register``, and its import below (which also puts it in the Transform's and
the Trainer's cache keys).
"""

from models.tasks import regression, binary, multiclass  # noqa: F401,I001  (each registers its type, in this order)
from models.tasks.base import (CALIBRATION, GATE_FIELDS, PREDICTED_AGAINST_ACTUAL, TASK_TYPES, TaskType,
                               register, task_type)

__all__ = ["CALIBRATION", "GATE_FIELDS", "PREDICTED_AGAINST_ACTUAL", "TASK_TYPES", "TaskType", "register",
           "task_type"]
