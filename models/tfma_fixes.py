"""Two fixes for TFMA 0.47 on this stack.

1. Merging mean errors (applied when this module is imported).

``merge_accumulators`` of TFMA's mean regression errors (MSE, MAE, ...) and
cross entropies takes its first accumulator with ``next(iter(accumulators))``
and then loops over ``accumulators`` again from the start, so when Beam or
TFMA passes a list the first accumulator is merged into itself: it counts
twice. Ratios of one accumulator are unaffected, but as soon as several are
merged (Beam bundles, or the jackknife merging its partitions at every step)
the mean is weighted wrongly and the confidence intervals with it. Merging
each accumulator once, as here, gives the plain mean.

2. Formatting batches that are then thrown away (``limit_array_printing``,
called by the Evaluator's steps in its workers: ``models.slice_groups``).
TFMA calls the model's signatures with a positional batch of serialized
examples. TensorFlow first tries the signature's keyword form, and the
TypeError it raises and catches formats the whole batch (about 1,000
records) into its message, which took a fifth of the Evaluator's time.
Numpy's summary threshold keeps that message, and any other printed array,
to a few elements. (A signature that takes serialized examples is always
called positionally by TFMA, so the call itself cannot avoid it.)

The merge fix is imported by ``models.slice_groups`` (the Evaluator's extractors),
``models.regression_metrics`` and ``models.metrics`` (which TFMA loads
wherever the project's metrics are evaluated) and by ``pipeline.eval_config``.
"""

from __future__ import annotations

import numpy as np
from tensorflow_model_analysis.metrics import cross_entropy_metrics, mean_regression_error

FIXED = (mean_regression_error._MeanRegressionErrorCombiner, cross_entropy_metrics._CrossEntropyCombiner)


def merge_each_once(self, accumulators):
    """A combiner's ``merge_accumulators``: every accumulator (with a ``merge`` method) added once into the first."""
    accumulators = iter(accumulators)
    result = next(accumulators)
    for accumulator in accumulators:
        result.merge(accumulator)
    return result


# Arrays above this many elements print as a summary (numpy's default is 1,000).
PRINT_THRESHOLD = 100


def limit_array_printing() -> None:
    """Arrays above ``PRINT_THRESHOLD`` elements print as a summary, in this process."""
    np.set_printoptions(threshold=PRINT_THRESHOLD)


def apply() -> None:
    for combiner in FIXED:
        combiner.merge_accumulators = merge_each_once


apply()
