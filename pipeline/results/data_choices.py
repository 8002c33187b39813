"""The decisions DataChoices made in a local run, read back through ML Metadata."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

from pipeline.config import PipelineConfig
from pipeline.data_choices import TransformChoice
from pipeline.results import mlmd

NODE = "DataChoices"


def decided(metadata_path: Path, pipeline_name: str
            ) -> Optional[tuple[PipelineConfig, list[TransformChoice]]]:
    """The configuration as decided by the latest DataChoices run, and each numeric feature's choice."""
    run = mlmd.latest_node_run(mlmd.open_store(metadata_path), pipeline_name, NODE)
    if run is None:
        return None
    raw = json.loads(Path(run.output("choices").uri).read_text(encoding="utf-8"))
    return (PipelineConfig.model_validate(raw["pipeline_config"]),
            [TransformChoice(*choice) for choice in raw["transforms"]])
