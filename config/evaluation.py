"""The evaluation section: the slices the Evaluator breaks every task's metrics down by."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from config import names
from config.strict import COLUMN_NAME, duplicates
from config.strict import Strict as _Strict

# Transform writes a numeric slice feature's quantile bucket as <internal name>_bucket.
BUCKET_SUFFIX = "_bucket"


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
