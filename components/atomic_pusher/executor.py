"""The Pusher's executor, with an all-or-nothing push to a filesystem destination.

TFX's Pusher copies the model file by file into ``<serving>/<version>/``: a
run killed, or a disk filled, during that copy leaves a half-written version
that a model server polling the folder may load. This executor lets TFX's
Pusher copy into a staging folder beside the serving folder
(``<serving>.incoming/``, same filesystem) and then moves the finished
version into place with one rename. Whatever an interrupted push left in the
staging folder is removed by the next push. A destination on an object store
(``gs://...``) has no rename: it gets TFX's own push.

Each pushed version also holds the statistics of the data its model was
trained and evaluated on (``assets.extra/statistics/``, StatisticsGen's
layout; TF Serving ignores ``assets.extra``), the baseline the drift check of
later runs compares with (``components.drift_check``). Their location comes
in ``custom_config`` (``components.component_configs.STATISTICS_URI``).
"""

from __future__ import annotations

import json
import os
import shutil
from typing import Any, Dict, List

import tensorflow as tf
from absl import logging
from tfx import types
from tfx.components.pusher import executor as tfx_pusher
from tfx.proto import pusher_pb2
from tfx.types import artifact_utils, standard_component_specs
from tfx.utils import proto_utils

from components.component_configs import STATISTICS_URI
from components.drift_check import STATISTICS_DIR

PUSHED_DESTINATION = "pushed_destination"  # the custom property TFX's Pusher sets on its output


def staging_dir(serving_dir: str) -> str:
    """Where versions are written before they are moved into ``serving_dir``."""
    return os.path.normpath(serving_dir) + ".incoming"


def store_statistics(exec_properties: Dict[str, Any], version_dir: str) -> None:
    """Copies the run's statistics into ``version_dir/assets.extra/statistics`` (if configured)."""
    custom_config = json.loads(exec_properties.get(standard_component_specs.CUSTOM_CONFIG_KEY) or "null")
    source = (custom_config or {}).get(STATISTICS_URI)
    if not source:
        return
    for split_dir in tf.io.gfile.listdir(source):
        split = split_dir.rstrip("/")
        target = os.path.join(version_dir, STATISTICS_DIR, split)
        tf.io.gfile.makedirs(target)
        for name in tf.io.gfile.listdir(os.path.join(source, split)):
            tf.io.gfile.copy(os.path.join(source, split, name), os.path.join(target, name), overwrite=True)


def move_into_place(staged: str, final: str) -> bool:
    """Renames a finished version into the serving folder; False if that version already exists."""
    os.makedirs(os.path.dirname(final), exist_ok=True)
    if os.path.exists(final):
        return False
    os.rename(staged, final)  # atomic on one filesystem; fails rather than merges if final appeared
    return True


class Executor(tfx_pusher.Executor):
    """TFX's Pusher executor, writing beside the serving folder and renaming into it."""

    def Do(self, input_dict: Dict[str, List[types.Artifact]],
           output_dict: Dict[str, List[types.Artifact]],
           exec_properties: Dict[str, Any]) -> None:
        destination = pusher_pb2.PushDestination()
        proto_utils.json_to_proto(exec_properties[standard_component_specs.PUSH_DESTINATION_KEY],
                                  destination)
        serving_dir = destination.filesystem.base_directory
        if destination.WhichOneof("destination") != "filesystem" or "://" in serving_dir:
            # Object stores (gs://, s3://) have no atomic rename: TFX's Pusher copies
            # saved_model.pb last, which model servers there wait for.
            super().Do(input_dict, output_dict, exec_properties)
            pushed = artifact_utils.get_single_instance(
                output_dict[standard_component_specs.PUSHED_MODEL_KEY])
            if pushed.get_string_custom_property(PUSHED_DESTINATION):
                store_statistics(exec_properties, pushed.get_string_custom_property(PUSHED_DESTINATION))
            return
        staging = staging_dir(serving_dir)
        shutil.rmtree(staging, ignore_errors=True)  # what an interrupted push left
        staged_destination = pusher_pb2.PushDestination()
        staged_destination.CopyFrom(destination)
        staged_destination.filesystem.base_directory = staging
        staged_properties = dict(exec_properties)
        staged_properties[standard_component_specs.PUSH_DESTINATION_KEY] = proto_utils.proto_to_json(
            staged_destination)
        try:
            super().Do(input_dict, output_dict, staged_properties)
            pushed = artifact_utils.get_single_instance(
                output_dict[standard_component_specs.PUSHED_MODEL_KEY])
            staged = pushed.get_string_custom_property(PUSHED_DESTINATION)
            if not staged:  # not blessed: nothing was pushed
                return
            store_statistics(exec_properties, staged)
            final = os.path.join(serving_dir, os.path.basename(staged))
            if not move_into_place(staged, final):
                logging.info("Destination directory %s already exists, skipping current push.", final)
            pushed.set_string_custom_property(PUSHED_DESTINATION, final)
            logging.info("Model moved into the serving path %s.", final)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
