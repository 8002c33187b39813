"""The decisions DataChoices made in a local run, applied to the whole configuration by ComponentConfigs, read back through ML Metadata."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

from config import PipelineConfig
from config.data_decisions import TransformChoice
from pipeline.results import mlmd

NODE = "ComponentConfigs"  # its run_config: the whole decided configuration


def decided(metadata_path: Path, pipeline_name: str
            ) -> Optional[tuple[PipelineConfig, list[TransformChoice]]]:
    """The configuration as decided in the latest run, and each numeric feature's choice."""
    run = mlmd.latest_node_run(mlmd.open_store(metadata_path), pipeline_name, NODE)
    if run is None:
        return None
    raw = json.loads(Path(run.output("run_config").uri).read_text(encoding="utf-8"))
    return (PipelineConfig.model_validate(raw["pipeline_config"]),
            [TransformChoice(*choice) for choice in raw["transforms"]])
