"""Many copies of one builder's model trained at once, as one stacked model.

The experiment of bench/mmoe_synthetic.py trains the same architecture many
times: repeats (each on its own data and initial weights) times learning rates.
Each of those models is tiny, so trained one at a time the time goes to
per-step overhead, not arithmetic. Here they train as one model:

- the builder's Keras graph is replayed with a leading replica axis: every
  Dense layer's kernel [in, out] becomes one variable [replicas, in, out] and
  one einsum; weightless layers (Reshape, Concatenate, Dot, ...) are the
  builder's own layers, run with the replicas folded into the batch axis;
- replica k starts from the weights of ``models[k]``, the model its builder
  built from its own seed;
- the loss is the sum of the replicas' losses, so each replica's gradient is
  the gradient of its own loss, and Adam updates every element on its own: one
  Adam over the stacked variables, with a learning rate per replica, is the
  same as one Adam per model (tf_keras's Adam, reproduced below);
- a block of steps runs inside one tf.function loop, so Python is entered
  once per evaluation, not once per step.

tests/test_bench_replicas.py checks that a replica trains to the loss of the
same model trained alone by Keras's fit, from the same seed and batches.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import tensorflow as tf
import tf_keras

# tf_keras.optimizers.Adam's defaults.
BETA_1, BETA_2, EPSILON = 0.9, 0.999, 1e-7
# Layers without weights that are safe to run with the replicas folded into the batch axis.
WEIGHTLESS = (tf_keras.layers.Reshape, tf_keras.layers.Concatenate, tf_keras.layers.Dot,
              tf_keras.layers.Flatten, tf_keras.layers.Activation, tf_keras.layers.Add)


def batch_order(seed: int, num_examples: int, batch_size: int):
    """Batches of example indices: shuffled epochs one after another, as ``shuffle().repeat().batch()``.

    A generator of [batch_size] arrays; the same seed gives the same batches,
    so a model trained alone and its replica see the same data in the same order.
    """
    rng = np.random.default_rng(seed)
    pending = np.empty(0, dtype=np.int64)
    while True:
        while len(pending) < batch_size:
            pending = np.concatenate([pending, rng.permutation(num_examples)])
        yield pending[:batch_size]
        pending = pending[batch_size:]


@dataclass(frozen=True)
class DataSet:
    """One replica group's data: inputs by name [examples, ...] and labels by task [examples, ...]."""

    inputs: dict[str, np.ndarray]
    labels: dict[str, np.ndarray]

    def __post_init__(self):
        # A label of one value per example as a column, as the model's output is.
        object.__setattr__(self, "labels", {task: y.reshape(len(y), -1) for task, y in self.labels.items()})

    @property
    def size(self) -> int:
        return len(next(iter(self.labels.values())))


def _structure(model: tf_keras.Model) -> list[tuple[str, str, tuple]]:
    return [(layer.name, type(layer).__name__, tuple(tuple(w.shape) for w in layer.weights))
            for layer in model.layers]


class StackedReplicas:
    """``models`` (same builder, same configuration but seed) trained as one model.

    Args:
        models: one built tf_keras model per replica; their initial weights are the replicas'.
        learning_rates: Adam's learning rate per replica.
        losses: task -> (a tf_keras loss function name, its weight), as the compile step sets them.
    """

    def __init__(self, models: list[tf_keras.Model], learning_rates: list[float],
                 losses: dict[str, tuple[str, float]]):
        if len(models) != len(learning_rates) or not models:
            raise ValueError(f"need one learning rate per model, got {len(models)} models and "
                             f"{len(learning_rates)} rates")
        template = models[0]
        for model in models[1:]:
            if _structure(model) != _structure(template):
                raise ValueError("replicas must share one layer structure (same builder and sizes)")
        self.template = template
        self.replicas = len(models)
        self.losses = {task: (tf_keras.losses.get(name), float(weight)) for task, (name, weight) in losses.items()}
        for layer in template.layers:
            if isinstance(layer, tf_keras.layers.Dropout):
                if layer.rate:
                    raise ValueError(f"layer {layer.name}: dropout {layer.rate} is not supported by the "
                                     "stacked replicas; set the model's dropout to 0")
            elif not isinstance(layer, (tf_keras.layers.InputLayer, tf_keras.layers.Dense, *WEIGHTLESS)):
                raise ValueError(f"layer {layer.name} ({type(layer).__name__}) is not supported by the "
                                 "stacked replicas (Dense and weightless layers only)")
        # Dense layers that read the same tensor (a mixture's experts and gates) share one einsum:
        # their kernels side by side, [replicas, in, sum of their units].
        groups: dict = {}
        for layer in template.layers:
            if isinstance(layer, tf_keras.layers.Dense):
                groups.setdefault((layer.input.ref(), layer.use_bias), []).append(layer)
        self.groups = list(groups.values())
        self.group_of = {layer.name: i for i, group in enumerate(self.groups) for layer in group}
        # Every replica's weights as one row of one variable [replicas, parameters], so that Adam's
        # update is a few operations on one tensor, not a few per layer.
        pieces, penalties, self.layout, offset = [], [], [], 0
        for group in self.groups:
            stack = lambda attr: np.concatenate([np.stack([getattr(m.get_layer(l.name), attr).numpy()  # noqa: E731
                                                           for m in models]) for l in group], axis=-1)
            kernel = stack("kernel")
            strength = [float(l.kernel_regularizer.get_config()["l2"]) if l.kernel_regularizer else 0.0
                        for l in group]
            penalties.append(np.broadcast_to(np.repeat(strength, [l.units for l in group]), kernel.shape[1:]).ravel())
            pieces.append(kernel.reshape(len(models), -1))
            kernel_at = (offset, offset + kernel[0].size, kernel.shape[1:])
            offset = kernel_at[1]
            bias_at = None
            if group[0].use_bias:
                pieces.append(stack("bias"))
                penalties.append(np.zeros(pieces[-1].shape[1]))
                bias_at = (offset, offset + pieces[-1].shape[1])
                offset = bias_at[1]
            self.layout.append((kernel_at, bias_at))
        self.params = tf.Variable(np.concatenate(pieces, axis=1).astype(np.float32), name="replica_weights")
        penalty = np.concatenate(penalties).astype(np.float32)
        self.l2 = tf.constant(penalty) if penalty.any() else None
        self.rates = tf.constant(np.asarray(learning_rates, dtype=np.float32)[:, None])
        self.step = tf.Variable(0.0)
        self.m = tf.Variable(tf.zeros_like(self.params))
        self.v = tf.Variable(tf.zeros_like(self.params))

    def _weights(self, i):
        """Group i's stacked kernel [replicas, in, units] and bias [replicas, 1, units] (or 0)."""
        (start, stop, shape), bias_at = self.layout[i]
        kernel = tf.reshape(self.params[:, start:stop], [-1, *shape])
        bias = self.params[:, bias_at[0]:bias_at[1]][:, None, :] if bias_at else 0.0
        return kernel, bias

    def __call__(self, inputs: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
        """Inputs by name [replicas, batch, ...] -> outputs by task [replicas, batch, ...]."""
        values = {t.ref(): inputs[name] for name, t in zip(self.template.input_names, self.template.inputs)}
        for layer in self.template.layers:
            if isinstance(layer, tf_keras.layers.InputLayer):
                continue
            x = tf.nest.map_structure(lambda t: values[t.ref()], layer.input)
            if isinstance(layer, tf_keras.layers.Dense):
                if layer.output.ref() not in values:  # the first of its group: compute the whole group
                    i = self.group_of[layer.name]
                    kernel, bias = self._weights(i)
                    y = tf.einsum("kbi,kio->kbo", x, kernel) + bias
                    parts = tf.split(y, [l.units for l in self.groups[i]], axis=-1)
                    for member, part in zip(self.groups[i], parts):
                        values[member.output.ref()] = member.activation(part)
                continue
            elif isinstance(layer, tf_keras.layers.Dropout):
                y = x
            else:  # weightless: the builder's layer itself, replicas folded into the batch
                folded = tf.nest.map_structure(lambda t: tf.reshape(t, [-1, *t.shape[2:]]), x)
                out = layer(folded)
                y = tf.reshape(out, [self.replicas, -1, *out.shape[1:]])
            values[layer.output.ref()] = y
        return {name: values[t.ref()] for name, t in zip(self.template.output_names, self.template.outputs)}

    def replica_losses(self, inputs, labels) -> dict[str, tf.Tensor]:
        """Task -> loss per replica [replicas] (the mean over the batch, as Keras computes it)."""
        outputs = self(inputs)
        return {task: tf.reduce_mean(fn(labels[task], outputs[task]), axis=1)
                for task, (fn, _) in self.losses.items()}

    def _train_step(self, inputs, labels):
        with tf.GradientTape() as tape:
            per_task = self.replica_losses(inputs, labels)
            total = tf.add_n([weight * per_task[task] for task, (_, weight) in self.losses.items()])
            if self.l2 is not None:
                total += tf.reduce_sum(self.l2 * tf.square(self.params), axis=1)
            loss = tf.reduce_sum(total)
        gradient = tape.gradient(loss, self.params)
        self.step.assign_add(1.0)
        alpha = self.rates * tf.sqrt(1 - BETA_2 ** self.step) / (1 - BETA_1 ** self.step)
        self.m.assign_add((gradient - self.m) * (1 - BETA_1))
        self.v.assign_add((tf.square(gradient) - self.v) * (1 - BETA_2))
        self.params.assign_sub(self.m * alpha / (tf.sqrt(self.v) + EPSILON))

    @tf.function
    def _train_block(self, train_inputs, train_labels, indices):
        """``indices`` [steps, replicas, batch] rows of the flattened training data, one step per row."""
        for s in tf.range(tf.shape(indices)[0]):
            rows = indices[s]
            self._train_step({k: tf.gather(v, rows) for k, v in train_inputs.items()},
                             {k: tf.gather(v, rows) for k, v in train_labels.items()})

    @tf.function
    def _evaluate(self, inputs, labels):
        return self.replica_losses(inputs, labels)

    def fit(self, train: list[DataSet], held: list[DataSet], data_of: list[int], orders: list,
            steps: int, eval_every: int) -> dict[str, np.ndarray]:
        """Train every replica ``steps`` steps; its eval loss on its held-out set after every ``eval_every``.

        Args:
            train, held: the data sets; replica k trains on ``train[data_of[k]]`` and is
                evaluated on ``held[data_of[k]]``.
            orders: one ``batch_order`` per training set: replicas on the same data see the same batches.

        Returns:
            task -> eval loss [replicas, steps // eval_every].
        """
        if len(data_of) != self.replicas:
            raise ValueError(f"data_of names {len(data_of)} data sets for {self.replicas} replicas")
        offsets = np.cumsum([0] + [d.size for d in train])[:-1]
        flat = lambda sets, field: {k: tf.constant(np.concatenate([getattr(d, field)[k] for d in sets]))  # noqa: E731
                                    for k in getattr(sets[0], field)}
        train_inputs, train_labels = flat(train, "inputs"), flat(train, "labels")
        stacked = lambda field: {k: tf.constant(np.stack([getattr(held[d], field)[k] for d in data_of]))  # noqa: E731
                                 for k in getattr(held[0], field)}
        held_inputs, held_labels = stacked("inputs"), stacked("labels")
        curves = {task: [] for task in self.losses}
        for _ in range(steps // eval_every):
            block = np.stack([np.stack([next(order) for order in orders])
                              for _ in range(eval_every)])  # [steps, data sets, batch]
            rows = block[:, data_of, :] + offsets[data_of][None, :, None]
            self._train_block(train_inputs, train_labels, tf.constant(rows, dtype=tf.int32))
            for task, loss in self._evaluate(held_inputs, held_labels).items():
                curves[task].append(loss.numpy())
        return {task: np.stack(values, axis=1) for task, values in curves.items()}
