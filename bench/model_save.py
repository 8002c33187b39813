"""The Trainer's model.save with its serving signatures, against the same save without them.

    python bench/model_save.py [--repeats 5]

Measured: ``network.save`` as ``models.trainer.run_fn`` calls it (the
call traced without AutoGraph and no per-layer traces, ``models.builder.save_network``), with
``models.signatures.signatures`` (serving_default, transform_features,
predict_instances): each signature is traced when the model is saved.
Ceiling: the same save of the same freshly built model with only a
``serving_default`` of the network's call (``save_network`` without signatures). The default configuration, the transform graph of a
base pipeline run (``bench.common.base_run``). The Trainer saves once per
process, and TensorFlow keeps what it converted and traced, so each save runs
in a fresh process (the two kinds alternating) and only the save is timed;
medians of CPU seconds.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common  # noqa: E402


def one_save(transform_graph: str, with_signatures: bool) -> dict:
    """Builds the default model and saves it once, as the Trainer does; CPU and wall seconds of the save."""
    import tensorflow_transform as tft

    from config import build_config
    from models import features, signatures
    from models.builder import build_model, save_network

    config = build_config({})
    transform_output = tft.TFTransformOutput(transform_graph)
    network = build_model(config, features.model_inputs(config, transform_output.vocabulary_size_by_name), 8000)
    with tempfile.TemporaryDirectory() as folder:
        wall, cpu = time.perf_counter(), time.process_time()
        served = signatures.signatures(network, transform_output, config) if with_signatures else None
        save_network(network, folder, signatures=served)
        return {"cpu_s": time.process_time() - cpu, "wall_s": time.perf_counter() - wall}


def main(argv=None) -> dict:
    parser = common.base_parser(__doc__.splitlines()[0])
    parser.set_defaults(repeats=5)
    parser.add_argument("--one", choices=["with", "without"], help=argparse.SUPPRESS)
    parser.add_argument("--transform-graph", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:  # a child: one save
        print(json.dumps(one_save(args.transform_graph, args.one == "with")))
        return {}

    graph = str(common.latest_artifact(common.base_run(args.work_dir), "Transform", "transform_graph"))
    timings = {"with": common.Timing(), "without": common.Timing()}
    for _ in range(args.repeats):
        for kind, timing in timings.items():
            child = subprocess.run([sys.executable, __file__, "--one", kind, "--transform-graph", graph],
                                   capture_output=True, text=True, check=True)
            figures = json.loads(child.stdout.strip().splitlines()[-1])
            timing.wall.append(figures["wall_s"])
            timing.cpu.append(figures["cpu_s"])
    measured, ceiling = timings["with"], timings["without"]
    result = {"repeats": args.repeats, "with_signatures": measured.as_dict(), "without": ceiling.as_dict(),
              "ratio_cpu": measured.median_cpu / ceiling.median_cpu}
    common.print_table("model.save, first save of a process (CPU seconds, medians)", ["save", "CPU s", "wall s"], [
        ["with the serving signatures", measured.median_cpu, measured.median_wall],
        ["without (ceiling)", ceiling.median_cpu, ceiling.median_wall],
        ["ratio", result["ratio_cpu"], measured.median_wall / ceiling.median_wall]])
    common.write_json(args.work_dir, "model_save", result)
    return result


if __name__ == "__main__":
    main()
