"""The Pusher's executor, with an all-or-nothing push to a filesystem destination.

TFX's Pusher copies the model file by file into ``<serving>/<version>/``: a
run killed, or a disk filled, during that copy leaves a half-written version
that a model server polling the folder may load. This executor lets TFX's
Pusher copy into a staging folder beside the serving folder
(``<serving>.incoming/``, same filesystem) and then moves the finished
version into place with one rename. Whatever an interrupted push left in the
staging folder is removed by the next push. A destination on an object store
(``gs://...``) has no rename: there the version is written in place, as TFX's
Pusher writes it, with ``saved_model.pb`` last (model servers wait for it).

Each pushed version also holds the statistics of the data its model was
trained and evaluated on (``components.served_statistics``), the baseline the
drift check of later runs compares with. They are written before the model
becomes visible (before the rename; on an object store, before
``saved_model.pb``), so a served model always has them. Their location comes in
``custom_config`` (``components.served_statistics.STATISTICS_URI``).
"""

from __future__ import annotations

import json
import os
import shutil
import time
from typing import Any, Dict, List

from absl import logging
from tfx import types
from tfx.components.pusher import executor as tfx_pusher
from tfx.dsl.io import fileio
from tfx.proto import pusher_pb2
from tfx.types import artifact_utils, standard_component_specs
from tfx.utils import io_utils, proto_utils

from components.served_statistics import PUSHED_DESTINATION, STATISTICS_URI, copy_statistics

SAVED_MODEL = "saved_model.pb"


def staging_dir(serving_dir: str) -> str:
    """Where versions are written before they are moved into ``serving_dir``."""
    return os.path.normpath(serving_dir) + ".incoming"


def store_statistics(exec_properties: Dict[str, Any], version_dir: str) -> None:
    """Copies the run's statistics into ``version_dir/assets.extra/statistics`` (if configured)."""
    custom_config = json.loads(exec_properties.get(standard_component_specs.CUSTOM_CONFIG_KEY) or "null")
    source = (custom_config or {}).get(STATISTICS_URI)
    if source:
        copy_statistics(source, version_dir)


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
        if destination.WhichOneof("destination") != "filesystem":
            super().Do(input_dict, output_dict, exec_properties)
            return
        if "://" in serving_dir:  # an object store (gs://, s3://): no atomic rename
            self._push_in_place(input_dict, output_dict, exec_properties, serving_dir)
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

    def _push_in_place(self, input_dict: Dict[str, List[types.Artifact]],
                       output_dict: Dict[str, List[types.Artifact]],
                       exec_properties: Dict[str, Any], serving_dir: str) -> None:
        """TFX's push to a filesystem (a UNIX-time version, ``saved_model.pb`` copied last),
        with the statistics written before ``saved_model.pb``: a model server sees no version without them."""
        pushed = artifact_utils.get_single_instance(output_dict[standard_component_specs.PUSHED_MODEL_KEY])
        if not self.CheckBlessing(input_dict):
            self._MarkNotPushed(pushed)
            return
        model_path = self.GetModelPath(input_dict)
        version = str(int(time.time()))
        final = os.path.join(serving_dir, version)
        if fileio.exists(final):
            logging.info("Destination directory %s already exists, skipping current push.", final)
        else:
            io_utils.copy_dir(model_path, final, deny_regex_patterns=[r"saved_model\.pb"])  # empties final first
            store_statistics(exec_properties, final)
            io_utils.copy_file(os.path.join(model_path, SAVED_MODEL), os.path.join(final, SAVED_MODEL))
            logging.info("Model written to serving path %s.", final)
        io_utils.copy_dir(model_path, pushed.uri)  # archived with the artifact, as TFX's Pusher does
        self._MarkPushed(pushed, pushed_destination=final, pushed_version=version)
