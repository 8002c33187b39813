"""The pipeline an output dir holds, and the configuration its latest model was trained with.

An output dir holds one pipeline (the runner refuses another pipeline's
runs there), so the commands that read one (``mtl-serving-check``,
``mtl-predict``) need no ``--config``: the Trainer's ``custom_config`` in ML
Metadata is the whole configuration the run used, with ``auto`` transforms
and multiclass classes already resolved.
"""

from __future__ import annotations

import json
from pathlib import Path

from config import PipelineConfig
from pipeline.errors import RunStateError


def metadata_path(output_dir: Path) -> Path:
    """``output_dir``'s metadata.sqlite, checked before it is opened (opening would create it)."""
    if not output_dir.is_dir():
        raise RunStateError(f"--output-dir {output_dir} does not exist or is not a directory")
    path = output_dir / "metadata.sqlite"
    if not path.is_file():
        raise RunStateError(f"{output_dir} has no metadata.sqlite: no pipeline has run there")
    return path


def pipeline_names(store) -> list[str]:
    return sorted(c.name for c in store.get_contexts_by_type("pipeline"))


def only_pipeline_name(store, output_dir: Path) -> str:
    """The one pipeline recorded in ``output_dir``'s metadata, or a RunStateError saying why not."""
    names = pipeline_names(store)
    if not names:
        raise RunStateError(f"{output_dir} has no pipeline runs in its metadata")
    if len(names) > 1:
        raise RunStateError(f"{output_dir} holds several pipelines ({', '.join(names)}); "
                            "pass --config with the one you mean")
    return names[0]


def recorded_config(output_dir: Path) -> PipelineConfig:
    """The configuration of the latest finished Trainer run in ``output_dir``."""
    from pipeline.results import mlmd  # loads TFX: after the cheap checks

    store = mlmd.open_store(metadata_path(output_dir))
    name = only_pipeline_name(store, output_dir)
    trainer = mlmd.latest_node_run(store, name, "Trainer")
    if trainer is None or "custom_config" not in trainer.execution.custom_properties:
        raise RunStateError(f"no Trainer run of {name!r} recorded in {output_dir / 'metadata.sqlite'}: "
                            "run the pipeline there first")
    custom_config = json.loads(trainer.execution.custom_properties["custom_config"].string_value or "{}")
    return PipelineConfig.from_custom_config(custom_config)
