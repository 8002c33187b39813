"""AtomicPusher: TFX's Pusher with the all-or-nothing executor (``executor.py``)."""

from tfx.components.pusher.component import Pusher
from tfx.dsl.components.base import executor_spec

from components.atomic_pusher import executor


class AtomicPusher(Pusher):
    """Same inputs, outputs and parameters as TFX's Pusher; a version appears whole or not at all."""

    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(executor.Executor)
