"""Evidence for the training defaults: the project's model in plain tf_keras on in-memory numpy.

    .venv/bin/python bench/training_budget.py [--datasets diabetes,synthetic_100k] [--variants ...]

It mirrors the pipeline's model (shared bottom [32, 16] with a linear last
layer, towers [10, 5], Adam, batch 128, one sigmoid or linear head per task)
and its preprocessing (inputs z-scored or log-transformed on the training
split, regression labels standardized or not), and trains with Keras'
EarlyStopping on the eval loss (best weights restored). Each variant prints
the eval score per task (R² or AUC on the original label scale), the steps
that ran and the seconds they took. No TFX: this is for choosing defaults
quickly, the quality benchmark (bench/quality.py) checks the real pipeline.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import quality_datasets as qd  # noqa: E402


def _tables():
    out = {}
    for name, make in qd.DATASETS.items():
        ds = make()
        out[name] = ds
    return out


def matrices(ds: qd.BenchDataset, transform: str):
    """(x_train, x_eval, {task: (y_train, y_eval, type)}) with the inputs preprocessed."""
    import pandas as pd

    def prep(frame, ref):
        cols = []
        for c in ds.numeric:
            v, r = frame[c].to_numpy(float), ref[c].to_numpy(float)
            if transform == "log" or (transform == "auto" and _heavy(r)):
                v, r = np.sign(v) * np.log1p(np.abs(v)), np.sign(r) * np.log1p(np.abs(r))
            cols.append((v - r.mean()) / (r.std() or 1.0))
        for c in ds.categorical:
            levels = sorted(ref[c].astype(str).unique())
            cols += [(frame[c].astype(str) == lv).to_numpy(float) for lv in levels]
        return np.stack(cols, axis=1).astype("float32")

    tasks = {}
    for t in ds.tasks:
        if t.type == "binary":
            tasks[t.name] = (qd.binary_labels(ds.train[t.name], t).astype("float32"),
                             qd.binary_labels(ds.eval[t.name], t).astype("float32"), t.type)
        else:
            tasks[t.name] = (ds.train[t.name].to_numpy("float32"), ds.eval[t.name].to_numpy("float32"), t.type)
    del pd
    return prep(ds.train, ds.train), prep(ds.eval, ds.train), tasks


def _heavy(values: np.ndarray) -> bool:
    values = values[~np.isnan(values)]
    if values.min() < 0:
        return False
    p99 = np.percentile(values, 99)
    return (values == 0).mean() > 0.5 or (p99 > 0 and values.max() / p99 > 10) or \
        (np.percentile(values, 50) > 0 and p99 / np.percentile(values, 50) > 20)


def synthetic(n: int, seed: int = 7):
    from components.synthetic_data import generate

    data = generate(n, p=0.8, seed=seed, num_shards=max(1, n // 50_000))
    n_train = int(n * 0.8)
    x = data.inputs
    mean, std = x[:n_train].mean(0), x[:n_train].std(0)
    x = (x - mean) / std
    tasks = {"y1": (data.y1[:n_train], data.y1[n_train:], "regression"),
             "y2": (data.y2[:n_train], data.y2[n_train:], "regression")}
    return x[:n_train], x[n_train:], tasks


def train(x_train, x_eval, tasks, scale_labels=True, lr=1e-3, batch=128, max_steps=10_000,
          check_every=None, patience=5, eval_rows=2560, seed=7, wide=False, dropout=0.0, l2=0.0):
    import tensorflow as tf
    import tf_keras
    from sklearn.metrics import r2_score, roc_auc_score

    tf_keras.utils.set_random_seed(seed)
    stats = {name: (y.mean(), y.std()) if (typ == "regression" and scale_labels) else (0.0, 1.0)
             for name, (y, _, typ) in tasks.items()}
    if l2 == "per_example":  # L2_PER_EXAMPLE / training examples: strong on small tables, nil on large
        from models.builder import L2_PER_EXAMPLE
        l2 = L2_PER_EXAMPLE / len(x_train)
    reg = tf_keras.regularizers.l2(l2) if l2 else None
    inputs = tf_keras.Input(shape=(x_train.shape[1],))
    h = tf_keras.layers.Dense(32, activation="relu", kernel_regularizer=reg)(inputs)
    bottom = tf_keras.layers.Dense(16, kernel_regularizer=reg)(h)
    outputs = {}
    for name, (_, _, typ) in tasks.items():
        t = bottom
        for units in (10, 5):
            t = tf_keras.layers.Dense(units, activation="relu", kernel_regularizer=reg)(t)
            if dropout:
                t = tf_keras.layers.Dropout(dropout)(t)
        logit = tf_keras.layers.Dense(1, kernel_regularizer=reg)(t)
        if wide:  # a linear term straight from the inputs, added before the output activation
            logit = tf_keras.layers.Add()([logit, tf_keras.layers.Dense(1)(inputs)])
        outputs[name] = tf_keras.layers.Activation("sigmoid" if typ == "binary" else "linear", name=name)(logit)
    model = tf_keras.Model(inputs, outputs)
    model.compile(tf_keras.optimizers.Adam(lr),
                  loss={n: "binary_crossentropy" if typ == "binary" else "mse" for n, (_, _, typ) in tasks.items()})
    y_train = {n: (y - stats[n][0]) / stats[n][1] for n, (y, _, _) in tasks.items()}
    y_eval = {n: (y - stats[n][0]) / stats[n][1] for n, (_, y, _) in tasks.items()}
    steps_per_epoch = int(np.ceil(len(x_train) / batch))
    if check_every == "plan":  # the pipeline's own plan (models/budget.py)
        from models.budget import plan_training
        plan = plan_training(len(x_train), batch, max_steps=max_steps, patience=patience)
        check_every = plan.steps_per_check
    check = check_every or steps_per_epoch
    check = min(check, max_steps)
    train_ds = tf.data.Dataset.from_tensor_slices((x_train, y_train)).shuffle(
        min(len(x_train), 10_000), seed=seed).repeat().batch(batch).prefetch(2)
    ev = slice(0, eval_rows)
    val = (x_eval[ev], {n: y[ev] for n, y in y_eval.items()})
    callbacks = []
    if patience:
        callbacks.append(tf_keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience,
                                                          restore_best_weights=True))
    started = time.monotonic()
    history = model.fit(train_ds, steps_per_epoch=check, epochs=max(1, max_steps // check),
                        validation_data=val, callbacks=callbacks, verbose=0)
    seconds = time.monotonic() - started
    steps = len(history.history["loss"]) * check
    predicted = model.predict(x_eval, batch_size=4096, verbose=0)
    scores = {}
    for name, (_, y, typ) in tasks.items():
        p = predicted[name][:, 0] * stats[name][1] + stats[name][0]
        scores[name] = roc_auc_score(y, p) if typ == "binary" else r2_score(y, p)
    return scores, steps, seconds


VARIANTS = {
    # The pipeline's defaults: auto transforms, scaled labels, the plan of models/budget.py.
    "default": ("auto", dict(max_steps=10_000, check_every="plan", patience=10)),
    # name: (input transform, train kwargs)
    "default_l2_1e-3": ("auto", dict(max_steps=10_000, check_every="plan", patience=10, l2=1e-3)),
    "default_l2_1e-2": ("auto", dict(max_steps=10_000, check_every="plan", patience=10, l2=1e-2)),
    "default_lr3e-4": ("auto", dict(max_steps=10_000, check_every="plan", patience=10, lr=3e-4)),
    "default_dropout": ("auto", dict(max_steps=10_000, check_every="plan", patience=10, dropout=0.1)),
    "default_l2_auto": ("auto", dict(max_steps=10_000, check_every="plan", patience=10, l2="per_example")),
    "old_defaults": ("z_score", dict(scale_labels=False, max_steps=2000, check_every=2000, patience=0)),
    "scaled_2000": ("z_score", dict(max_steps=2000, check_every=2000, patience=0)),
    "scaled_es_epoch_p5": ("z_score", dict(max_steps=10_000, patience=5)),
    "scaled_es_100_p5": ("z_score", dict(max_steps=10_000, check_every=100, patience=5)),
    "scaled_es_100_p10": ("z_score", dict(max_steps=10_000, check_every=100, patience=10)),
    "scaled_es_200_p10": ("z_score", dict(max_steps=10_000, check_every=200, patience=10)),
    "auto_es_100_p10": ("auto", dict(max_steps=10_000, check_every=100, patience=10)),
    "auto_es_100_p10_lr3": ("auto", dict(max_steps=10_000, check_every=100, patience=10, lr=3e-3)),
    "wide_es_100_p10": ("auto", dict(max_steps=10_000, check_every=100, patience=10, wide=True)),
    "wide_es_50_p10": ("auto", dict(max_steps=10_000, check_every=50, patience=10, wide=True)),
    "wide_es_100_p20": ("auto", dict(max_steps=10_000, check_every=100, patience=20, wide=True)),
    "wide_es_100_p10_lr3": ("auto", dict(max_steps=10_000, check_every=100, patience=10, wide=True, lr=3e-3)),
    "es_100_p20": ("auto", dict(max_steps=10_000, check_every=100, patience=20)),
    "z_wide_es_100_p10": ("z_score", dict(max_steps=10_000, check_every=100, patience=10, wide=True)),
    "cap5000_100_p10": ("auto", dict(max_steps=5000, check_every=100, patience=10)),
    "cap20000_100_p10": ("auto", dict(max_steps=20_000, check_every=100, patience=10)),
}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--datasets", default="diabetes,breast_cancer,breast_cancer_heavy,penguins,synthetic_3000")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    args = parser.parse_args()
    tables = _tables()
    for dname in args.datasets.split(","):
        for vname in args.variants.split(","):
            transform, kwargs = VARIANTS[vname]
            if dname.startswith("synthetic_"):
                n = int(dname.split("_")[1].replace("k", "000").replace("m", "000000"))
                x_train, x_eval, tasks = synthetic(n)
            else:
                x_train, x_eval, tasks = matrices(tables[dname], transform)
            scores, steps, seconds = train(x_train, x_eval, tasks, **kwargs)
            shown = " ".join(f"{k}={v:.4f}" for k, v in scores.items())
            print(f"{dname:22s} {vname:22s} {shown}  steps={steps} {seconds:.1f}s", flush=True)


if __name__ == "__main__":
    main()
