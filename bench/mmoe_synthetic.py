"""The MMoE paper's synthetic experiment (Ma et al., KDD 2018, Sec. 5.1-5.2, Fig. 4), under the paper's protocol.

    python -m bench.mmoe_synthetic --c 1.0 --m 10             # 5 paired repeats, 20,000 steps
    python -m bench.mmoe_synthetic --c 1.0 --m 10 --full      # 20 repeats, rates 1e-4, 1e-3, 1e-2
    python -m bench.mmoe_synthetic ... --reference            # also time one unbatched pass, report the ratio

For each task correlation, shared-bottom, OMoE and MMoE are trained on the
synthetic two-task data with the paper's sizes: input dimension 100; OMoE and
MMoE with 8 experts of one 16-unit ReLU layer; shared-bottom with one 113-unit
ReLU layer, so parameter counts roughly match; towers of one 8-unit layer; Adam.
The paper does not give c, m, the sinusoid parameters or the example count; the
generator's values are kept (c = 0.3, m = 5, alpha and beta standard normal)
unless flags change them.

The protocol:
- paired repeats: repeat r draws its data and initial weights from seed r, the
  same data (in the same batch order) for every model, so models compare run by run;
- each model's learning rate is the one of ``--learning-rates`` with the lowest
  mean final eval loss on ``--pilot-repeats`` pilot repeats (seeds 1000, 1001,
  ...) at the lowest correlation; pilots are not reported;
- long training (20,000 steps of batch 128 by default), the eval loss kept every
  ``--eval-every`` steps.

The models are the pipeline's own builders. All runs of one architecture (its
repeats and correlations, or its pilots and rates) train as one stacked model
(bench/replicas.py): each builder's model is one replica, with its own weights,
data and learning rate. ``--unbatched`` trains them one at a time by Keras's fit
instead. Written to --out: ``results.json`` (every run's eval loss curve),
``table.md`` (mean ± standard deviation of the final eval loss per task, paired
win counts, the paper's three findings, checked) and ``loss_curves.png`` (eval
loss against training steps, one panel per correlation, as in the paper's Fig. 4).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

ARCHITECTURES = ("shared_bottom", "omoe", "mmoe")
CORRELATIONS = (0.5, 0.9, 1.0)
PROTOCOL = dict(repeats=5, steps=20000, eval_every=1000, num_examples=10000, learning_rates=[1e-3, 1e-2])
FULL = dict(repeats=20, steps=20000, eval_every=1000, num_examples=10000, learning_rates=[1e-4, 1e-3, 1e-2])


def paper_config(architecture: str, learning_rate: float, seed: int, batch_size: int):
    """The paper's sizes (Sec. 5.1) as a pipeline configuration."""
    from config import build_config

    model = {"architecture": architecture, "task_units": [8]}
    if architecture == "shared_bottom":
        model.update(bottom_units=[113], bottom_linear_output=False)
    else:
        model.update(num_experts=8, expert_units=[16], expert_dropout=0.0)
    return build_config({"model": model, "training": {"learning_rate": learning_rate, "seed": seed,
                                                      "batch_size": batch_size}})


@dataclass
class Run:
    architecture: str
    correlation: float
    repeat: int
    learning_rate: float
    parameters: int
    steps: list[int]
    eval_loss: dict[str, list[float]]  # task -> eval MSE after each block of steps
    label_variance: dict[str, float]

    @property
    def final(self) -> float:
        """Final eval loss, the mean over the two tasks."""
        return float(np.mean([curve[-1] for curve in self.eval_loss.values()]))


def load_data(correlation: float, repeat: int, args):
    """Repeat ``repeat``'s (training, held-out) data: the data seed is the repeat, so every model gets the same."""
    from bench.replicas import DataSet
    from components import synthetic_data

    data = synthetic_data.generate(args.num_examples + args.eval_examples, example_dim=100, c=args.c,
                                   p=correlation, m=args.m, seed=repeat)
    split = lambda part: DataSet({"x_xf": data.inputs[part]}, {"y1": data.y1[part], "y2": data.y2[part]})  # noqa: E731
    return split(slice(0, args.num_examples)), split(slice(args.num_examples, None))


def build(architecture: str, learning_rate: float, seed: int, batch_size: int):
    """The pipeline's builder's model for one run, its initial weights drawn from ``seed``."""
    import tf_keras

    from models.builder import build_model

    config = paper_config(architecture, learning_rate, seed, batch_size)
    tf_keras.utils.set_random_seed(seed)
    return build_model(config, {"x_xf": 100}), config


def train_one(architecture: str, correlation: float, repeat: int, learning_rate: float, args) -> Run:
    """One model trained alone by Keras's fit: the unbatched reference."""
    import tensorflow as tf

    from bench.replicas import batch_order
    from models.builder import compile_model

    train, held = load_data(correlation, repeat, args)
    model, config = build(architecture, learning_rate, repeat, args.batch_size)
    compile_model(model, config, project_metrics=False)
    order = batch_order(repeat, train.size, args.batch_size)
    rows = np.stack([next(order) for _ in range(args.steps)])
    dataset = tf.data.Dataset.from_tensor_slices(rows).map(
        lambda r: ({k: tf.gather(v, r) for k, v in train.inputs.items()},
                   {k: tf.gather(v, r) for k, v in train.labels.items()}))
    history = model.fit(dataset, steps_per_epoch=args.eval_every, epochs=args.steps // args.eval_every,
                        validation_data=(held.inputs, held.labels), validation_batch_size=4096, verbose=0)
    steps = [args.eval_every * (i + 1) for i in range(args.steps // args.eval_every)]
    return Run(architecture, correlation, repeat, learning_rate, model.count_params(), steps,
               {t: [float(v) for v in history.history[f"val_{t}_loss"]] for t in train.labels},
               {t: float(np.var(y)) for t, y in held.labels.items()})


def train_batched(architecture: str, jobs: list[tuple[float, int, float]], args) -> list[Run]:
    """Every (correlation, repeat, learning rate) of one architecture trained as one stacked model."""
    from bench.replicas import StackedReplicas, batch_order
    from models.tasks import task_type

    keys = sorted({(c, r) for c, r, _ in jobs})
    data = {key: load_data(*key, args) for key in keys}
    built = [build(architecture, rate, repeat, args.batch_size) for _, repeat, rate in jobs]
    config = built[0][1]
    losses = {t.name: (task_type(t.type).keras_loss, t.loss_weight) for t in config.tasks}
    stacked = StackedReplicas([model for model, _ in built], [rate for *_, rate in jobs], losses)
    curves = stacked.fit([data[k][0] for k in keys], [data[k][1] for k in keys],
                         [keys.index((c, r)) for c, r, _ in jobs],
                         [batch_order(r, data[(c, r)][0].size, args.batch_size) for c, r in keys],
                         args.steps, args.eval_every)
    steps = [args.eval_every * (i + 1) for i in range(args.steps // args.eval_every)]
    runs = []
    for k, ((c, repeat, rate), (model, _)) in enumerate(zip(jobs, built)):
        held = data[(c, repeat)][1]
        runs.append(Run(architecture, c, repeat, rate, model.count_params(), steps,
                        {t: [float(v) for v in curve[k]] for t, curve in curves.items()},
                        {t: float(np.var(y)) for t, y in held.labels.items()}))
    return runs


def train(architecture: str, jobs: list[tuple[float, int, float]], args) -> list[Run]:
    if args.unbatched:
        return [train_one(architecture, c, repeat, rate, args) for c, repeat, rate in jobs]
    return train_batched(architecture, jobs, args)


PILOT_SEED = 1000  # pilot repeats draw data and weights from seeds 1000, 1001, ...: never a reported repeat's


def pick_learning_rates(args, log) -> dict[str, float]:
    """Per architecture, the rate with the lowest mean final eval loss on pilot repeats (not reported)."""
    if len(args.learning_rates) == 1:
        return {a: args.learning_rates[0] for a in ARCHITECTURES}
    chosen = {}
    for architecture in ARCHITECTURES:
        jobs = [(min(args.correlations), PILOT_SEED + r, rate)
                for rate in args.learning_rates for r in range(args.pilot_repeats)]
        runs = train(architecture, jobs, args)
        losses = {rate: float(np.mean([run.final for run in runs if run.learning_rate == rate]))
                  for rate in args.learning_rates}
        chosen[architecture] = min(losses, key=losses.get)
        log(f"learning rate for {architecture}: {chosen[architecture]} (pilot final loss "
            + ", ".join(f"{r}: {v:.4f}" for r, v in losses.items()) + ")")
    return chosen


def time_reference(args, log) -> float:
    """Seconds for one unbatched pass of the three models: one repeat, the lowest correlation, the first rate."""
    started = time.monotonic()
    for architecture in ARCHITECTURES:
        train_one(architecture, min(args.correlations), 0, args.learning_rates[0], args)
    seconds = time.monotonic() - started
    log(f"reference: one unbatched pass of the three models took {seconds:.0f} s")
    return seconds


def summarize(runs: list[Run]) -> dict:
    """(architecture, correlation) -> mean and standard deviation of the final eval loss, per task and overall."""
    cells = {}
    for run in runs:
        cells.setdefault((run.architecture, run.correlation), []).append(run)
    summary = {}
    for (architecture, correlation), group in sorted(cells.items()):
        finals = {t: [r.eval_loss[t][-1] for r in group] for t in group[0].eval_loss}
        overall = [r.final for r in group]
        summary[(architecture, correlation)] = {
            "n": len(group), "parameters": group[0].parameters,
            "tasks": {t: (float(np.mean(v)), float(np.std(v))) for t, v in finals.items()},
            "mean": (float(np.mean(overall)), float(np.std(overall))),
            "relative": float(np.mean([r.final / np.mean(list(r.label_variance.values())) for r in group])),
        }
    for (architecture, correlation), group in cells.items():
        # Paired: repeat r of every model sees the same data, so compare run by run.
        wins = summary[(architecture, correlation)]["wins"] = {}
        for other in ARCHITECTURES[:ARCHITECTURES.index(architecture)]:
            baseline = {r.repeat: r.final for r in cells.get((other, correlation), [])}
            pairs = [(r.final, baseline[r.repeat]) for r in group if r.repeat in baseline]
            if pairs:
                wins[other] = (sum(a < b for a, b in pairs), len(pairs))
        if "shared_bottom" in wins:
            summary[(architecture, correlation)]["wins_over_shared_bottom"] = wins["shared_bottom"]
    return summary


def findings(summary: dict, correlations: tuple[float, ...]) -> list[tuple[str, bool, str]]:
    """The paper's three qualitative findings (Sec. 5.2), each with whether it holds here and the numbers."""
    low, high = min(correlations), max(correlations)
    mean = {key: value["mean"][0] for key, value in summary.items()}
    out = []
    ordered = {a: [mean[(a, c)] for c in sorted(correlations)] for a in ARCHITECTURES}
    holds = all(all(x >= y for x, y in zip(v, v[1:])) for v in ordered.values())
    out.append(("every model does better as correlation rises", holds,
                "; ".join(f"{a}: " + " → ".join(f"{x:.4f}" for x in v) for a, v in ordered.items())))
    sb, mm = mean[("shared_bottom", low)], mean[("mmoe", low)]
    wins = summary[("mmoe", low)].get("wins_over_shared_bottom")
    paired = f"; lower in {wins[0]} of {wins[1]} repeats on the same data" if wins else ""
    out.append((f"at correlation {low}, MMoE beats shared-bottom", mm < sb,
                f"MMoE {mm:.4f} vs shared-bottom {sb:.4f}{paired}"))
    gap = {a: mean[(a, low)] - mean[(a, high)] for a in ("shared_bottom", "mmoe")}
    out.append((f"MMoE's loss changes less than shared-bottom's between correlation {high} and {low}",
                abs(gap["mmoe"]) < abs(gap["shared_bottom"]),
                f"MMoE {gap['mmoe']:+.4f} vs shared-bottom {gap['shared_bottom']:+.4f}"))
    return out


def table(summary: dict, correlations: tuple[float, ...], settings: str) -> str:
    lines = [settings, "",
             "| model | params | " + " | ".join(f"p={c}: y1 | y2 | mean" for c in correlations) + " |",
             "| --- | ---: | " + " | ".join("---: | ---: | ---:" for _ in correlations) + " |"]
    for architecture in ARCHITECTURES:
        cells = []
        for c in correlations:
            s = summary[(architecture, c)]
            cells += [f"{m:.4f} ± {sd:.4f}" for m, sd in (*s["tasks"].values(), s["mean"])]
        params = summary[(architecture, correlations[0])]["parameters"]
        lines.append(f"| {architecture} | {params} | " + " | ".join(cells) + " |")
    lines += ["", "Final eval loss (mean of the two tasks), mean over repeats; paired: in how many repeats the "
              "first model was below the second on the same data:", "",
              "| correlation | shared_bottom | omoe | mmoe | omoe < shared_bottom | mmoe < shared_bottom "
              "| mmoe < omoe |", "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for c in correlations:
        means = [f"{summary[(a, c)]['mean'][0]:.4f}" for a in ARCHITECTURES]
        wins = [summary[(a, c)]["wins"].get(b) for a, b in (("omoe", "shared_bottom"), ("mmoe", "shared_bottom"),
                                                              ("mmoe", "omoe"))]
        lines.append(f"| {c} | " + " | ".join(means) + " | "
                     + " | ".join(f"{w[0]}/{w[1]}" if w else "-" for w in wins) + " |")
    lines += ["", "Findings of the paper (Sec. 5.2), checked on these numbers:", ""]
    lines += [f"- {'holds' if ok else 'does NOT hold'}: {claim} ({numbers})"
              for claim, ok, numbers in findings(summary, correlations)]
    return "\n".join(lines) + "\n"


def plot(runs: list[Run], correlations: tuple[float, ...], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, len(correlations), figsize=(4.2 * len(correlations), 3.4), sharey=True)
    axes = np.atleast_1d(axes)
    colors = {"shared_bottom": "#c0392b", "omoe": "#2e86c1", "mmoe": "#1e7e34"}
    for ax, c in zip(axes, correlations):
        for architecture in ARCHITECTURES:
            group = [r for r in runs if r.architecture == architecture and r.correlation == c]
            curves = np.array([np.mean(list(r.eval_loss.values()), axis=0) for r in group])
            # Each repeat thin (repeats differ in difficulty by 10x, so a mean +- sd band is meaningless
            # on a log scale), the median over repeats bold.
            for curve in curves:
                ax.plot(group[0].steps, curve, color=colors[architecture], alpha=0.25, linewidth=0.8)
            ax.plot(group[0].steps, np.median(curves, axis=0), label=f"{architecture} (median)",
                    color=colors[architecture], linewidth=2)
        ax.set_title(f"correlation {c}")
        ax.set_yscale("log")
        ax.set_xlabel("training steps")
    axes[0].set_ylabel("eval loss (MSE, mean of 2 tasks)")
    axes[0].legend()
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)


def write_outputs(runs: list[Run], correlations: tuple[float, ...], settings: str, out: Path) -> str:
    text = table(summarize(runs), correlations, settings)
    (out / "table.md").write_text(text)
    (out / "results.json").write_text(json.dumps({"settings": settings, "runs": [asdict(r) for r in runs]},
                                                 indent=1) + "\n")
    plot(runs, correlations, out / "loss_curves.png")
    return text


def load_runs(path: Path) -> tuple[str, list[Run]]:
    raw = json.loads(path.read_text())
    return raw["settings"], [Run(**r) for r in raw["runs"]]


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help=f"{FULL} instead of {PROTOCOL}")
    parser.add_argument("--repeats", type=int)
    parser.add_argument("--steps", type=int)
    parser.add_argument("--eval-every", type=int)
    parser.add_argument("--num-examples", type=int, help="training examples per repeat")
    parser.add_argument("--eval-examples", type=int, default=2000)
    parser.add_argument("--correlations", type=float, nargs="+", default=list(CORRELATIONS))
    parser.add_argument("--c", type=float, default=0.3, help="weight scale c [0.3, the generator's]")
    parser.add_argument("--m", type=int, default=5, help="number of sinusoids [5, the generator's]")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--learning-rates", type=float, nargs="+",
                        help="several (e.g. 1e-4 1e-3 1e-2, the paper's grid): picked per model on pilot repeats")
    parser.add_argument("--pilot-repeats", type=int, default=2)
    parser.add_argument("--unbatched", action="store_true",
                        help="train one model at a time by Keras's fit (slow; the batched run's reference)")
    parser.add_argument("--reference", action="store_true",
                        help="first time one unbatched pass of the three models, and report the run's time as a ratio")
    parser.add_argument("--out", type=Path, default=Path("bench_results/mmoe_synthetic"))
    parser.add_argument("--from-results", type=Path, help="rewrite table and plot from a results.json")
    args = parser.parse_args(argv)
    for key, value in (FULL if args.full else PROTOCOL).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.steps < args.eval_every or args.repeats < 1:
        parser.error("need --steps >= --eval-every and --repeats >= 1")
    args.correlations = tuple(args.correlations)
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.from_results:  # redraw the table and plot of an earlier run
        settings, runs = load_runs(args.from_results)
        correlations = tuple(sorted({r.correlation for r in runs}))
        print(write_outputs(runs, correlations, settings, args.out))
        return 0
    log = lambda line: print(line, flush=True)  # noqa: E731
    reference = time_reference(args, log) if args.reference else None
    started = time.monotonic()
    rates = pick_learning_rates(args, log)
    runs = []
    for architecture in ARCHITECTURES:
        jobs = [(c, repeat, rates[architecture]) for c in args.correlations for repeat in range(args.repeats)]
        runs += train(architecture, jobs, args)
        for c in args.correlations:
            log(f"correlation {c} {architecture}: final eval loss "
                + ", ".join(f"{r.final:.4f}" for r in runs if r.architecture == architecture and r.correlation == c))
    seconds = time.monotonic() - started
    settings = (f"{args.repeats} repeats, {args.steps} steps of batch {args.batch_size}, "
                f"{args.num_examples} training / {args.eval_examples} eval examples, c = {args.c}, m = {args.m}, "
                f"Adam learning rate {rates} (from {list(args.learning_rates)} on {args.pilot_repeats} pilot "
                f"repeats); {'unbatched' if args.unbatched else 'batched'}: {seconds:.0f} s")
    if reference:
        settings += (f"; one unbatched pass of the three models (1 repeat, correlation {min(args.correlations)}, "
                     f"rate {args.learning_rates[0]}): {reference:.0f} s, ratio {seconds / reference:.2f}")
    print(write_outputs(runs, args.correlations, settings, args.out))
    print(f"Written: {args.out}/table.md, results.json, loss_curves.png")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    sys.exit(main())
