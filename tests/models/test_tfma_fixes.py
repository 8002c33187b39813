"""The project's combiners merge each accumulator once (``models.tfma_fixes.merge_each_once``)."""

from models import tfma_fixes
from models.classification_metrics import BinaryCounts
from models.regression_metrics import RegressionSums


def test_merging_a_list_counts_each_accumulator_once():
    parts = [RegressionSums(weight=1.0, sse=1.0), RegressionSums(weight=3.0, sse=9.0)]
    merged = tfma_fixes.merge_each_once(None, parts)
    assert (merged.weight, merged.sse) == (4.0, 10.0)
    counts = []
    for i in range(3):
        part = BinaryCounts()
        part.loss, part.weight = float(i + 1), 1.0
        counts.append(part)
    merged = tfma_fixes.merge_each_once(None, iter(counts))
    assert (merged.loss, merged.weight) == (6.0, 3.0)


def test_a_failed_keyword_call_formats_a_batch_of_records_as_a_summary():
    import tensorflow as tf

    tfma_fixes.limit_array_printing()  # what the Evaluator's workers do (models.slice_groups)
    batch = tf.constant([b"x" * 600] * 1000)
    message = repr(batch)
    assert "..." in message and len(message) < 10_000  # not 600 KB of records
