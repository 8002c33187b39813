"""DriftCheck: stops the run when its data has drifted from the data of the model being served.

The baseline is the newest model in the serving folder: the Pusher stores the
statistics of each pushed model's data beside it
(``<version>/assets.extra/statistics/``, ``components.atomic_pusher``), so
the check needs no lineage query and reads a bucket or a disk alike, on every
orchestrator. This run's StatisticsGen output is compared split by split
with those statistics (``components.data_drift``). Without a served model
with statistics (a first run) there is nothing to compare and the check
passes; a run stopped for drift pushes nothing, so the baseline stays.
"""


import json
import os
from typing import Optional

import tensorflow as tf
import tensorflow_data_validation as tfdv
from absl import logging
from tfx.components.statistics_gen import stats_artifact_utils
from tfx.dsl.component.experimental.annotations import InputArtifact, Parameter
from tfx.dsl.component.experimental.decorators import component
from tfx.types import artifact_utils, standard_artifacts

from components import data_drift

STATISTICS_DIR = os.path.join("assets.extra", "statistics")  # in a pushed version's folder
STATISTICS_FILE = "FeatureStats.pb"  # StatisticsGen's file in each Split-<name> folder


class DataDriftError(RuntimeError):
    """The data has drifted from the data of the model being served."""


def newest_served_statistics(serving_dir: str) -> Optional[str]:
    """The statistics folder of the newest version in ``serving_dir`` that has one, or None."""
    if not tf.io.gfile.isdir(serving_dir):
        return None
    versions = sorted((name.rstrip("/") for name in tf.io.gfile.listdir(serving_dir)
                       if name.rstrip("/").isdigit()), key=int, reverse=True)
    for version in versions:
        folder = os.path.join(serving_dir, version, STATISTICS_DIR)
        if tf.io.gfile.isdir(folder):
            return folder
    return None


def load_split(folder: str, split: str):
    """The DatasetFeatureStatisticsList of one split in a stored statistics folder, or None."""
    path = os.path.join(folder, f"Split-{split}", STATISTICS_FILE)  # StatisticsGen's own layout
    return tfdv.load_stats_binary(path) if tf.io.gfile.exists(path) else None


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
               serving_dir: Parameter[str]) -> None:
    del code_version  # only the cache key: the fingerprint of this module (pipeline.definition)
    baseline = newest_served_statistics(serving_dir)
    if baseline is None:
        logging.info("DriftCheck: no served model with data statistics in %s; passing", serving_dir)
        return
    measured = measure_against(statistics, baseline, data_drift.DriftThresholds.from_json(json.loads(thresholds)))
    for d in measured:
        logging.info("DriftCheck: %s split, %s: %s %.4f (threshold %g), against %s", d.split, d.column,
                     d.comparator, d.distance, d.threshold, baseline)
    found = data_drift.drifted(measured)
    if found:
        raise DataDriftError(data_drift.describe(found))
