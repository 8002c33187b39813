"""The pipeline's configuration: the single source of truth.

Task names and types, data parameters, model sizes, training settings and the
per-task gates are declared here once. The pipeline builder, the Transform and
Trainer modules and the Evaluator config all read the same object (modules get
it as ``custom_config``), so adding a task is one edit. Each section has its
module in this package; ``PipelineConfig`` holds them and checks them against
each other.

Pure Python (pydantic only): importable and testable without TFX.
"""

from __future__ import annotations

from typing import Annotated, Any, Union

from pydantic import Field, SerializeAsAny, field_validator, model_validator

from config.architectures import ModelConfig, SharedBottomConfig
from config.beam_args import check_beam_args
from config.data import CsvData, Feature, FileSplit, SyntheticData, TfrecordData
from config.drift import DriftConfig
from config.evaluation import SYNTHETIC_EVALUATION, EvaluationConfig
from config.strict import Strict as _Strict
from config.strict import duplicates
from config.task_kinds import TASK_KINDS
from config.tasks import Task
from config.training import TrainingConfig
from config.tuning import TuningConfig

# What the synthetic generator writes a label as (a kind's label_values).
ZERO_ONE, NUMBERS = "0/1", "numbers"


class PipelineConfig(_Strict):
    """Everything one pipeline run needs to know."""

    pipeline_name: str = Field(default="mtl-shared-bottom", pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    tasks: list[Task] = Field(default_factory=lambda: [Task(name="y1"), Task(name="y2")],
                              min_length=1)
    data: Annotated[Union[SyntheticData, CsvData, TfrecordData], Field(discriminator="source")] = Field(
        default_factory=SyntheticData)
    # The architecture's own settings class (config.architectures), dumped as such.
    model: SerializeAsAny[ModelConfig] = Field(default_factory=SharedBottomConfig)
    training: TrainingConfig = Field(default_factory=TrainingConfig)
    evaluation: EvaluationConfig = Field(default_factory=EvaluationConfig)
    drift: DriftConfig = Field(default_factory=DriftConfig)
    tuning: TuningConfig = Field(default_factory=TuningConfig)  # config.tuning
    # Passed to every Beam-based component, e.g. ["--direct_num_workers=2"].
    beam_args: list[str] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _synthetic_by_default(cls, raw):
        # A data section without a source tunes the synthetic generator.
        if isinstance(raw, dict) and isinstance(raw.get("data"), dict) and "source" not in raw["data"]:
            raw = {**raw, "data": {**raw["data"], "source": "synthetic"}}
        # The synthetic data's slice features, unless evaluation is configured.
        if isinstance(raw, dict) and "evaluation" not in raw and (
                not isinstance(raw.get("data"), dict) or raw["data"].get("source") == "synthetic"):
            raw = {**raw, "evaluation": SYNTHETIC_EVALUATION}
        return raw

    @field_validator("beam_args")
    @classmethod
    def _beam_args_can_work(cls, v):
        return check_beam_args(v)  # its DeployArgError is a ValueError: reported per field

    @model_validator(mode="after")
    def _tasks_consistent(self):
        dupes = duplicates([t.name for t in self.tasks])
        if dupes:
            raise ValueError(f"duplicate task names: {', '.join(dupes)}; give each task its own name")
        feature_names = {f.name for f in self.features}
        for task in self.tasks:
            if task.label in feature_names:
                raise ValueError(f"task {task.name!r}: label column {task.label!r} is also listed as a "
                                 f"model input; remove it from data.features (a label must not be an input)")
        labels = {t.label for t in self.tasks}
        weight = self.data.weight_column
        if weight is not None and (weight in labels or weight in feature_names):
            raise ValueError(f"data.example_weight {weight!r} is also a label or a model input; "
                             "name a column holding only the weights")
        for key, named in (("thresholds", list(self.drift.thresholds)), ("skip", self.drift.skip)):
            unknown = [c for c in named if c not in self.columns]
            if unknown:
                raise ValueError(f"drift.{key}: no column {', '.join(map(repr, unknown))} among the columns "
                                 f"the pipeline reads ({', '.join(self.columns)})")
        for feature in self.evaluation.slice_features:
            if feature.name in labels:
                raise ValueError(f"slice feature {feature.name!r} is a label column; slice by an input "
                                 "or by a column the model does not read")
        if self.data.source == "synthetic":
            known = set(self.data.task_names)
            unknown = [t.label for t in self.tasks if t.label not in known]
            if unknown:
                raise ValueError(f"synthetic data has labels {sorted(known)}; "
                                 f"no label named {', '.join(map(repr, unknown))}")
            # The generator writes a label as 0/1 (those in binary_labels; by default, those of the
            # tasks whose type learns 0/1) or as a number; each task's type must learn what is written.
            if not self.data.binary_labels:
                self.data.binary_labels = sorted(t.label for t in self.tasks if t.kind.label_values == ZERO_ONE)
            for task in self.tasks:
                written = ZERO_ONE if task.label in self.data.binary_labels else NUMBERS
                if task.kind.label_values != written:
                    fitting = [k.name for k in TASK_KINDS.values() if k.label_values == written]
                    raise ValueError(
                        f"task {task.name!r}: synthetic label {task.label!r} is written as {written}, so the task "
                        f"type must be {' or '.join(fitting)}, not {task.type} (or change data.binary_labels)")
        return self

    @property
    def features(self) -> list[Feature]:
        return self.data.input_features

    @property
    def task_names(self) -> list[str]:
        return [t.name for t in self.tasks]

    @property
    def evaluation_split(self) -> str:
        """The split the Evaluator, the gates and every reported metric score: ``test``, held out from
        every training decision; ``eval`` only when the user's own split files name no test file."""
        split = getattr(self.data, "split", None)
        return "eval" if isinstance(split, FileSplit) and split.test is None else "test"

    @property
    def columns(self) -> list[str]:
        """Every column the pipeline reads: inputs, labels, slice features and the example weight."""
        weight = self.data.weight_column
        return list(dict.fromkeys([*(f.name for f in self.features), *(t.label for t in self.tasks),
                                   *(f.name for f in self.evaluation.slice_features),
                                   *([weight] if weight else [])]))

    def drift_thresholds(self) -> dict[str, Any]:
        """The drift check's thresholds as JSON (``components.data_drift.DriftThresholds``)."""
        return {"jensen_shannon_divergence": self.drift.jensen_shannon_divergence,
                "infinity_norm": self.drift.infinity_norm,
                "columns": {c: self.drift.thresholds.get(c) for c in self.columns if c not in self.drift.skip}}

    def to_custom_config(self) -> dict[str, Any]:
        """A JSON-ready dict for TFX ``custom_config``."""
        return {"pipeline_config": self.model_dump(mode="json")}

    def transform_custom_config(self) -> dict[str, Any]:
        """The part of the config preprocessing reads: inputs, missing tokens and labels."""
        return {"features": [f.model_dump(mode="json") for f in self.features],
                "missing_values": list(self.data.missing_tokens),
                "labels": [{"name": t.name, "column": t.label, "type": t.type, "positive": t.positive,
                            "missing_label": t.missing_label, "classes": t.classes}
                           for t in self.tasks],
                "example_weight": self.data.weight_column,
                "scaled_labels": sorted({t.label for t in self.tasks if t.kind.standardized_label}),
                "bucketized": [f.model_dump(mode="json") for f in self.evaluation.numeric_slice_features]}

    def transform_model_settings(self) -> dict[str, Any]:
        """What Transform reads of the model's settings: the piecewise-linear encoding's bins, when on.

        Not in ``transform_custom_config``, which DataChoices computes from the
        configuration's data view (the model at its defaults); added to
        Transform's custom_config beside its code version (``pipeline.definition``).
        """
        bins = self.model.encoding_bins
        return {} if bins is None else {"piecewise_linear_bins": bins}

    @classmethod
    def from_custom_config(cls, custom_config: dict[str, Any]) -> "PipelineConfig":
        return cls.model_validate(custom_config["pipeline_config"])
