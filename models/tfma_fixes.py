"""Two things TFMA 0.47 needs on this stack.

1. Merging accumulators. ``merge_each_once`` is the ``merge_accumulators``
of the project's metric combiners (``models.regression_metrics``,
``models.classification_metrics``): every accumulator added once into the
first. (TFMA's own mean-error and cross-entropy combiners take the first
accumulator with ``next(iter(accumulators))`` and then loop over the list
again from the start, counting it twice; the pipeline uses none of them.)

2. Formatting batches that are then thrown away (``limit_array_printing``,
called by the Evaluator's steps in its workers: ``models.slice_groups``).
TFMA calls the model's signatures with a positional batch of serialized
examples. TensorFlow first tries the signature's keyword form, and the
TypeError it raises and catches formats the whole batch (about 1,000
records) into its message, which took a fifth of the Evaluator's time.
Numpy's summary threshold keeps that message, and any other printed array,
to a few elements. (A signature that takes serialized examples is always
called positionally by TFMA, so the call itself cannot avoid it.)

Imported by ``models.slice_groups`` (the Evaluator's extractors),
``models.regression_metrics``, ``models.classification_metrics`` and
``models.metrics``.
"""

from __future__ import annotations

import numpy as np


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
