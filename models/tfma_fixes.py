"""A fix for TFMA 0.47's mean-error combiners, applied on import.

``merge_accumulators`` of TFMA's mean regression errors (MSE, MAE, ...) and
cross entropies takes its first accumulator with ``next(iter(accumulators))``
and then loops over ``accumulators`` again from the start, so when Beam or
TFMA passes a list the first accumulator is merged into itself: it counts
twice. Ratios of one accumulator are unaffected, but as soon as several are
merged (Beam bundles, or the jackknife merging its partitions at every step)
the mean is weighted wrongly and the confidence intervals with it. Merging
each accumulator once, as here, gives the plain mean.

Imported by ``models.metrics`` (which TFMA loads wherever the project's R²
is evaluated) and by ``pipeline.eval_config``.
"""

from __future__ import annotations

from tensorflow_model_analysis.metrics import cross_entropy_metrics, mean_regression_error

FIXED = (mean_regression_error._MeanRegressionErrorCombiner, cross_entropy_metrics._CrossEntropyCombiner)


def _merge_each_once(self, accumulators):
    accumulators = iter(accumulators)
    result = next(accumulators)
    for accumulator in accumulators:
        result.merge(accumulator)
    return result


def apply() -> None:
    for combiner in FIXED:
        combiner.merge_accumulators = _merge_each_once


apply()
