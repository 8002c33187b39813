"""Where a served model keeps the statistics of its data, and which served model a run compares with.

The Pusher stores StatisticsGen's output of a pushed model's run beside the
model (``<version>/assets.extra/statistics/``, StatisticsGen's own layout;
TF Serving ignores ``assets.extra``), so a later run's drift check reads a
bucket or a disk alike, on every orchestrator.

The served model is the one the newest Pusher output names: the DriftCheck
gets that artifact as an input (``pipeline.baseline.served_model_resolver``),
so a new push is a new cache key. A Pusher that pushed nothing (its model was
not blessed) left the serving folder as it was: the newest version there is
still the served one.
"""

from __future__ import annotations

import os
from typing import Optional

import tensorflow as tf
from tfx.types import standard_artifacts

STATISTICS_DIR = os.path.join("assets.extra", "statistics")  # in a pushed version's folder
STATISTICS_FILE = "FeatureStats.pb"  # StatisticsGen's file in each Split-<name> folder
STATISTICS_URI = "statistics_uri"  # the Pusher's custom_config key: the run's statistics artifact
PUSHED = "pushed"  # custom properties TFX's Pusher sets on its PushedModel
PUSHED_DESTINATION = "pushed_destination"


class MissingBaselineError(RuntimeError):
    """The served model has no statistics of its data to compare a run's data with."""


def copy_statistics(source: str, version_dir: str) -> None:
    """Copies a statistics artifact's folders (``Split-<name>/``) into ``version_dir``'s statistics folder."""
    for split_dir in tf.io.gfile.listdir(source):
        split = split_dir.rstrip("/")
        target = os.path.join(version_dir, STATISTICS_DIR, split)
        tf.io.gfile.makedirs(target)
        for name in tf.io.gfile.listdir(os.path.join(source, split)):
            tf.io.gfile.copy(os.path.join(source, split, name), os.path.join(target, name), overwrite=True)


def newest_version(serving_dir: str) -> Optional[str]:
    """The folder of the newest numbered version in ``serving_dir``, or None."""
    if not tf.io.gfile.isdir(serving_dir):
        return None
    versions = [name.rstrip("/") for name in tf.io.gfile.listdir(serving_dir) if name.rstrip("/").isdigit()]
    return os.path.join(serving_dir, max(versions, key=int)) if versions else None


def served_version(served_model: Optional[standard_artifacts.PushedModel], serving_dir: str) -> Optional[str]:
    """The folder of the served model: where the newest push put it, else the newest in ``serving_dir``."""
    if served_model is not None and served_model.has_custom_property(PUSHED_DESTINATION) \
            and served_model.get_int_custom_property(PUSHED) == 1:
        return served_model.get_string_custom_property(PUSHED_DESTINATION)
    return newest_version(serving_dir)


def served_statistics(served_model: Optional[standard_artifacts.PushedModel], serving_dir: str) -> Optional[str]:
    """The statistics folder of the served model; None if no model is served yet (a first push).

    Raises MissingBaselineError for a served model without statistics: passing
    would let any data replace it unchecked.
    """
    version = served_version(served_model, serving_dir)
    if version is None:
        return None
    folder = os.path.join(version, STATISTICS_DIR)
    if not tf.io.gfile.isdir(folder):
        raise MissingBaselineError(
            f"the served model {version} has no statistics of its data ({STATISTICS_DIR}) to compare this "
            "run's data with (if this run's model should replace it anyway: set drift.enabled: false for "
            "this run, whose push stores them; or start fresh with another --output-dir)")
    return folder


def load_split(folder: str, split: str):
    """The DatasetFeatureStatisticsList of one split in a stored statistics folder, or None."""
    import tensorflow_data_validation as tfdv  # only the drift check reads them

    path = os.path.join(folder, f"Split-{split}", STATISTICS_FILE)  # StatisticsGen's own layout
    return tfdv.load_stats_binary(path) if tf.io.gfile.exists(path) else None
