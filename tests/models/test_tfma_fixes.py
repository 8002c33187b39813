"""TFMA's mean-error combiners merge each accumulator once (see models.tfma_fixes)."""

from tensorflow_model_analysis.metrics import cross_entropy_metrics, mean_regression_error

from models import tfma_fixes  # noqa: F401


def test_merging_a_list_counts_each_mean_squared_error_accumulator_once():
    combiner = mean_regression_error._MeanSquaredErrorCombiner.__new__(mean_regression_error._MeanSquaredErrorCombiner)
    parts = []
    for weight, error in ((1.0, 1.0), (3.0, 9.0)):
        part = mean_regression_error._MeanRegressionErrorAccumulator()
        part.total_example_weights, part.total_regression_error = weight, error
        parts.append(part)
    merged = combiner.merge_accumulators(parts)
    assert (merged.total_example_weights, merged.total_regression_error) == (4.0, 10.0)


def test_merging_a_list_counts_each_cross_entropy_accumulator_once():
    combiner = cross_entropy_metrics._BinaryCrossEntropyCombiner.__new__(
        cross_entropy_metrics._BinaryCrossEntropyCombiner)
    parts = [cross_entropy_metrics._CrossEntropyAccumulator() for _ in range(3)]
    for i, part in enumerate(parts):
        part.total_cross_entropy, part.total_example_weights = float(i + 1), 1.0
    merged = combiner.merge_accumulators(parts)
    assert (merged.total_cross_entropy, merged.total_example_weights) == (6.0, 3.0)


def test_a_failed_keyword_call_formats_a_batch_of_records_as_a_summary():
    import tensorflow as tf

    tfma_fixes.limit_array_printing()  # what the Evaluator's workers do (models.slice_groups)
    batch = tf.constant([b"x" * 600] * 1000)
    message = repr(batch)
    assert "..." in message and len(message) < 10_000  # not 600 KB of records
