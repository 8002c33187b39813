"""What the serving signature does with a request's values before the model sees them.

A NaN or an infinity in a numeric input is an error (``InvalidArgumentError``
naming the feature), not a prediction: z-scoring would carry it into every
output, or a saturated unit would turn it into an ordinary-looking number.
A value that is missing altogether is a different thing: where the schema
allows it (an optional column), Transform imputes the training mean.
"""

from __future__ import annotations

import tensorflow as tf


TF_EXAMPLE_HINT = "leave an optional value out to have it imputed"


def non_finite_message(name: str, hint: str = TF_EXAMPLE_HINT) -> str:
    return f"feature {name!r} holds a NaN or an infinity; send finite values ({hint})"


def reject_non_finite(parsed: dict, hint: str = TF_EXAMPLE_HINT) -> dict:
    """``parsed`` with every floating-point feature checked finite (an error at run time if not);
    ``hint`` says how the request's format marks a missing value."""
    checked = {}
    for name, value in parsed.items():
        values = value.values if isinstance(value, tf.SparseTensor) else value
        if values.dtype.is_floating:
            values = tf.debugging.assert_all_finite(values, non_finite_message(name, hint))
            value = (tf.SparseTensor(value.indices, values, value.dense_shape)
                     if isinstance(value, tf.SparseTensor) else values)
        checked[name] = value
    return checked
