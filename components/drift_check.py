"""DriftCheck: stops the run when its data has drifted from the data of the model being served.

The baseline is the statistics of the served model's data, stored beside it
by the Pusher (``components.served_statistics``). The served model comes in as
an input artifact, the newest Pusher output (``served_model``), so the check
reruns whenever a model was pushed since, and is cached otherwise. This run's
StatisticsGen output is compared split by split with those statistics
(``components.data_drift``). With no served model (a first push) there is
nothing to compare and the check passes; a served model without statistics
is refused; a run stopped for drift pushes nothing, so the baseline stays.
"""


import json

from absl import logging
from tfx.components.statistics_gen import stats_artifact_utils
from tfx.dsl.component.experimental.annotations import InputArtifact, Parameter
from tfx.dsl.component.experimental.decorators import component
from tfx.types import artifact_utils, standard_artifacts

from components import data_drift
from components.served_statistics import load_split, served_statistics


class DataDriftError(RuntimeError):
    """The data has drifted from the data of the model being served."""


def measure_against(current: standard_artifacts.ExampleStatistics, baseline_folder: str,
                    thresholds: data_drift.DriftThresholds) -> list[data_drift.Drift]:
    """Every compared column's distance, on each split the two statistics share."""
    found = []
    for split in artifact_utils.decode_split_names(current.split_names):
        baseline = load_split(baseline_folder, split)
        if baseline is not None:
            found += data_drift.measure(stats_artifact_utils.load_statistics(current, split).proto(),
                                        baseline, thresholds, split)
    return found


@component
def DriftCheck(statistics: InputArtifact[standard_artifacts.ExampleStatistics],  # noqa: N802
               thresholds: Parameter[str],
               code_version: Parameter[str],
               serving_dir: Parameter[str],
               served_model: InputArtifact[standard_artifacts.PushedModel] = None) -> None:
    """``served_model``: the newest Pusher output (none before the first push)."""
    del code_version  # only the cache key: the fingerprint of this module (pipeline.definition)
    baseline = served_statistics(served_model, serving_dir)
    if baseline is None:
        logging.info("DriftCheck: no model served from %s yet; passing", serving_dir)
        return
    measured = measure_against(statistics, baseline, data_drift.DriftThresholds.from_json(json.loads(thresholds)))
    for d in measured:
        logging.info("DriftCheck: %s split, %s: %s %.4f (threshold %g), against %s", d.split, d.column,
                     d.comparator, d.distance, d.threshold, baseline)
    found = data_drift.drifted(measured)
    if found:
        raise DataDriftError(data_drift.describe(found))
