"""The data section: where the examples come from (CSV, TFRecord or the synthetic generator) and the model's inputs."""

from __future__ import annotations

import glob
import math
import os
import re
from typing import ClassVar, Literal, Optional, Union

from pydantic import Field, ValidationInfo, field_validator, model_validator

from config.strict import COLUMN_NAME, duplicates
from config.strict import Strict as _Strict


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
    rows (and choose transforms and classes from them); ``at_least``:
    whether it is that large.
    """

    # A curated schema (schema.pbtxt) to validate against instead of inferring one.
    schema_file: Optional[str] = None

    rows_readable: ClassVar[bool] = False

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


class _FileData(DataSource):
    """Data in files: ``path`` (a file or glob) split by hash, or existing splits."""

    path: Optional[str] = None
    split: Union[FileSplit, HashSplit] = Field(default_factory=HashSplit)
    features: list[Feature] = Field(min_length=1)
    # A column of non-negative weights applied to every task (0 leaves the row out).
    example_weight: Optional[str] = Field(default=None, pattern=COLUMN_NAME)
    # Values that mean missing, besides an empty one (e.g. "?").
    missing_values: list[str] = Field(default_factory=list)
    # With {SPAN} in path: Transform and the Trainer read the newest window_spans spans.
    window_spans: int = Field(default=1, ge=1)

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
        if self.window_spans > 1 and not any("{SPAN" in p for p in self.split_patterns().values()):
            raise ValueError(f"window_spans: {self.window_spans} needs spans: put {{SPAN}} in data.path "
                             "(e.g. daily/span-{SPAN}/rows.csv) or remove window_spans")
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
        # {SPAN}/{VERSION} in a pattern: every span's files (TFX's placeholders are no glob).
        files = {f for pattern in self.split_patterns().values()
                 for f in glob.glob(re.sub(r"\{(SPAN|VERSION)(:\d+)?\}", "*", pattern))}
        return sum(os.path.getsize(f) for f in files if os.path.isfile(f))

    def at_least(self, examples: int, file_bytes: int) -> bool:
        return self.input_bytes() >= file_bytes


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


def default_num_shards(num_examples: int) -> int:
    """About 50k examples a shard: one shard for laptop runs, more to spread."""
    return max(1, min(256, math.ceil(num_examples / 50_000)))
