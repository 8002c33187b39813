"""What a warm-started Trainer started from, for the run summary.

The Trainer writes its decision (``models.trainer_outputs.WARM_START_FILE``)
into its model run dir; its ``base_model`` input in ML Metadata is the model it
was given, and the Pusher execution that pushed that model names its serving
version.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

from ml_metadata import metadata_store

from models.trainer_outputs import WARM_START_FILE
from pipeline.results import mlmd


def pushed_destination(store: metadata_store.MetadataStore, model_id: int) -> Optional[str]:
    """Where a Pusher pushed the model ``model_id`` (its serving version folder), if one did."""
    pushed_ids = sorted(mlmd.output_ids(store, mlmd.reader_ids(store, [model_id]), "pushed_model"))
    for pushed in store.get_artifacts_by_id(pushed_ids) if pushed_ids else []:
        if mlmd.int_property(pushed, "pushed"):
            return mlmd.string_property(pushed, "pushed_destination")
    return None


def warm_start_line(store: metadata_store.MetadataStore, trainer: mlmd.NodeRun) -> Optional[str]:
    """'from serving/3 (every layer matched)' or 'from scratch (<why>)'; None without a decision."""
    path = Path(trainer.output("model_run").uri) / WARM_START_FILE
    if not path.is_file():
        return None
    decision = json.loads(path.read_text())
    if decision["warm_start"] != "from":
        return f"from scratch ({decision['reason']})"
    base = trainer.inputs.get("base_model", [])
    destination = pushed_destination(store, base[0].id) if base else None
    where = "/".join(Path(destination).parts[-2:]) if destination else decision["base_model"]
    return f"from {where} ({decision['reason']})"
