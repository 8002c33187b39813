"""Names of raw and transformed features and labels, and the model's input spec.

Raw columns keep the names the file gives them (any characters); everything
Transform writes is named from their internal names (``config.names``:
letters, digits and ``_`` only), so tensors, vocabulary files and Keras layers
get valid names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

from config import PipelineConfig
from config.names import internal_name

TRANSFORMED_SUFFIX = "_xf"


def transformed_name(column: str) -> str:
    """Transform's output for a raw column: ``'education-num'`` -> ``'education_num_xf'``."""
    return internal_name(column) + TRANSFORMED_SUFFIX


def scaled_label_name(label_column: str) -> str:
    """Transform's standardized copy of a regression label: what the Trainer fits."""
    return f"{internal_name(label_column)}_scaled{TRANSFORMED_SUFFIX}"


def weight_name(task_name: str) -> str:
    """Transform's per-task example weight: 0 where the task's label is missing."""
    return f"{task_name}__weight{TRANSFORMED_SUFFIX}"


def vocabulary_name(feature_name: str) -> str:
    """The file Transform writes a categorical feature's vocabulary to."""
    return f"vocab_{internal_name(feature_name)}"


def label_weights(config: PipelineConfig) -> dict[str, str]:
    """Task name -> its transformed example weight (what the Trainer and the Evaluator weigh rows by)."""
    return {task.name: weight_name(task.name) for task in config.tasks}


def transformed_labels(config: PipelineConfig) -> dict[str, str]:
    """Task name -> its transformed (float, 0/1 for binary) label: what the Evaluator scores."""
    return {task.name: transformed_name(task.label) for task in config.tasks}


def training_labels(config: PipelineConfig) -> dict[str, str]:
    """Task name -> the transformed label the Trainer fits (standardized for regression)."""
    scaled = set(config.transform_custom_config()["scaled_labels"])
    return {task.name: scaled_label_name(task.label) if task.label in scaled else transformed_name(task.label)
            for task in config.tasks}


@dataclass(frozen=True)
class ModelInput:
    """One transformed input as the model sees it.

    Numeric: ``size`` floats. Categorical: one index below ``num_indices``
    (0 = missing, then the vocabulary, then the OOV buckets), embedded in
    ``embedding_dim`` dimensions or one-hot when that is None.
    """

    size: int = 1
    num_indices: Optional[int] = None
    embedding_dim: Optional[int] = None
    periodic: bool = False  # numeric: periodic embeddings beside the values (models.numeric_embeddings)
    # numeric: positions among this many quantile bins (models.piecewise_linear), expanded into
    # their piecewise-linear components, then (piecewise_linear_relu) a linear layer and a ReLU
    piecewise_linear_bins: Optional[int] = None
    piecewise_linear_relu: bool = False

    @property
    def categorical(self) -> bool:
        return self.num_indices is not None


def model_inputs(config: PipelineConfig, vocabulary_size: Callable[[str], int]) -> dict[str, ModelInput]:
    """Transformed input name -> ModelInput; ``vocabulary_size`` reads a vocabulary's size by name."""
    spec = {}
    for feature in config.features:
        if feature.type == "numeric":
            embedding = config.model.numeric_embedding
            spec[transformed_name(feature.name)] = ModelInput(
                size=feature.size, periodic=embedding == "periodic",
                piecewise_linear_bins=config.model.encoding_bins,
                piecewise_linear_relu=embedding == "piecewise_linear_relu")
        else:
            num_indices = 1 + vocabulary_size(vocabulary_name(feature.name)) + feature.num_oov_buckets
            spec[transformed_name(feature.name)] = ModelInput(
                num_indices=num_indices, embedding_dim=feature.embedding_dim)
    return spec
