"""AtomicPusher: TFX's Pusher with the all-or-nothing executor (``executor.py``)."""

from tfx import v1 as tfx
from tfx.dsl.components.base import executor_spec

from components.atomic_pusher import executor


class AtomicPusher(tfx.components.Pusher):
    """Same inputs, outputs and parameters as TFX's Pusher; a version appears whole or not at all."""

    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(executor.Executor)
