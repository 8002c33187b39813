"""Checks the newest pushed model the way a client would use it.

    mtl-serving-check --output-dir outputs [--config my.yaml]

Without ``--config``, the configuration is the one the latest Trainer run in
the output dir recorded (``pipeline.results.run_config``).

Feeds the split the Evaluator scored (the held-out test split, or eval when
the user's own split files name no test file; found through ML Metadata), with the
label features removed, to the pushed model's ``serving_default`` signature and
prints each task's score (its task type's ``score``: R², AUC, accuracy) against the
held-back labels.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

if __name__ == "__main__" and not __package__:
    # Run as a script (`python pipeline/results/serving_check.py`): start from the project root, not this
    # folder, whose modules would shadow top-level ones (see pipeline/local_runner.py).
    sys.path[0] = str(Path(__file__).resolve().parents[2])

from pipeline.cli.command import command  # noqa: E402
from pipeline.config import PipelineConfig, build_config, load_config_file  # noqa: E402
from pipeline.errors import RunStateError  # noqa: E402
from pipeline.results.run_config import recorded_config  # noqa: E402


def label_value(feature, task, classes=(), missing_values=()) -> float:
    """A raw label feature as the model learns it, encoded by the task's type (``models.tasks``);
    NaN when missing (absent, or a ``missing_values`` token) or not a label of the task."""
    kind = feature.WhichOneof("kind")
    values = getattr(feature, kind).value if kind else []
    if not values:
        return float("nan")  # a missing label
    value = values[0].decode() if isinstance(values[0], bytes) else values[0]
    text = str(value).strip()
    if text in missing_values or text == "":
        return float("nan")
    return task.task_type.encode_label(text, task.positive, classes)


def check_serving(output_dir: Path, config: PipelineConfig) -> dict[str, float]:
    """task -> score of the newest pushed model on the split the Evaluator scored, labels withheld."""
    from pipeline.results import mlmd
    from pipeline.report.summary import serving_versions

    versions = serving_versions(output_dir / "serving")
    if not versions:
        raise RunStateError(f"no pushed model under {output_dir / 'serving'}")
    store = mlmd.open_store(output_dir / "metadata.sqlite")
    evaluator = mlmd.latest_node_run(store, config.pipeline_name, "Evaluator")
    if evaluator is None:
        raise RunStateError(f"no Evaluator run recorded in {output_dir / 'metadata.sqlite'}")
    from pipeline.results.data_choices import decided

    found = decided(output_dir / "metadata.sqlite", config.pipeline_name)
    if found is not None:  # the configuration as the run decided it (e.g. the classes read from the data)
        config = found[0]
    return score_served_model(output_dir / "serving" / versions[-1], evaluator.inputs["examples"][0].uri,
                              config, mlmd.evaluated_split(evaluator))


def score_served_model(model_dir: Path, examples_uri: str, config: PipelineConfig,
                       split: str) -> dict[str, float]:
    """task -> score of a pushed model on ``split`` of ``examples_uri``, labels withheld."""
    import tensorflow as tf

    files = tf.io.gfile.glob(f"{examples_uri}/Split-{split}/*")
    if not files:
        raise RunStateError(f"no {split} examples under {examples_uri}/Split-{split}")
    examples = [tf.train.Example.FromString(r.numpy())
                for r in tf.data.TFRecordDataset(files, compression_type="GZIP")]

    model = tf.saved_model.load(str(model_dir))
    # A multiclass task's class names, in the order of its served probabilities.
    classes = ({task: [c.decode() for c in names.numpy()]
                for task, names in model.signatures["class_names"]().items()}
               if "class_names" in model.signatures else {})
    missing = set(config.data.missing_tokens)
    labels = {task.name: np.array([label_value(e.features.feature[task.label], task, classes.get(task.name, []),
                                               missing) for e in examples])
              for task in config.tasks}
    for example in examples:  # a serving request carries no labels
        for task in config.tasks:
            if task.label in example.features.feature:
                del example.features.feature[task.label]
    outputs = model.signatures["serving_default"](
        examples=tf.constant([e.SerializeToString() for e in examples]))
    scores = {}
    for task in config.tasks:
        predicted = outputs[task.name].numpy().reshape(len(examples), -1)
        if predicted.shape[1] == 1:
            predicted = predicted[:, 0]
        known = ~np.isnan(labels[task.name])
        scores[task.name] = task.task_type.score(labels[task.name][known], predicted[known])
    return scores


@command(quiet=True)
def main(argv: list[str] | None = None) -> int:
    """``mtl-serving-check``: 0 with one score per task; 1 when nothing was pushed or evaluated."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output-dir", type=Path, default=Path("outputs"))
    parser.add_argument("--config", type=Path,
                        help="the YAML configuration the run used [the one recorded in the output dir]")
    args = parser.parse_args(argv)
    config = build_config(load_config_file(args.config)) if args.config else recorded_config(args.output_dir)
    scores = check_serving(args.output_dir, config)
    split = config.evaluation_split  # the run's own: a recorded configuration, or the one it was given
    for task in config.tasks:
        metric = task.task_type.metric_label(task.task_type.serving_metric)
        print(f"{task.name}: served {metric} on the {split} split {scores[task.name]:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
