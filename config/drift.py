"""The drift section: when a run's data is too far from the data of the model being served."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from config.strict import Strict as _Strict


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
