"""The pipeline's configuration: its schema (``schema.py``) and loading.

``from config import PipelineConfig, Task, ...`` reads the public
names from here. Pure Python (pydantic only): importable without TFX.
"""

from config.architectures import ARCHITECTURES, ModelConfig
from config.schema import (BUCKET_SUFFIX, SYNTHETIC_EVALUATION, DataSource,
                                    ConfigError, CsvData, DriftConfig, EvaluationConfig, Feature,
                                    FileSplit, GateConfig, HashSplit, PipelineConfig, SliceFeature,
                                    SyntheticData, Task, TfrecordData, TrainingConfig, build_config,
                                    default_num_shards, duplicates, load_config_file,
                                    write_config_file)

__all__ = [
    "ARCHITECTURES", "BUCKET_SUFFIX", "SYNTHETIC_EVALUATION",
    "ConfigError", "CsvData", "DataSource", "DriftConfig", "EvaluationConfig", "Feature", "FileSplit", "GateConfig",
    "HashSplit", "ModelConfig", "PipelineConfig", "SliceFeature", "SyntheticData", "Task", "TfrecordData",
    "TrainingConfig", "build_config", "default_num_shards", "duplicates", "load_config_file",
    "write_config_file",
]
