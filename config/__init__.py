"""The pipeline's configuration: one module per section, ``PipelineConfig`` over them, and loading.

``from config import PipelineConfig, Task, ...`` reads the public names from
here. Pure Python (pydantic only): importable without TFX, and it imports
nothing else of the project (tests/test_module_boundaries.py).
"""

from config.architectures import ARCHITECTURES, ModelConfig
from config.data import (CsvData, DataSource, Feature, FileSplit, HashSplit, SyntheticData, TfrecordData,
                         default_num_shards)
from config.drift import DriftConfig
from config.errors import ConfigError
from config.evaluation import BUCKET_SUFFIX, SYNTHETIC_EVALUATION, EvaluationConfig, SliceFeature
from config.loading import build_config, load_config_file, write_config_file
from config.pipeline_config import PipelineConfig
from config.strict import duplicates
from config.tasks import GateConfig, Task
from config.training import TrainingConfig

__all__ = [
    "ARCHITECTURES", "BUCKET_SUFFIX", "SYNTHETIC_EVALUATION",
    "ConfigError", "CsvData", "DataSource", "DriftConfig", "EvaluationConfig", "Feature", "FileSplit", "GateConfig",
    "HashSplit", "ModelConfig", "PipelineConfig", "SliceFeature", "SyntheticData", "Task", "TfrecordData",
    "TrainingConfig", "build_config", "default_num_shards", "duplicates", "load_config_file",
    "write_config_file",
]
