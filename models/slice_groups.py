"""The Evaluator's extractors with TFMA's per-example steps replaced by per-slice groups.

TFMA splits every batch into one extract per example (``UnbatchExtractor``),
finds each example's slice keys (``SliceKeyExtractor``) and then sends each
example through every slice's metric combiners and the jackknife, all in
Python: about a millisecond per example with the default slices, 1,000 times
the cost of the model itself. Here each batch becomes one extract per group
of rows that fall in the same slices: the rows' labels, predictions and
example weights as arrays, and the slice keys TFMA's own slicer gives for
the group's first row. The metrics see the same values, a group at a time.

Every metric of the EvalConfig must read a group as it reads one example:
those of ``models.regression_metrics`` and ``models.classification_metrics``
(and TFMA's ``ExampleCount``). The confidence intervals then resample groups
(rows of one slice from one batch of up to about 1,000 examples) instead of
single examples.

The Evaluator loads this module by its ``module_path`` and calls
``custom_extractors``; its step runs in every Beam worker of the Evaluator:
it imports ``models.tfma_fixes`` there, and its ``setup`` limits how numpy
prints arrays (``tfma_fixes.limit_array_printing``) before the worker calls
the model.
"""

from __future__ import annotations

from typing import Any, Hashable, Iterator, Optional

import apache_beam as beam
import numpy as np
import tensorflow_model_analysis as tfma
from tensorflow_model_analysis import constants
from tensorflow_model_analysis.extractors import slice_key_extractor, unbatch_extractor
from tensorflow_model_analysis.slicer import slicer_lib as slicer
from tensorflow_model_analysis.utils import util

from models import tfma_fixes  # every Evaluator worker loads this module: fix TFMA there
from models.tasks import TASK_TYPES

# The stage TFMA's evaluators run after: this extractor takes the SliceKeyExtractor's place.
STAGE_NAME = slice_key_extractor.SLICE_KEY_EXTRACTOR_STAGE_NAME

# What the metrics read; the rest of a batch (raw records, the model's inputs) stays behind.
_KEPT_KEYS = (constants.LABELS_KEY, constants.PREDICTIONS_KEY, constants.EXAMPLE_WEIGHTS_KEY)


def slice_specs(eval_config: tfma.EvalConfig) -> list[slicer.SingleSliceSpec]:
    """The slices TFMA's SliceKeyExtractor would use for this config."""
    specs = [slicer.SingleSliceSpec(spec=spec) for spec in eval_config.slicing_specs]
    for cross in eval_config.cross_slicing_specs:
        for spec in [cross.baseline_spec, *cross.slicing_specs]:
            single = slicer.SingleSliceSpec(spec=spec)
            if single not in specs:
                specs.append(single)
    return specs or [slicer.SingleSliceSpec()]


def slicing_columns(eval_config: tfma.EvalConfig) -> set[str]:
    """Every feature a slice is defined on."""
    specs = [*eval_config.slicing_specs]
    for cross in eval_config.cross_slicing_specs:
        specs += [cross.baseline_spec, *cross.slicing_specs]
    return {name for spec in specs for name in [*spec.feature_keys, *spec.feature_values]}


def _hashable(value: Any) -> Hashable:
    if isinstance(value, np.ndarray):
        return (value.dtype.str, value.shape, value.tobytes())
    if isinstance(value, dict):
        return tuple(sorted((key, _hashable(item)) for key, item in value.items()))
    if isinstance(value, (list, tuple)):
        return tuple(_hashable(item) for item in value)
    return value


def group_rows(row_values: list[Hashable]) -> dict[Hashable, np.ndarray]:
    """Row indices per distinct value, in order of first appearance (and rows in order)."""
    groups: dict[Hashable, list[int]] = {}
    for row, value in enumerate(row_values):
        groups.setdefault(value, []).append(row)
    return {value: np.asarray(rows) for value, rows in groups.items()}


def row_codes(columns: list, batch_size: int) -> Optional[np.ndarray]:
    """One int per row, equal where every column's value is equal; None unless each column is
    an array of one value per row."""
    codes = np.zeros(batch_size, dtype=np.int64)
    for column in columns:
        if not isinstance(column, np.ndarray) or column.shape[:1] != (batch_size,) or column.size != batch_size:
            return None
        _, inverse = np.unique(column.reshape(batch_size), return_inverse=True)
        codes = codes * (int(inverse.max()) + 1) + inverse
    return codes


def take_rows(value: Any, rows: np.ndarray, batch_size: int) -> Any:
    """``value`` (nested dicts of per-row arrays or lists) restricted to ``rows``; anything else as is."""
    if isinstance(value, dict):
        return {key: take_rows(item, rows, batch_size) for key, item in value.items()}
    if isinstance(value, np.ndarray) and value.ndim and value.shape[0] == batch_size:
        return value[rows]
    if isinstance(value, list) and len(value) == batch_size:
        return [value[row] for row in rows]
    return value


def _batch_size(extracts: dict) -> int:
    if constants.ARROW_RECORD_BATCH_KEY in extracts:
        return extracts[constants.ARROW_RECORD_BATCH_KEY].num_rows
    return len(extracts[constants.INPUT_KEY])


class _SliceGroupsFn(beam.DoFn):
    """One batch of extracts -> one extract per group of rows in the same slices."""

    def __init__(self, specs: list[slicer.SingleSliceSpec], columns: set[str]):
        self._specs = specs
        self._columns = columns

    def setup(self):
        # Runs before the worker's bundles, the model calls of the same fused stage included.
        tfma_fixes.limit_array_printing()

    def _slicing_sections(self, batch: dict) -> dict:
        """Only the features and transformed features slices are defined on."""
        sections = {}
        for section in (constants.FEATURES_KEY, constants.TRANSFORMED_FEATURES_KEY):
            values = batch.get(section) or {}
            chosen = {name: values[name] for name in sorted(self._columns) if name in values}
            if chosen:
                sections[section] = chosen
        return sections

    def _groups(self, sections: dict, batch_size: int) -> list[np.ndarray]:
        """Row indices of each group of rows with equal slicing values."""
        columns = [column for values in sections.values() for column in values.values()]
        if not columns:
            return [np.arange(batch_size)]
        codes = row_codes(columns, batch_size)
        if codes is None:  # not one plain value per row: compare the rows themselves
            rows = util.split_extracts(sections)
            return list(group_rows([_hashable(row) for row in rows]).values())
        return list(group_rows(codes.tolist()).values())

    def _slice_keys(self, row: dict) -> np.ndarray:
        # As TFMA's ExtractSliceKeysFn: transformed features first, then the raw ones.
        transformed = row.get(constants.TRANSFORMED_FEATURES_KEY)
        keys = slicer.get_slices_for_features_dicts([transformed] if transformed else [],
                                                    row.get(constants.FEATURES_KEY) or {}, self._specs)
        return slicer.slice_keys_to_numpy_array(list(set(keys)))

    def process(self, batch: dict) -> Iterator[dict]:
        batch_size = _batch_size(batch)
        if batch_size == 0:
            return
        sections = self._slicing_sections(batch)
        groups = self._groups(sections, batch_size)
        # One row per group, split as TFMA's UnbatchExtractor splits it, for TFMA's slicer.
        first_rows = util.split_extracts(take_rows(sections, np.array([g[0] for g in groups]), batch_size)) \
            if sections else [{} for _ in groups]
        kept = {key: batch[key] for key in _KEPT_KEYS if key in batch}
        for indices, first_row in zip(groups, first_rows):
            group = take_rows(kept, indices, batch_size)
            group[constants.SLICE_KEY_TYPES_KEY] = self._slice_keys(first_row)
            yield group


@beam.ptransform_fn
def _ExtractSliceGroups(extracts: beam.PCollection, specs, columns) -> beam.PCollection:  # noqa: N802
    return extracts | "SliceGroups" >> beam.ParDo(_SliceGroupsFn(specs, columns))


def slice_groups_extractor(eval_config: tfma.EvalConfig) -> tfma.extractors.Extractor:
    return tfma.extractors.Extractor(
        stage_name=STAGE_NAME,
        ptransform=_ExtractSliceGroups(slice_specs(eval_config), slicing_columns(eval_config)))


def grouped_metrics() -> frozenset[str]:
    """TFMA metric classes that read a group of examples' arrays as one example's."""
    return frozenset(name for kind in TASK_TYPES.values() if kind.grouped_eval
                     for name in (*kind.tfma_metrics, *getattr(kind, "tfma_per_class_metrics", ()),
                                  *getattr(kind, "tfma_macro_metrics", ()))) | {"LeanCalibrationPlot"}


def metrics_not_grouped(eval_config: tfma.EvalConfig) -> list[str]:
    """The metrics of ``eval_config`` that would read a group of rows as one example (none for the pipeline's)."""
    grouped = grouped_metrics()
    return sorted({metric.class_name for spec in eval_config.metrics_specs for metric in spec.metrics
                   if metric.class_name not in grouped})


_REPLACED = (unbatch_extractor.UNBATCH_EXTRACTOR_STAGE_NAME, slice_key_extractor.SLICE_KEY_EXTRACTOR_STAGE_NAME)


def custom_extractors(eval_shared_model, eval_config: tfma.EvalConfig,
                      tensor_adapter_config: Optional[Any] = None) -> list[tfma.extractors.Extractor]:
    """TFMA's default extractors, unbatching and per-example slicing replaced by slice groups.

    The TFX Evaluator calls this (by this module's name as its ``module_path``).
    """
    other = metrics_not_grouped(eval_config)
    if other:
        raise ValueError(f"the Evaluator's slice groups need metrics that read a group of rows; {other} "
                         f"do not (those that do: {sorted(grouped_metrics())})")
    extractors = tfma.default_extractors(eval_shared_model=eval_shared_model, eval_config=eval_config,
                                         tensor_adapter_config=tensor_adapter_config)
    names = [extractor.stage_name for extractor in extractors]
    missing = [name for name in _REPLACED if name not in names]
    if missing:
        raise RuntimeError(f"TFMA's default extractors lack {missing}: this TFMA version is not supported")
    position = names.index(_REPLACED[0])
    kept = [extractor for extractor in extractors if extractor.stage_name not in _REPLACED]
    return kept[:position] + [slice_groups_extractor(eval_config)] + kept[position:]
