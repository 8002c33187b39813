"""Parameter-efficient ensembling in the style of TabM-mini (Gorishniy et al., 2024, "TabM").

With ``model.ensemble_size`` k > 1 the network is k members that share
almost every weight. The encoded input is copied k times and each copy is
multiplied element-wise by its member's own vector (``MemberCopies``, started
at random signs, as the paper's TabM-mini); every shared layer (bottom,
experts, gates, towers) then reads [batch, k, width] and treats the member
axis as more rows. Each member has its own output head (``MemberHeads``), and
the model's output per task is the mean of the members' outputs
(``MemberMean``; for a classifier, the mean of its probabilities). So the
saved model's outputs keep their names and shapes: serving, TFMA and the gates
see one model.

Training compiles ``training_view``: the members' outputs, each member's loss
computed on its own and the loss the mean of theirs (so each member learns as
a model of its own; a loss on the mean prediction would train one model).
Metrics are on the mean prediction, as served.

With k = 1 none of these layers exist: the model is the plain one.
Keras in, Keras out: no TFX here.
"""

from __future__ import annotations

import tensorflow as tf
import tf_keras

MEMBER_AXIS = 1  # [batch, members, width]


@tf_keras.utils.register_keras_serializable(package="mtl")
class RandomSigns(tf_keras.initializers.Initializer):
    """+1 or -1 at random, from a seed: the paper's start for TabM-mini's one adapter."""

    def __init__(self, seed: int = 0):
        self.seed = seed

    def __call__(self, shape, dtype=None, **kwargs):
        bits = tf.random.stateless_uniform(shape, seed=[self.seed, 0], minval=0, maxval=2, dtype=tf.int32)
        return tf.cast(2 * bits - 1, dtype or tf.float32)

    def get_config(self):
        return {"seed": self.seed}


@tf_keras.utils.register_keras_serializable(package="mtl")
class MemberCopies(tf_keras.layers.Layer):
    """[batch, width] -> [batch, k, width]: k copies of the input, each scaled by its member's vector.

    The scales are stored [width, k] (a row per input position), so warm start
    maps their rows by token as it maps the first Dense kernel's (``models.warm_start``).
    """

    def __init__(self, members: int, seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.members, self.seed = members, seed

    def build(self, input_shape):
        self.scale = self.add_weight(name="scale", shape=(int(input_shape[-1]), self.members),
                                     initializer=RandomSigns(self.seed))

    def call(self, x):
        return tf.expand_dims(x, MEMBER_AXIS) * tf.transpose(self.scale)[None]

    def get_config(self):
        return {**super().get_config(), "members": self.members, "seed": self.seed}


@tf_keras.utils.register_keras_serializable(package="mtl")
class MemberHeads(tf_keras.layers.Layer):
    """[batch, k, width] -> [batch, k, units]: one Dense output layer per member (kernel [k, width, units])."""

    def __init__(self, units: int, activation=None, kernel_initializer="glorot_uniform",
                 kernel_regularizer=None, seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.units, self.seed = units, seed
        self.activation = tf_keras.activations.get(activation)
        self.kernel_initializer = tf_keras.initializers.get(kernel_initializer)
        self.kernel_regularizer = tf_keras.regularizers.get(kernel_regularizer)

    def build(self, input_shape):
        members, width = int(input_shape[MEMBER_AXIS]), int(input_shape[-1])
        settings = self.kernel_initializer.get_config()

        def per_member(shape, dtype=None, **kwargs):
            # Each head starts as a Dense layer of its own would (the initializer's scale of
            # [width, units]), from a seed of its own: heads that start alike stay more alike.
            return tf.stack([type(self.kernel_initializer).from_config({**settings, "seed": (self.seed + j) % 2**31})(
                (width, self.units), dtype=dtype) for j in range(members)])

        self.kernel = self.add_weight(name="kernel", shape=(members, width, self.units), initializer=per_member,
                                      regularizer=self.kernel_regularizer)
        self.bias = self.add_weight(name="bias", shape=(members, self.units), initializer="zeros")

    def call(self, x):
        return self.activation(tf.einsum("bkw,kwu->bku", x, self.kernel) + self.bias)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "seed": self.seed,
                "activation": tf_keras.activations.serialize(self.activation),
                "kernel_initializer": tf_keras.initializers.serialize(self.kernel_initializer),
                "kernel_regularizer": tf_keras.regularizers.serialize(self.kernel_regularizer)
                if self.kernel_regularizer else None}


@tf_keras.utils.register_keras_serializable(package="mtl")
class MemberMean(tf_keras.layers.Layer):
    """[batch, k, units] -> [batch, units]: the ensemble's prediction, the mean of its members'."""

    def call(self, x):
        return tf.reduce_mean(x, axis=MEMBER_AXIS)


@tf_keras.utils.register_keras_serializable(package="mtl")
class MemberMix(tf_keras.layers.Layer):
    """A gate's mixture per member: ([batch, k, experts], [batch, k, units] per expert) -> [batch, k, units]."""

    def call(self, inputs):
        weights, *experts = inputs
        return tf.einsum("bke,bkeu->bku", weights, tf.stack(experts, axis=-2))


def member_outputs(network: tf_keras.Model) -> dict | None:
    """Task -> its members' outputs [batch, k, units] in ``network``'s graph; None without members."""
    means = {name: network.get_layer(name) for name in network.output_names}
    if not all(isinstance(layer, MemberMean) for layer in means.values()):
        return None
    return {name: layer.input for name, layer in means.items()}


def mean_of_members(member_predictions: dict) -> dict:
    return {name: tf.reduce_mean(p, axis=MEMBER_AXIS) for name, p in member_predictions.items()}


class MembersTrainingView(tf_keras.Model):
    """The network's members as outputs: the loss is the mean of the members' losses, metrics on their mean."""

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None):
        members = next(iter(y_pred.values())).shape[MEMBER_AXIS]
        # Each call is one member's full loss (weighted tasks + the L2 penalty); Keras' loss
        # trackers average the k calls, so the logged loss is the mean too.
        losses = [self.compiled_loss(y, {name: p[:, j] for name, p in y_pred.items()}, sample_weight,
                                     regularization_losses=self.losses)
                  for j in range(members)]
        return tf.add_n(losses) / members

    def compute_metrics(self, x, y, y_pred, sample_weight):
        return super().compute_metrics(x, y, mean_of_members(y_pred), sample_weight)


def training_view(network: tf_keras.Model) -> tf_keras.Model:
    """What training compiles: the same layers and weights as ``network``, without its loss or metrics.

    For an ensemble, a ``MembersTrainingView`` of its members' outputs; otherwise the network's outputs.
    """
    members = member_outputs(network)
    if members is None:
        return tf_keras.Model(network.inputs, network.output)
    # Named by the task, as the network's outputs: Keras names the losses and metrics it logs
    # (``y1_loss``, ``val_y1_auc``) after the output layers.
    return MembersTrainingView(network.inputs, {name: tf_keras.layers.Activation("linear", name=name)(tensor)
                                                for name, tensor in members.items()})
