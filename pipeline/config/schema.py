"""The pipeline's configuration: the single source of truth.

Task names and types, data parameters, model sizes, training settings and the
per-task gates are declared here once. The pipeline builder, the Transform and
Trainer modules and the Evaluator config all read the same object (modules get
it as ``custom_config``), so adding a task is one edit.

Pure Python (pydantic only): importable and testable without TFX.
"""

from __future__ import annotations

import glob
import math
import os
from typing import Annotated, Any, ClassVar, Literal, Optional, Union

import pydantic
from pydantic import Field, SerializeAsAny, ValidationInfo, field_validator, model_validator

from models import tasks as task_types
from pipeline.config import names
from pipeline.config.architectures import ModelConfig, SharedBottomConfig
from pipeline.config.beam_args import check_beam_args
from pipeline.config.strict import Strict as _Strict
from pipeline.config.tuning import TuningConfig
from pipeline.errors import UsageError

# Transform writes a numeric slice feature's quantile bucket as <internal name>_bucket.
BUCKET_SUFFIX = "_bucket"
# A column as the file's header names it: any characters, no surrounding spaces
# (the header's spaces around a name are dropped when it is read).
COLUMN_NAME = r"^\S(.*\S)?$"
MISSING_LABEL = Literal["drop_row", "mask"]


def duplicates(names: list[str]) -> list[str]:
    return sorted({n for n in names if names.count(n) > 1})


class ConfigError(UsageError):
    """A configuration value that cannot work; the message names field and fix."""


class GateConfig(_Strict):
    """When a task's model is good enough to push (TFMA thresholds).

    Absolute gates stop a bad model even on the first run, when there is no
    baseline yet. R² and AUC are scale-free, so one default works whatever the
    label scale; ``max_mse``/``max_log_loss`` are optional absolute bounds.
    ``max_drop`` is the change gate: the candidate's R² (or AUC) may be at most
    this much below the last blessed model's.
    """

    min_r2: Optional[float] = None
    max_mse: Optional[float] = Field(default=None, gt=0)
    min_auc: Optional[float] = Field(default=None, ge=0, le=1)
    max_log_loss: Optional[float] = Field(default=None, gt=0)
    min_accuracy: Optional[float] = Field(default=None, ge=0, le=1)
    max_drop: float = Field(default=0.05, ge=0)

    @field_validator("min_r2")
    @classmethod
    def _r2_at_most_one(cls, v):
        if v is not None and v > 1:
            raise ValueError(f"min_r2 must be at most 1, got {v}")
        return v


class Task(_Strict):
    """One prediction the model makes: one head, one loss, one gate."""

    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    type: str = "regression"
    label: Optional[str] = Field(default=None, pattern=COLUMN_NAME)  # label column; defaults to the task name
    # A row without this task's label: ``mask`` trains the other tasks on it (this
    # task's weight 0, and its metrics leave the row out); ``drop_row`` leaves the
    # row out of training and evaluation for every task.
    missing_label: MISSING_LABEL = "mask"
    # Multiclass tasks: the class names in index order; empty = Transform's
    # vocabulary of the label column (most frequent first).
    classes: list[str] = Field(default_factory=list)
    # Binary tasks: the label value(s) meaning 1 when the column is not 0/1 (e.g. ">50K").
    positive: list[str] = Field(default_factory=list)
    loss_weight: float = Field(default=1.0, gt=0)
    output_activation: Optional[str] = None  # one of the task type's output_activations
    gate: GateConfig = Field(default_factory=GateConfig)

    @field_validator("positive", mode="before")
    @classmethod
    def _one_or_many(cls, v):
        return [v] if isinstance(v, (str, int, float)) else v

    @field_validator("positive", "classes", mode="before")
    @classmethod
    def _as_text(cls, v):
        return [str(p).strip() for p in v] if isinstance(v, list) else v

    @field_validator("type")
    @classmethod
    def _known_type(cls, v):
        if v not in task_types.TASK_TYPES:
            raise ValueError(f"task type must be {' or '.join(map(repr, task_types.TASK_TYPES))}, got {v!r}")
        return v

    @model_validator(mode="after")
    def _defaults_by_type(self):
        kind = self.task_type
        if self.label is None:
            self.label = self.name
        if self.positive and not kind.accepts_positive:
            raise ValueError(f"task {self.name!r}: positive is for binary tasks, not {self.type}")
        if self.classes and not kind.class_outputs:
            raise ValueError(f"task {self.name!r}: classes are for multiclass tasks, not {self.type}")
        if self.classes and (len(self.classes) < 2 or len(set(self.classes)) != len(self.classes)):
            raise ValueError(f"task {self.name!r}: classes must list at least two distinct class names, "
                             f"got {self.classes}; a task with one class has nothing to predict")
        if self.output_activation is None:
            self.output_activation = kind.output_activation
        elif self.output_activation not in kind.output_activations:
            raise ValueError(
                f"task {self.name!r}: a {self.type} task needs output_activation "
                f"{' or '.join(map(repr, kind.output_activations))} "
                f"(its loss is log loss on a probability), got {self.output_activation!r}")
        gate = self.gate
        allowed = kind.gate_fields
        others = [f for f in task_types.GATE_FIELDS if f not in allowed]
        if any(getattr(gate, f) is not None for f in others):
            raise ValueError(f"task {self.name!r} is {self.type}: use {'/'.join(allowed)} gates, "
                             f"not {'/'.join(others)}")
        if all(getattr(gate, f) is None for f in allowed):
            for name, value in kind.default_gate.items():
                setattr(gate, name, value)
        return self

    @property
    def task_type(self) -> task_types.TaskType:
        """This task's entry in the task-type registry."""
        return task_types.task_type(self.type)

    @property
    def output_size(self) -> int:
        """The model's outputs for this task: one per class, or one number."""
        return len(self.classes) if self.task_type.class_outputs else 1

    @property
    def key_metric(self) -> str:
        """The metric the change gate compares with the baseline."""
        return self.task_type.key_metric


class Feature(_Strict):
    """A model input.

    ``numeric``: transformed by ``transform`` (element by element for a vector
    feature); a missing value becomes 0 after the transform (the mean, for
    ``z_score`` and ``log``). ``z_score`` scales to mean 0 and variance 1;
    ``log`` is sign(x)·log1p(|x|), then z-score; ``quantile`` maps the value
    to its quantile bucket among ``quantile_buckets``, scaled to [0, 1];
    ``none`` passes it as it is. ``auto`` (the default) is decided from the
    training data before the run (``log`` for a heavy-tailed non-negative
    column, else ``z_score``) and written into the run's configuration.
    ``clip: [low, high]`` clips the raw value first. ``categorical``: a vocabulary
    computed by Transform, with ``num_oov_buckets`` for values it never saw and
    one index for a missing value, fed to the model as an embedding of
    ``embedding_dim`` or, without one, one-hot.
    """

    name: str = Field(pattern=COLUMN_NAME)  # the column, as the header names it
    type: Literal["numeric", "categorical"] = "numeric"
    size: int = Field(default=1, ge=1)  # values per example (a numeric vector feature)
    num_oov_buckets: int = Field(default=1, ge=1)
    embedding_dim: Optional[int] = Field(default=None, ge=1)
    transform: Literal["auto", "z_score", "log", "quantile", "none"] = "auto"
    clip: Optional[tuple[float, float]] = None
    quantile_buckets: int = Field(default=10, ge=2)

    @model_validator(mode="after")
    def _options_match_type(self):
        if self.type == "categorical" and self.size != 1:
            raise ValueError(f"feature {self.name!r}: a categorical feature holds one value (size 1)")
        if self.type == "numeric" and self.embedding_dim is not None:
            raise ValueError(f"feature {self.name!r}: embedding_dim is for categorical features")
        if self.type == "categorical" and (self.transform != "auto" or self.clip is not None):
            raise ValueError(f"feature {self.name!r}: transform and clip are for numeric features; "
                             "a categorical feature is indexed by its vocabulary")
        if self.clip is not None and not self.clip[0] < self.clip[1]:
            raise ValueError(f"feature {self.name!r}: clip must be [low, high] with low < high, "
                             f"got {list(self.clip)}")
        return self

    @property
    def resolved_transform(self) -> str:
        """The transform Transform applies; ``auto`` not decided from data falls back to z_score."""
        return "z_score" if self.transform == "auto" else self.transform


def _resolve_path(value: Optional[str], info: ValidationInfo) -> Optional[str]:
    """Relative paths are read from the folder of the config file that names them; URIs stay as they are."""
    base_dir = (info.context or {}).get("base_dir")
    if value is None or base_dir is None or os.path.isabs(value) or "://" in value:
        return value
    return os.path.normpath(os.path.join(base_dir, value))


class HashSplit(_Strict):
    """Splits one input into train, eval and test by hash, in the ratio train_buckets:eval_buckets:test_buckets.

    train fits the model, eval stops training early and picks the weights
    and the Tuner's trial, test is scored by the Evaluator and nothing else.
    4:1:1, not 8:1:1, on small tables: about twice the test rows and narrower
    intervals, with no measurable loss from the smaller training split.
    """

    train_buckets: int = Field(default=4, ge=1)
    eval_buckets: int = Field(default=1, ge=1)
    test_buckets: int = Field(default=1, ge=1)


class FileSplit(_Strict):
    """Splits that already exist: a file or glob for each; without ``test`` the Evaluator scores eval."""

    train: str
    eval: str
    test: Optional[str] = None

    resolve_paths = field_validator("train", "eval", "test")(_resolve_path)


class DataSource(_Strict):
    """Where the examples come from (``data.source``): what the rest of the pipeline asks every source.

    ``input_features``: the model's inputs; ``missing_tokens``: cell values
    that mean missing besides an empty one; ``weight_column``: the column of
    example weights, or None; ``split_patterns``: the files it reads, by
    split; ``rows_readable``: whether the checks before the run can read its
    rows (and choose transforms and classes from them), and when not,
    ``unread_inputs``: what the transform choice says instead;
    ``at_least``: whether it is that large; ``with_input_features``: the
    source with its inputs' transforms decided.
    """

    # A curated schema (schema.pbtxt) to validate against instead of inferring one.
    schema_file: Optional[str] = None

    rows_readable: ClassVar[bool] = False
    unread_inputs: ClassVar[str] = ""

    resolve_paths = field_validator("schema_file")(_resolve_path)

    @property
    def input_features(self) -> list[Feature]:
        raise NotImplementedError

    @property
    def missing_tokens(self) -> list[str]:
        return []

    @property
    def weight_column(self) -> Optional[str]:
        return None

    def split_patterns(self) -> dict[str, str]:
        """Split name -> file or glob; a hash split reads everything as one input (``all``)."""
        return {}

    def at_least(self, examples: int, file_bytes: int) -> bool:
        """Whether it holds at least ``examples`` examples or, as files, ``file_bytes`` bytes."""
        raise NotImplementedError

    def with_input_features(self, features: list[Feature]) -> "DataSource":
        """This source with its inputs' settings replaced (by the transforms chosen before the run)."""
        raise NotImplementedError


class _FileData(DataSource):
    """Data in files: ``path`` (a file or glob) split by hash, or existing splits."""

    path: Optional[str] = None
    split: Union[FileSplit, HashSplit] = Field(default_factory=HashSplit)
    features: list[Feature] = Field(min_length=1)
    # A column of non-negative weights applied to every task (0 leaves the row out).
    example_weight: Optional[str] = Field(default=None, pattern=COLUMN_NAME)
    # Values that mean missing, besides an empty one (e.g. "?").
    missing_values: list[str] = Field(default_factory=list)

    resolve_paths = field_validator("path", "schema_file")(_resolve_path)

    @model_validator(mode="after")
    def _one_input(self):
        if isinstance(self.split, FileSplit) and self.path is not None:
            raise ValueError("give either path (split by hash) or split.train/split.eval "
                             "(existing splits), not both")
        if isinstance(self.split, HashSplit) and self.path is None:
            raise ValueError("path is required: the file or glob to read")
        dupes = duplicates([f.name for f in self.features])
        if dupes:
            raise ValueError(f"features listed twice: {', '.join(dupes)}")
        return self

    def split_patterns(self) -> dict[str, str]:
        if isinstance(self.split, FileSplit):
            named = {"train": self.split.train, "eval": self.split.eval, "test": self.split.test}
            return {name: pattern for name, pattern in named.items() if pattern is not None}
        return {"all": self.path}

    @property
    def input_features(self) -> list[Feature]:
        return self.features

    @property
    def missing_tokens(self) -> list[str]:
        return self.missing_values

    @property
    def weight_column(self) -> Optional[str]:
        return self.example_weight

    def input_bytes(self) -> int:
        """Total size of the files it reads (0 if there are none yet)."""
        files = {f for pattern in self.split_patterns().values() for f in glob.glob(pattern)}
        return sum(os.path.getsize(f) for f in files if os.path.isfile(f))

    def at_least(self, examples: int, file_bytes: int) -> bool:
        return self.input_bytes() >= file_bytes

    def with_input_features(self, features: list[Feature]) -> "DataSource":
        return self.model_copy(update={"features": features})


class CsvData(_FileData):
    """CSV files with a header row (CsvExampleGen).

    An empty cell is a missing value; ``missing_values`` declares other
    tokens that mean the same (for example ``?``).
    """

    source: Literal["csv"] = "csv"
    rows_readable: ClassVar[bool] = True


class TfrecordData(_FileData):
    """TFRecord files of tf.Example, optionally gzipped (ImportExampleGen)."""

    source: Literal["tfrecord"] = "tfrecord"
    unread_inputs: ClassVar[str] = "TFRecord input is not inspected before the run; set transform to choose"


class SyntheticData(DataSource):
    """The MMoE paper's synthetic multi-task data (Ma et al., KDD 2018).

    ``num_tasks`` regression labels ``y1 .. yK`` (2 by default, the paper's
    setup); ``correlation`` is the cosine between every two tasks' weight
    vectors (at least -1/(K-1)); ``c`` scales the weights, ``m`` is the number
    of sinusoids.
    """

    source: Literal["synthetic"] = "synthetic"
    num_examples: int = Field(default=3000, ge=10)
    example_dim: int = Field(default=100, ge=2)
    correlation: float = 0.8
    c: float = Field(default=0.3, gt=0)
    m: int = Field(default=5, ge=0)
    seed: int = Field(default=7, ge=0)
    num_tasks: int = Field(default=2, ge=2)
    # Work units a distributed runner can spread over workers; the same seed
    # and shard count give byte-identical examples whatever the worker count.
    num_shards: Optional[int] = Field(default=None, ge=1)
    train_buckets: int = Field(default=8, ge=1)  # train:eval:test hash-bucket ratio
    eval_buckets: int = Field(default=1, ge=1)
    test_buckets: int = Field(default=1, ge=1)
    # Labels written as 0/1: 1 where the label is above its expected value.
    binary_labels: list[str] = Field(default_factory=list)

    unread_inputs: ClassVar[str] = "synthetic inputs are standard normal"

    @model_validator(mode="after")
    def _tasks_fit(self):
        unknown = [name for name in self.binary_labels if name not in self.task_names]
        if unknown:
            raise ValueError(f"binary_labels: no synthetic label {', '.join(map(repr, unknown))}; "
                             f"the labels are {', '.join(self.task_names)} (data.num_tasks: {self.num_tasks})")
        lowest = -1.0 / (self.num_tasks - 1)
        if self.correlation < lowest - 1e-12:
            raise ValueError(f"correlation {self.correlation} is impossible for {self.num_tasks} tasks: every pair "
                             f"can have a cosine of at least -1/(num_tasks - 1) = {lowest:.4g}")
        if self.num_tasks > self.example_dim:
            raise ValueError(f"num_tasks ({self.num_tasks}) cannot exceed example_dim ({self.example_dim}): "
                             "each task needs its own direction")
        return self

    @field_validator("correlation")
    @classmethod
    def _correlation_range(cls, v):
        if not -1.0 <= v <= 1.0 or math.isnan(v):
            raise ValueError(f"correlation must be in [-1, 1], got {v}")
        return v

    @model_validator(mode="after")
    def _default_shards(self):
        if self.num_shards is None:
            self.num_shards = default_num_shards(self.num_examples)
        elif self.num_shards > self.num_examples:
            raise ValueError(f"num_shards ({self.num_shards}) cannot exceed "
                             f"num_examples ({self.num_examples})")
        return self

    @property
    def task_names(self) -> tuple[str, ...]:
        return tuple(f"y{k + 1}" for k in range(self.num_tasks))

    @property
    def input_features(self) -> list[Feature]:
        """The generator's one input: ``x``, a vector of ``example_dim`` standard normal numbers."""
        return [Feature(name="x", size=self.example_dim)]

    def at_least(self, examples: int, file_bytes: int) -> bool:
        return self.num_examples >= examples

    def with_input_features(self, features: list[Feature]) -> "DataSource":
        # The generator's input is fixed: standard normal numbers, whose auto transform is z_score.
        return self


def default_num_shards(num_examples: int) -> int:
    """About 50k examples a shard: one shard for laptop runs, more to spread."""
    return max(1, min(256, math.ceil(num_examples / 50_000)))


class SliceFeature(_Strict):
    """A column evaluation slices by (a model input or not; never a label).

    Categorical columns are sliced by value. Numeric columns are cut by
    Transform into ``num_buckets`` quantile buckets, sliced as ``<name>_bucket``
    (0 is the lowest quantile).
    """

    name: str = Field(pattern=COLUMN_NAME)  # the column, as the header names it
    type: Literal["categorical", "numeric"] = "categorical"
    num_buckets: int = Field(default=4, ge=2)

    @property
    def slice_column(self) -> str:
        """The column TFMA slices on: the raw value, or Transform's bucket."""
        return f"{names.internal_name(self.name)}{BUCKET_SUFFIX}" if self.type == "numeric" else self.name


class EvaluationConfig(_Strict):
    """Which slices the Evaluator breaks every task's metrics down by.

    ``slices`` lists feature crosses by slice feature name: ``[segment]`` is one
    slice per segment, ``[segment, x_norm]`` one per segment and x_norm bucket.
    The overall slice is always evaluated; gates apply to it only. The defaults
    name the synthetic data's slice features when the data is synthetic; with
    other data there are none until you name your own columns.
    """

    slice_features: list[SliceFeature] = Field(default_factory=list)
    slices: list[list[str]] = Field(default_factory=list)
    # Prediction range of the predicted-against-actual plot of regression tasks.
    regression_plot_range: tuple[float, float] = (-10.0, 10.0)
    # 95% intervals of every metric on every slice, computed by TFMA: jackknife
    # (20 leave-one-bucket-out merges of per-bucket accumulators, about the cost
    # of one pass), poisson_bootstrap (20 resampled passes), or none.
    confidence_intervals: Literal["jackknife", "poisson_bootstrap", "none"] = "jackknife"

    @model_validator(mode="after")
    def _slices_name_slice_features(self):
        names = [f.name for f in self.slice_features]
        dupes = duplicates(names)
        if dupes:
            raise ValueError(f"duplicate slice features: {', '.join(dupes)}")
        for columns in self.slices:
            unknown = [c for c in columns if c not in names]
            if not columns or unknown or len(set(columns)) != len(columns):
                raise ValueError(f"slice {columns} must name distinct slice features from {names}")
        low, high = self.regression_plot_range
        if not low < high:
            raise ValueError(f"regression_plot_range must be [low, high] with low < high, got {[low, high]}")
        return self

    def slice_columns(self, columns: list[str]) -> list[str]:
        by_name = {f.name: f for f in self.slice_features}
        return [by_name[c].slice_column for c in columns]

    @property
    def numeric_slice_features(self) -> list[SliceFeature]:
        return [f for f in self.slice_features if f.type == "numeric"]


SYNTHETIC_EVALUATION = {
    "slice_features": [{"name": "segment"}, {"name": "x_norm", "type": "numeric"}],
    "slices": [["segment"], ["x_norm"], ["segment", "x_norm"]],
}


class TrainingConfig(_Strict):
    """How long and how the model trains (see models/budget.py for the plan).

    The budget is ``epochs`` (passes over the training split) or
    ``train_steps`` (batches); with neither, training runs until early
    stopping ends it, at most ``max_steps``. Early stopping watches the loss
    on the first ``eval_steps`` batches of the eval split, checked about once
    an epoch (at least every ``MIN_STEPS_PER_CHECK``, at most every
    ``MAX_STEPS_PER_CHECK`` steps); after ``patience`` checks without
    improvement it stops and restores the best weights.
    """

    seed: int = Field(default=7, ge=0)  # weight initialisation and shuffling
    train_steps: Optional[int] = Field(default=None, ge=1)
    epochs: Optional[int] = Field(default=None, ge=1)
    max_steps: int = Field(default=10_000, ge=1)
    early_stopping: bool = True
    patience: int = Field(default=10, ge=1)
    eval_steps: int = Field(default=20, ge=1)
    batch_size: int = Field(default=128, ge=1)
    learning_rate: float = Field(default=1e-3, gt=0)
    # static: each task's loss_weight. uncertainty: weights learned from a log variance
    # per task (Kendall et al., 2018), on top of the static ones.
    task_weighting: Literal["static", "uncertainty"] = "static"

    @model_validator(mode="after")
    def _one_budget(self):
        if self.train_steps is not None and self.epochs is not None:
            raise ValueError("give training.epochs or training.train_steps, not both")
        return self


class DriftConfig(_Strict):
    """When a run's data has drifted too far from the data of the model being served.

    Before Transform, each column the pipeline reads (inputs, labels, slice
    features, the example weight) is compared, split by split, with the same
    column in the data the newest blessed model was evaluated on: a numeric
    column by the Jensen-Shannon divergence of its histograms, a categorical
    one by the L-infinity distance of its value shares (the largest change in
    any one value's share). A distance above its threshold stops the run. The
    first run, and a run on the same data, have nothing to compare and pass.

    ``thresholds``: a column's own threshold (for whichever of the two
    distances its type gets); ``skip``: columns not compared; ``enabled:
    false`` turns the check off (run once so to accept a change of data: the
    model it pushes makes that data the new baseline).
    """

    enabled: bool = True
    jensen_shannon_divergence: float = Field(default=0.1, gt=0, le=1)
    infinity_norm: float = Field(default=0.1, gt=0, le=1)
    thresholds: dict[str, Annotated[float, Field(gt=0, le=1)]] = Field(default_factory=dict)
    skip: list[str] = Field(default_factory=list)


class PipelineConfig(_Strict):
    """Everything one pipeline run needs to know."""

    pipeline_name: str = Field(default="mtl-shared-bottom", pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    tasks: list[Task] = Field(default_factory=lambda: [Task(name="y1"), Task(name="y2")],
                              min_length=1)
    data: Annotated[Union[SyntheticData, CsvData, TfrecordData], Field(discriminator="source")] = Field(
        default_factory=SyntheticData)
    # The architecture's own settings class (pipeline.config.architectures), dumped as such.
    model: SerializeAsAny[ModelConfig] = Field(default_factory=SharedBottomConfig)
    training: TrainingConfig = Field(default_factory=TrainingConfig)
    evaluation: EvaluationConfig = Field(default_factory=EvaluationConfig)
    drift: DriftConfig = Field(default_factory=DriftConfig)
    tuning: TuningConfig = Field(default_factory=TuningConfig)  # pipeline.config.tuning
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
            # A 0/1 task's synthetic label is written as 0/1 unless listed otherwise.
            # The generator writes a label as 0/1 (for a binary task) or as a number.
            if not self.data.binary_labels:
                self.data.binary_labels = sorted(t.label for t in self.tasks if t.type == "binary")
            for task in self.tasks:
                emitted = task_types.task_type("binary" if task.label in self.data.binary_labels else "regression")
                if emitted.label_values != task.task_type.label_values:
                    raise ValueError(
                        f"task {task.name!r}: synthetic label {task.label!r} is "
                        f"{'0/1' if emitted.name == 'binary' else 'continuous'}, so the task type must be "
                        f"{emitted.name} (or change data.binary_labels)")
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
                "scaled_labels": sorted({t.label for t in self.tasks if t.task_type.standardized_label}),
                "bucketized": [f.model_dump(mode="json") for f in self.evaluation.numeric_slice_features]}

    @classmethod
    def from_custom_config(cls, custom_config: dict[str, Any]) -> "PipelineConfig":
        return cls.model_validate(custom_config["pipeline_config"])


def _describe(error: dict[str, Any]) -> str:
    where = ".".join(str(part) for part in error["loc"])
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = "unknown setting (check the spelling)"
    elif error["type"] not in ("value_error",) and "input" in error:
        shown = error["input"]
        if not isinstance(shown, (dict, list)):
            message = f"{message}, got {shown!r}"
    return f"{where}: {message}" if where else message


def build_config(raw: Optional[dict[str, Any]] = None, base_dir: Optional[str] = None) -> PipelineConfig:
    """Validates a plain dict; raises ConfigError with one line per problem.

    Relative data paths are resolved against ``base_dir`` (the config file's folder).
    """
    try:
        return PipelineConfig.model_validate(raw or {}, context={"base_dir": base_dir})
    except pydantic.ValidationError as exc:
        lines = [_describe(e) for e in exc.errors()]
        raise ConfigError("invalid configuration: " + "; ".join(lines)) from None


def load_config_file(path) -> dict[str, Any]:
    """Reads a YAML configuration file into a plain dict (validated by build_config)."""
    import yaml  # local: only the file path needs it

    try:
        text = open(path, encoding="utf-8").read()
    except OSError as exc:
        raise ConfigError(f"cannot read configuration file {path}: {exc.strerror}") from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from None
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path} must hold a mapping of settings, got {type(raw).__name__}")
    return raw


def write_config_file(config: PipelineConfig, path) -> None:
    """Writes the configuration as YAML that ``load_config_file`` and ``build_config`` read back."""
    import yaml  # local: only the file path needs it

    raw = config.model_dump(mode="json", exclude_defaults=False)
    with open(path, "w", encoding="utf-8") as f:
        yaml.safe_dump(raw, f, sort_keys=False)
