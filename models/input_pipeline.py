"""The Trainer's input pipeline: the window's raw examples through Transform's graph, as batched tf.data datasets.

Transform writes no transformed examples (``materialize=False``): the window's
means and vocabularies change every day, so a written copy of the whole window
would be rewritten every day. Each batch of raw records is parsed and passed
through the transform graph here instead, once for what is held in memory.

Training reads (inputs by transformed name, labels the model fits by task
name, sample weights by task name), shuffled and repeated; evaluation reads
the same few batches at every early-stopping check. Whether the parsed
examples are held in memory is decided here too (``fits_in_memory``,
``MIN_PASSES_IN_MEMORY``).
"""

from __future__ import annotations

import os
from typing import Optional

import numpy as np
import tensorflow as tf
import tensorflow_transform as tft
from tfx.components.trainer.fn_args_utils import FnArgs

from models import features
from config import PipelineConfig

# Records parsed together: parsing is per batch, not per example.
PARSE_BATCH = 1024
SHUFFLE_BUFFER = 10_000
# Records counted together (count_examples).
COUNT_BATCH = 4096
# Parsed examples are kept in memory (cache) when the (gzipped) example files
# are below this share of the machine's memory.
CACHE_MEMORY_SHARE = 0.15
# ... and when training reads them at least this often: a large split read once or
# twice (1M examples: 1.6 times in 10,000 steps) gains little from memory and the
# table cost the run 1 GB of its peak memory.
MIN_PASSES_IN_MEMORY = 2


def _as_written(fn):
    """``fn`` for tf.data to trace without AutoGraph, as the Keras steps and the signatures are.

    No branch in these functions, nor in the Transform layer they call, depends
    on a tensor, so the graph is the same; converting the layer's code (all of
    it, recursively, for every dataset) was seconds of every Trainer's setup.
    """
    return tf.autograph.experimental.do_not_convert(fn)


def _files(file_patterns) -> list[str]:
    patterns = [file_patterns] if isinstance(file_patterns, str) else list(file_patterns)
    return sorted({f for pattern in patterns for f in tf.io.gfile.glob(pattern)})


def fits_in_memory(files: list[str], share: float = CACHE_MEMORY_SHARE) -> bool:
    """Whether the parsed examples (about twice their gzipped size) fit in ``share`` of the memory."""
    try:
        memory = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError):
        return False
    return 2 * sum(tf.io.gfile.stat(f).length for f in files) <= share * memory


def make_dataset(file_patterns, feature_spec: dict, config: PipelineConfig, batch_size: int,
                 one_pass: bool = False, in_memory: Optional[bool] = None,
                 transform: Optional[tft.TFTransformOutput] = None) -> tf.data.Dataset:
    """(inputs by transformed name, labels the model fits by task name, sample weights by task name),
    shuffled and repeated; with ``one_pass``, every example once, in the order read (the files
    interleaved, a record from each in turn).

    A task's sample weight is 0 where its label is missing: the row trains the other tasks only.

    The transformed (gzipped) records are read and parsed a large batch at a
    time, each example's features packed into one tensor (``ColumnPacking``).
    When they fit in memory, the training examples are read once into one
    table and batches are gathered from it by shuffled row numbers: the
    shuffle (the same ``SHUFFLE_BUFFER``, the same seed) then moves one number
    an example instead of the example, and gives the order it gives the
    examples themselves. Otherwise they stream from the files, shuffled by
    example; a one-pass set is cached when it fits.

    ``feature_spec``: the transformed feature spec; ``in_memory``: whether
    the examples are held in memory (None: when they fit, ``fits_in_memory``);
    ``transform``: the Transform output whose graph turns the files' raw
    examples into transformed ones (None: the files hold transformed examples).
    """
    input_names = [features.transformed_name(f.name) for f in config.features]
    label_names = features.training_labels(config)
    weight_names = features.label_weights(config)
    names = list(dict.fromkeys([*input_names, *label_names.values(), *weight_names.values()]))
    spec = {name: feature_spec[name] for name in names}
    files = _files(file_patterns)
    records = tf.data.Dataset.from_tensor_slices(files).interleave(
        _as_written(lambda path: tf.data.TFRecordDataset(path, compression_type="GZIP")),
        cycle_length=max(1, min(len(files), 4)), num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    packing = ColumnPacking(spec)
    parse = _transformed_parser(transform, names) if transform is not None else \
        (lambda batch: tf.io.parse_example(batch, spec))
    parsed = records.batch(PARSE_BATCH).map(_as_written(lambda batch: packing.pack(parse(batch))),
                                            num_parallel_calls=tf.data.AUTOTUNE)

    def split(batch):
        inputs = {name: batch[name] for name in input_names}
        labels = {task: batch[label] for task, label in label_names.items()}
        weights = {task: batch[weight] for task, weight in weight_names.items()}
        return inputs, labels, weights

    in_memory = fits_in_memory(files) if in_memory is None else in_memory
    if not one_pass and in_memory and packing.packs_everything:
        table = {key: tf.concat(parts, axis=0) for key, parts in _columns(parsed).items()}
        rows = int(next(iter(table.values())).shape[0]) if table else 0
        if rows:
            order = tf.data.Dataset.range(rows).shuffle(SHUFFLE_BUFFER).repeat().batch(batch_size)
            return (order.map(_as_written(lambda i: split(packing.unpack({key: tf.gather(values, i)
                                                                         for key, values in table.items()}))),
                              num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE))
    if in_memory:
        parsed = parsed.cache()
    examples = parsed.unbatch()
    if not one_pass:
        examples = examples.shuffle(SHUFFLE_BUFFER).repeat()
    return (examples.batch(batch_size)
            .map(_as_written(lambda packed: split(packing.unpack(packed))), num_parallel_calls=tf.data.AUTOTUNE)
            .prefetch(tf.data.AUTOTUNE))


def _transformed_parser(transform: tft.TFTransformOutput, names: list[str]):
    """Serialized raw examples -> the named transformed features, through the transform graph."""
    raw_spec, layer = transform.raw_feature_spec(), transform.transform_features_layer()

    def parse(batch):
        transformed = layer(tf.io.parse_example(batch, raw_spec))
        return {name: transformed[name] for name in names}
    return parse


def _columns(batches: tf.data.Dataset) -> dict[str, list]:
    """Each key's tensors over all the (finite) dataset's elements, in order."""
    columns: dict[str, list] = {}
    for batch in batches:
        for key, value in batch.items():
            columns.setdefault(key, []).append(value)
    return columns


class ColumnPacking:
    """Parsed fixed-length features packed into one [batch, width] tensor per dtype, and back.

    Unbatching and shuffling cost per example and per tensor; an example that
    is one tensor instead of one per feature shuffles at a fraction of the
    cost. Values are sliced back out unchanged. Features that are not
    fixed-length (sparse, ragged) are left as they are.
    """

    def __init__(self, spec: dict):
        self.columns: dict = {}  # dtype -> [(name, shape, start, stop)]
        self.others: list[str] = []
        for name, feature in spec.items():
            if not isinstance(feature, tf.io.FixedLenFeature):
                self.others.append(name)
                continue
            shape = list(feature.shape)
            group = self.columns.setdefault(feature.dtype, [])
            start = group[-1][3] if group else 0
            group.append((name, shape, start, start + int(np.prod(shape, dtype=np.int64))))

    @property
    def packs_everything(self) -> bool:
        return not self.others

    def pack(self, batch: dict) -> dict:
        packed = {f"packed_{dtype.name}": tf.concat(
            [tf.reshape(batch[name], [-1, stop - start]) for name, _, start, stop in group], axis=1)
            for dtype, group in self.columns.items()}
        return {**packed, **{name: batch[name] for name in self.others}}

    def unpack(self, packed: dict) -> dict:
        batch = {name: packed[name] for name in self.others}
        for dtype, group in self.columns.items():
            values = packed[f"packed_{dtype.name}"]
            for name, shape, start, stop in group:
                batch[name] = tf.reshape(values[..., start:stop], [-1, *shape])
        return batch


def count_examples(file_patterns: list[str], limit=None, compression_type: str = "GZIP") -> int:
    """Records in the example files (gzipped unless ``compression_type`` says otherwise), counting at most ``limit``."""
    files = sorted(f for pattern in file_patterns for f in tf.io.gfile.glob(pattern))
    records = tf.data.TFRecordDataset(files, compression_type=compression_type)
    if limit is not None:
        records = records.take(limit)
    # A batch at a time: reducing record by record costs about 30 µs a record (3 s per 100,000).
    batches = records.batch(COUNT_BATCH)
    return int(batches.reduce(np.int64(0), lambda count, batch: count + tf.size(batch, tf.int64)))


def planned_passes(files: list[str], counted: int, limit: Optional[int], planned_examples: int) -> float:
    """How many times training reads the training split, counting further only as far as it matters.

    ``counted`` is the split's size or, when it reached ``limit``, a lower
    bound; then the count goes on to where the answer crosses ``MIN_PASSES_IN_MEMORY``.
    """
    if limit is not None and counted >= limit:
        counted = count_examples(files, planned_examples // MIN_PASSES_IN_MEMORY + 1)
    return planned_examples / max(counted, 1)


def datasets(fn_args: FnArgs, tf_transform_output: tft.TFTransformOutput, config: PipelineConfig,
             passes: Optional[float] = None) -> tuple[tf.data.Dataset, tf.data.Dataset]:
    """The training and evaluation datasets run_fn fits on.

    The evaluation set is the same ``eval_steps`` batches at every check, so their losses compare.
    It is read once here (into its cache) to count its batches: Keras needs
    the count to evaluate several steps a call (``steps_per_execution``).
    ``passes``: how many times training will read the training examples; held
    in memory only when it fits and they are read at least ``MIN_PASSES_IN_MEMORY``
    times (None: whenever it fits).
    """
    batch_size, spec = config.training.batch_size, tf_transform_output.transformed_feature_spec()
    in_memory = None if passes is None or passes >= MIN_PASSES_IN_MEMORY else False
    train = make_dataset(fn_args.train_files, spec, config, batch_size, in_memory=in_memory,
                         transform=tf_transform_output)
    evaluation = make_dataset(fn_args.eval_files, spec, config, batch_size, one_pass=True,
                              transform=tf_transform_output).take(config.training.eval_steps).cache()
    batches = int(evaluation.reduce(np.int64(0), lambda count, _: count + 1))
    return train, evaluation.apply(tf.data.experimental.assert_cardinality(batches))
