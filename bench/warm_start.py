"""What warm start buys: a second span's model started from the first span's, against one from scratch.

    .venv/bin/python bench/warm_start.py [--examples 3000] [--seeds 7,8,9] [--warm-start-max-steps N]

The project's own model (``models.builder``, the default configuration), its
training plan and early stopping (``models.budget``, ``models.callbacks``) and
its weight transfer (``models.warm_start``), on the synthetic data
(``components.synthetic_data``), in memory (no TFX: Transform's z-scoring of
the inputs and standardizing of the labels are done per span, as each run's
Transform does). Two cases of the second span:

- ``same task``: new examples of the same generator (a daily span);
- ``changed task``: another data seed, which draws other task weights (the
  labels' function changes).

For each training seed: model A trained from scratch on span 1; on span 2,
model B from scratch and model B warm-started from A, each planned as the
Trainer plans it (the warm start capped at ``training.warm_start_max_steps``
instead of ``training.max_steps``). Printed per case (medians over seeds): the steps the warm start needs
to reach the best eval loss of the from-scratch model, the steps each ran
(early stopping), and each task's R² on a test set of span 2.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

EVAL_SHARE = 0.2  # the default hash split's eval share
INPUT = "x_xf"


def span(task_seed: int, sample_seed: int, n: int, correlation: float):
    """n examples of the generator whose task weights ``task_seed`` draws, sampled with ``sample_seed``."""
    from components import synthetic_data as sd

    weights = sd.draw_task_weights(task_seed, 100, 0.3, correlation, 5, 2)
    (shard,) = sd.plan_shards(n, 1)
    data = sd.generate_shard(shard, weights, sample_seed, 100)
    return data.inputs, data.labels


def prepared(inputs, labels, reference):
    """Inputs z-scored and labels standardized with the training split's statistics (``reference``)."""
    ref_x, ref_y = reference
    x = (inputs - ref_x.mean(0)) / ref_x.std(0)
    y = (labels - ref_y.mean(0)) / ref_y.std(0)
    return {INPUT: x.astype("float32")}, {"y1": y[:, :1], "y2": y[:, 1:]}


def train(config, train_set, eval_set, seed: int, base_weights: str | None = None):
    """(the network, eval loss after each check, steps per check, steps run, best eval loss, warm start)."""
    import tf_keras

    from models import budget, callbacks, warm_start
    from models.builder import build_model, compile_model

    tf_keras.utils.set_random_seed(seed)
    (x, y), (x_eval, y_eval) = train_set, eval_set
    n = len(x[INPUT])
    training = config.training
    # As the Trainer plans it: a warm-started run is capped at training.warm_start_max_steps.
    plan = budget.plan_training(n, training.batch_size, max_steps=training.max_steps,
                                early_stopping=training.early_stopping, patience=training.patience,
                                warm_start_max_steps=training.warm_start_max_steps if base_weights else None)
    network = build_model(config, {INPUT: x[INPUT].shape[1]}, n)
    decision = None
    if base_weights:
        decision = warm_start.start_from(network, base_weights, config.model.architecture, {})
    model = compile_model(tf_keras.Model(network.inputs, network.output), config, steps_per_execution=10)
    best = callbacks.BestWeights(plan.patience)
    import tensorflow as tf

    data = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(n, seed=seed).repeat().batch(training.batch_size)
    history = model.fit(data, steps_per_epoch=plan.steps_per_check, epochs=plan.checks,
                        validation_data=(x_eval, y_eval), callbacks=[best], verbose=0)
    losses = history.history["val_loss"]
    return network, losses, plan.steps_per_check, len(losses) * plan.steps_per_check, min(losses), decision


def r2(network, test_set) -> dict[str, float]:
    x, y = test_set
    predicted = network.predict(x, batch_size=4096, verbose=0)
    return {t: float(1 - np.mean((predicted[t] - y[t]) ** 2) / np.var(y[t])) for t in ("y1", "y2")}


def one_case(config, first, second, test, seed: int, folder: str) -> dict:
    from models import warm_start

    def splits(data):
        x, y = data
        cut = int(len(x) * (1 - EVAL_SHARE))
        reference = (x[:cut], y[:cut])
        return prepared(x[:cut], y[:cut], reference), prepared(x[cut:], y[cut:], reference), reference

    train_a, eval_a, _ = splits(first)
    network_a, *_ = train(config, train_a, eval_a, seed)
    weights = os.path.join(folder, f"a{seed}.npz")
    warm_start.save(network_a, weights, config.model.architecture, {})

    train_b, eval_b, reference = splits(second)
    test_b = prepared(*test, reference)
    scratch, scratch_losses, every, scratch_steps, scratch_best, _ = train(config, train_b, eval_b, seed)
    warm, warm_losses, _, warm_steps, warm_best, decision = train(config, train_b, eval_b, seed, weights)
    reached = next((i + 1 for i, loss in enumerate(warm_losses) if loss <= scratch_best), None)
    scratch_reached = scratch_losses.index(scratch_best) + 1
    return {"seed": seed, "warm_start": decision.reason,
            "scratch": {"steps_run": scratch_steps, "steps_to_best": scratch_reached * every,
                        "best_eval_loss": scratch_best, "test_r2": r2(scratch, test_b)},
            "warm": {"steps_run": warm_steps, "best_eval_loss": warm_best, "test_r2": r2(warm, test_b),
                     "steps_to_scratch_best": reached * every if reached else None,
                     "first_eval_loss": warm_losses[0], "scratch_first_eval_loss": scratch_losses[0]}}


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=3000, help="examples per span [3000]")
    parser.add_argument("--correlation", type=float, default=0.8)
    parser.add_argument("--seeds", default="7,8,9", help="training seeds [7,8,9]")
    parser.add_argument("--warm-start-max-steps", type=int,
                        help="the warm start's cap [the default training.warm_start_max_steps]")
    parser.add_argument("--json", type=Path, help="write every figure here")
    args = parser.parse_args(argv)
    from config import build_config

    config = build_config({"training": {"warm_start_max_steps": args.warm_start_max_steps}}
                          if args.warm_start_max_steps else {})
    seeds = [int(s) for s in args.seeds.split(",")]
    n, p = args.examples, args.correlation
    cases = {  # name -> (span 1, span 2, span 2's test set)
        "same task": (span(7, 7, n, p), span(7, 1007, n, p), span(7, 2007, n, p)),
        "changed task": (span(7, 7, n, p), span(8, 8, n, p), span(8, 2008, n, p)),
    }
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        for name, (first, second, test) in cases.items():
            results[name] = [one_case(config, first, second, test, seed, folder) for seed in seeds]
            rows = results[name]
            print(f"{name} ({n} examples a span, seeds {args.seeds}; medians):")
            print(f"  warm start: {sorted({r['warm_start'] for r in rows})}")
            print(f"  first eval loss   scratch {median([r['warm']['scratch_first_eval_loss'] for r in rows]):.4f}"
                  f"  warm {median([r['warm']['first_eval_loss'] for r in rows]):.4f}")
            print(f"  best eval loss    scratch {median([r['scratch']['best_eval_loss'] for r in rows]):.4f}"
                  f"  warm {median([r['warm']['best_eval_loss'] for r in rows]):.4f}")
            print(f"  steps to scratch's best: scratch {median([r['scratch']['steps_to_best'] for r in rows])}"
                  f"  warm {median([r['warm']['steps_to_scratch_best'] for r in rows])}"
                  f" (per seed: {[r['warm']['steps_to_scratch_best'] for r in rows]} vs "
                  f"{[r['scratch']['steps_to_best'] for r in rows]})")
            print(f"  steps run (early stopping): scratch {median([r['scratch']['steps_run'] for r in rows])}"
                  f"  warm {median([r['warm']['steps_run'] for r in rows])}")
            for task in ("y1", "y2"):
                print(f"  test R² {task}: scratch {median([r['scratch']['test_r2'][task] for r in rows]):.4f}"
                      f"  warm {median([r['warm']['test_r2'][task] for r in rows]):.4f}"
                      f"  (warm - scratch per seed: "
                      f"{[round(r['warm']['test_r2'][task] - r['scratch']['test_r2'][task], 4) for r in rows]})")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
