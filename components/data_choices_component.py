"""DataChoices: decides from the examples what the configuration leaves to the data, inside the pipeline.

Reads the examples ExampleGen wrote (``config.data_decisions`` decides: the
``auto`` feature transforms from the first training examples, the classes of
multiclass tasks from the training split: what Transform analyzes, so the
held-out splits decide nothing) and hands Transform its ``custom_config``
as a run-time parameter, with those decisions made; ComponentConfigs
(``components.component_configs``) gives the other components theirs. A local
run and a Kubeflow run thus decide the same way from the same examples, and
the machine that compiles the pipeline reads no data.

It is given only the part of the configuration it and Transform read, so a
training change reruns neither.
"""


import json

import tensorflow as tf
from absl import logging
from google.protobuf import json_format
from typing import TypedDict

from tfx.dsl.component.experimental.annotations import InputArtifact, Parameter
from tfx.dsl.component.experimental.decorators import component
from tfx.types import artifact_utils, standard_artifacts

from config import PipelineConfig
from config import data_decisions

def _present(feature: tf.train.Feature, missing: set[str]) -> list:
    """A tf.Example feature's present values: numbers as they are, text stripped, missing tokens removed."""
    kind = feature.WhichOneof("kind")
    if kind != "bytes_list":
        return list(getattr(feature, kind).value) if kind else []
    return _present_texts(feature.bytes_list.value, missing)


def _present_texts(values, missing: set[str]) -> list[str]:
    texts = (v.decode("utf-8", "replace").strip() for v in values)
    return [t for t in texts if t and t not in missing]


def _batches(examples: standard_artifacts.Examples, split: str):
    """The split's serialized tf.Examples, a numpy array of a few thousand at a time."""
    pattern = f"{artifact_utils.get_split_uri([examples], split)}/*"
    files = sorted(tf.io.gfile.glob(pattern))
    compression = "GZIP" if files and files[0].endswith(".gz") else ""
    # Batched and read ahead: tf.data's eager iterator costs far more per element than parsing one.
    records = tf.data.TFRecordDataset(files, compression_type=compression, buffer_size=8 << 20)
    yield from records.batch(4096).prefetch(2).as_numpy_iterator()


_DTYPES = {"float_list": tf.float32, "int64_list": tf.int64, "bytes_list": tf.string}


def _kind(batch, column: str):
    """The value kind of ``column`` in the first example of the batch that has it (None: no example has it)."""
    for record in batch:
        feature = tf.train.Example.FromString(record).features.feature.get(column)
        if feature is not None and feature.WhichOneof("kind"):
            return feature.WhichOneof("kind")
    return None


def column_values(batch, column: str, missing: set[str]) -> list:
    """The present values of ``column`` in a batch of serialized tf.Examples, in order, as ``_present``
    gives them example by example; parsed for the whole batch at once (one column, one op)."""
    kind = _kind(batch, column)
    if kind is None:
        return []
    try:
        parsed = tf.io.parse_example(batch, {column: tf.io.VarLenFeature(_DTYPES[kind])})[column].values.numpy()
    except tf.errors.InvalidArgumentError:  # the column's kind differs between examples: one at a time
        return [value for record in batch
                for value in _present(tf.train.Example.FromString(record).features.feature.get(
                    column, tf.train.Feature()), missing)]
    return _present_texts(parsed, missing) if kind == "bytes_list" else parsed.tolist()


def train_values(examples: standard_artifacts.Examples, columns: list[str], missing: set[str],
                 limit: int = data_decisions.SAMPLE_ROWS) -> dict[str, list[float]]:
    """The present numeric values of ``columns`` in the first ``limit`` training examples."""
    values: dict[str, list[float]] = {c: [] for c in columns}
    seen = 0
    for batch in _batches(examples, _train_split(examples)):
        if seen >= limit:
            break
        batch, seen = batch[:limit - seen], seen + len(batch[:limit - seen])
        for column in columns:
            for value in column_values(batch, column, missing):
                try:
                    values[column].append(float(value))
                except ValueError:
                    pass  # the data check and Transform report non-numbers
    return values


def label_values(examples: standard_artifacts.Examples, columns: list[str], missing: set[str]
                 ) -> dict[str, set[str]]:
    """The distinct present values of ``columns``, as text, in the training split.

    A class seen only in eval or test is then no class of the task: Transform, the
    Evaluator and the serving check count its rows as missing that task's label."""
    values: dict[str, set[str]] = {c: set() for c in columns}
    for batch in _batches(examples, _train_split(examples)):
        for column in columns:
            values[column].update(str(v) for v in set(column_values(batch, column, missing)))
    return values


def _train_split(examples: standard_artifacts.Examples) -> str:
    splits = artifact_utils.decode_split_names(examples.split_names)
    return "train" if "train" in splits else splits[0]


def decide(config: PipelineConfig, examples: standard_artifacts.Examples
           ) -> tuple[PipelineConfig, list[data_decisions.TransformChoice]]:
    """The configuration with the data's decisions made, and each numeric feature's choice."""
    missing = set(getattr(config.data, "missing_values", []))
    auto = data_decisions.auto_columns(config)
    config, choices = data_decisions.decide_transforms(
        config, train_values(examples, auto, missing) if auto else {})
    labels = data_decisions.class_label_columns(config)
    if labels:
        config = data_decisions.decide_classes(config, label_values(examples, labels, missing))
    return config, choices


class Decided(TypedDict):
    """DataChoices' outputs: run-time parameters of the components downstream (JSON text)."""

    transform_config: str  # Transform's custom_config
    choices: str  # the decided configuration (its data view) and each numeric feature's choice and reason


def choices_json(config: PipelineConfig, choices: list[data_decisions.TransformChoice]) -> str:
    """A decided configuration and each numeric feature's choice, as the ``choices`` outputs hold them."""
    return json.dumps({"pipeline_config": config.model_dump(mode="json"),
                       "transforms": [[c.column, c.transform, c.reason] for c in choices]}, sort_keys=True)


@component
def DataChoices(examples: InputArtifact[standard_artifacts.Examples],  # noqa: N802
                data_config: Parameter[str],
                transform_extra: Parameter[str],
                code_version: Parameter[str],
                ) -> Decided:
    """``data_config``: the configuration's ``config.data_decisions.data_view`` (JSON), so that only a
    change of the data, the features or the tasks reruns this step and Transform;
    ``transform_extra``: JSON keys added to Transform's custom_config (its code version, for its cache);
    ``code_version``: only this component's cache key, the fingerprint of this module (pipeline.definition)."""
    del code_version
    config, choices = decide(PipelineConfig.model_validate(json.loads(data_config)), examples)
    for choice in choices:
        logging.info("DataChoices: %s: %s (%s)", choice.column, choice.transform, choice.reason)
    for task in config.tasks:
        if task.classes:
            logging.info("DataChoices: task %s: classes %s", task.name, task.classes)
    return {
        # sort_keys: the same decisions, the same text (and Transform stays cached)
        "transform_config": json.dumps({**config.transform_custom_config(), **json.loads(transform_extra)},
                                       sort_keys=True),
        "choices": choices_json(config, choices),
    }
