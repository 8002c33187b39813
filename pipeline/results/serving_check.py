"""Checks the newest pushed model the way a client would use it.

    mtl-serving-check --output-dir outputs [--config my.yaml]
    mtl-serving-check --output-dir outputs --instances request.json

Without ``--config``, the configuration is the one the latest Trainer run in
the output dir recorded (``pipeline.results.run_config``).

Feeds the split the Evaluator scored (the held-out test split, or eval when
the user's own split files name no test file; found through ML Metadata), with the
label features removed, to the pushed model's ``serving_default`` signature and
prints each task's score (its task type's ``score``: R², AUC, accuracy) against the
held-back labels.

With ``--instances``, sends a JSON request file (``{"instances": [...]}``, as
TF Serving's REST API takes it) to the pushed model's ``predict_instances``
signature (or the file's ``signature_name``), converted as TF Serving converts
it (``pipeline.results.rest_instances``), and prints the answer as TF Serving
does (``{"predictions": [...]}``, one object per instance).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import numpy as np

if __name__ == "__main__" and not __package__:
    # Run as a script (`python pipeline/results/serving_check.py`): start from the project root, not this
    # folder, whose modules would shadow top-level ones (see pipeline/local_runner.py).
    sys.path[0] = str(Path(__file__).resolve().parents[2])

from pipeline.cli.command import command  # noqa: E402
from models.tasks import task_type
from config import PipelineConfig, build_config, load_config_file  # noqa: E402
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
    return task_type(task.type).encode_label(text, task.positive, classes)


def newest_pushed_model(output_dir: Path) -> Path:
    from pipeline.report.summary import serving_versions

    versions = serving_versions(output_dir / "serving")
    if not versions:
        raise RunStateError(f"no pushed model under {output_dir / 'serving'}")
    return output_dir / "serving" / versions[-1]


def answer_instances(model_dir: Path, request: Path) -> dict:
    """TF Serving's row-format answer (``{"predictions": [...]}``) of the model to a JSON request file."""
    import tensorflow as tf

    from models.instances_signature import SIGNATURE_NAME
    from pipeline.results.rest_instances import RequestError, read_request

    instances, signature_name = read_request(request)
    signatures = tf.saved_model.load(str(model_dir)).signatures
    signature_name = signature_name or SIGNATURE_NAME
    if signature_name not in signatures:
        raise RequestError(f"{request}: the model has no signature {signature_name!r}; "
                           f"it has {', '.join(sorted(signatures))}")
    try:
        return predictions(signatures[signature_name], instances)
    except RequestError as exc:
        raise RequestError(f"{request}: {exc}") from None


def predictions(signature, instances) -> dict:
    """``{"predictions": [...]}`` of a signature with named inputs for JSON instances, converted as
    TF Serving converts them; a request it cannot take is a ``RequestError`` naming the input."""
    import tensorflow as tf

    from pipeline.results.rest_instances import RequestError, input_arrays

    inputs = input_arrays(instances, signature.structured_input_signature[1])
    try:
        outputs = signature(**{name: tf.constant(v) for name, v in inputs.items()})
    except tf.errors.InvalidArgumentError as exc:  # e.g. a NaN in a required column
        raise RequestError(_graph_error_line(exc.message)) from None
    values = {task: value.numpy().tolist() for task, value in outputs.items()}
    return {"predictions": [{task: values[task][i] for task in sorted(values)} for i in range(len(instances))]}


def _graph_error_line(message: str) -> str:
    """The one line of a TensorFlow error that says what was wrong (its assert's message), without the
    graph's node names and stack around it."""
    found = re.search(r"(feature '[^\n]*?) : Tensor had", message)
    if found:
        return found.group(1)
    lines = [line.strip() for line in message.splitlines()
             if line.strip() and not line.startswith((" ", "\t")) and "Graph execution error" not in line]
    return re.sub(r"\{\{function_node [^}]*\}\}\s*", "", lines[-1] if lines else message)


def check_serving(output_dir: Path, config: PipelineConfig) -> dict[str, float]:
    """task -> score of the newest pushed model on the split the Evaluator scored, labels withheld."""
    from pipeline.results import mlmd

    model_dir = newest_pushed_model(output_dir)
    store = mlmd.open_store(output_dir / "metadata.sqlite")
    evaluator = mlmd.latest_node_run(store, config.pipeline_name, "Evaluator")
    if evaluator is None:
        raise RunStateError(f"no Evaluator run recorded in {output_dir / 'metadata.sqlite'}")
    from pipeline.results.decided_config import decided

    found = decided(output_dir / "metadata.sqlite", config.pipeline_name)
    if found is not None:  # the configuration as the run decided it (e.g. the classes read from the data)
        config = found[0]
    return score_served_model(model_dir, evaluator.inputs["examples"][0].uri, config,
                              mlmd.evaluated_split(evaluator))


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
        scores[task.name] = task_type(task.type).score(labels[task.name][known], predicted[known])
    return scores


@command(quiet=True)
def main(argv: list[str] | None = None) -> int:
    """``mtl-serving-check``: 0 with one score per task; 1 when nothing was pushed or evaluated."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output-dir", type=Path, default=Path("outputs"))
    parser.add_argument("--config", type=Path,
                        help="the YAML configuration the run used [the one recorded in the output dir]")
    parser.add_argument("--instances", type=Path, metavar="FILE.json",
                        help='a JSON request ({"instances": [...]}) to answer, as TF Serving\'s REST API would')
    args = parser.parse_args(argv)
    if args.instances:
        print(json.dumps(answer_instances(newest_pushed_model(args.output_dir), args.instances), indent=1))
        return 0
    config = build_config(load_config_file(args.config)) if args.config else recorded_config(args.output_dir)
    scores = check_serving(args.output_dir, config)
    split = config.evaluation_split  # the run's own: a recorded configuration, or the one it was given
    for task in config.tasks:
        kind = task_type(task.type)
        metric = kind.metric_label(kind.serving_metric)
        print(f"{task.name}: served {metric} on the {split} split {scores[task.name]:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
