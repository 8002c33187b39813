"""DriftCheck: stops the run when its data has drifted from the data of the model being served.

Compares this run's StatisticsGen output, split by split, with the statistics
the pipeline resolved as the baseline (``pipeline.baseline``: those of the run
whose model was last blessed). Without a baseline (a first run, or the same
data as that run) there is nothing to compare and the check passes. The
comparison itself is ``components.data_drift``.
"""

import json

from absl import logging
from tfx.components.statistics_gen import stats_artifact_utils
from tfx.dsl.component.experimental.annotations import InputArtifact, Parameter
from tfx.dsl.component.experimental.decorators import component
from tfx.types import artifact_utils, standard_artifacts

from components import data_drift


class DataDriftError(RuntimeError):
    """The data has drifted from the data of the model being served."""


def measure_artifacts(current: standard_artifacts.ExampleStatistics,
                      baseline: standard_artifacts.ExampleStatistics,
                      thresholds: data_drift.DriftThresholds) -> list[data_drift.Drift]:
    """Every compared column's distance, on each split the two statistics share."""
    baseline_splits = set(artifact_utils.decode_split_names(baseline.split_names))
    found = []
    for split in artifact_utils.decode_split_names(current.split_names):
        if split in baseline_splits:
            found += data_drift.measure(stats_artifact_utils.load_statistics(current, split).proto(),
                                        stats_artifact_utils.load_statistics(baseline, split).proto(),
                                        thresholds, split)
    return found


@component
def DriftCheck(statistics: InputArtifact[standard_artifacts.ExampleStatistics],  # noqa: N802
               thresholds: Parameter[str],
               code_version: Parameter[str],
               baseline_statistics: InputArtifact[standard_artifacts.ExampleStatistics] = None
               ) -> None:  # an input with a default of None is optional (it may resolve to nothing)
    del code_version  # only the cache key: the fingerprint of this module (pipeline.definition)
    if baseline_statistics is None:
        logging.info("DriftCheck: no earlier statistics to compare with; passing")
        return
    measured = measure_artifacts(statistics, baseline_statistics,
                                 data_drift.DriftThresholds.from_json(json.loads(thresholds)))
    for d in measured:
        logging.info("DriftCheck: %s split, %s: %s %.4f (threshold %g), against %s", d.split, d.column,
                     d.comparator, d.distance, d.threshold, baseline_statistics.uri)
    found = data_drift.drifted(measured)
    if found:
        raise DataDriftError(data_drift.describe(found))
