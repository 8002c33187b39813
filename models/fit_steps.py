"""Callbacks that act every so many training steps, whatever ``steps_per_execution`` is.

With ``steps_per_execution`` k, Keras runs k steps in one call and calls
``on_train_batch_end`` once per call, with the index (within the epoch) of
the last step run; the last call of an epoch may run fewer. A
``StepCallback`` turns that into the step count over all epochs and hands
its subclass the steps run since the last call.
"""

from __future__ import annotations

import tf_keras


def crossed(previous: int, step: int, every: int) -> bool:
    """Whether a multiple of ``every`` lies in (previous, step]: the steps just run reached one."""
    return step // every > previous // every


class StepCallback(tf_keras.callbacks.Callback):
    """``on_steps(previous, step, logs)`` after each call of the training function.

    ``step`` counts the training steps run so far over all epochs (the logs
    are those after that step); ``previous`` is the count at the last call.
    """

    def __init__(self):
        super().__init__()
        self.step = 0
        self._epoch_start = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start = self.step

    def on_train_batch_end(self, batch, logs=None):
        previous, self.step = self.step, self._epoch_start + batch + 1
        self.on_steps(previous, self.step, logs)

    def on_steps(self, previous: int, step: int, logs) -> None:
        raise NotImplementedError
