"""The generator with K >= 2 tasks: pairwise correlation p, and the two-task data unchanged."""

import hashlib
import itertools

import numpy as np
import pytest

from components import synthetic_data as sd
from components.synthetic_example_gen.executor import shard_records


def _digest(data):
    h = hashlib.sha256()
    for field in ("ids", "inputs", "y1", "y2", "x_norm"):
        h.update(getattr(data, field).tobytes())
    h.update("".join(data.segment).encode())
    return h.hexdigest()[:16]


@pytest.mark.parametrize("kwargs, digest", [
    # Digests of the two-task generator's output before it took num_tasks.
    (dict(num_examples=1000, seed=7, p=0.5), "9f5d1007364e3318"),
    (dict(num_examples=777, seed=3, p=1.0, c=0.7, m=3, example_dim=20, num_shards=3), "d07acc755b618eab"),
    (dict(num_examples=500, seed=11, p=-0.4), "6f6d936a6c0c8c6c"),
])
def test_two_tasks_give_the_same_examples_as_before(kwargs, digest):
    assert _digest(sd.generate(**kwargs)) == digest


def test_two_task_records_are_byte_identical_to_before():
    weights = sd.draw_task_weights(7, 100, 0.3, 0.5, 5)
    h = hashlib.sha256()
    ids, records = shard_records(sd.Shard(1, 100, 300), weights, 7, 100, ["y2"])
    assert ids.tolist() == list(range(100, 300))
    for record in records:
        h.update(record)
    assert h.hexdigest()[:16] == "58d094a4f9bea958"


@pytest.mark.parametrize("num_tasks, p", [(3, 0.5), (5, 0.9), (4, -0.2), (6, 1.0), (4, 0.0)])
def test_every_pair_of_tasks_has_cosine_p_and_norm_c(num_tasks, p):
    w = sd.draw_task_weights(seed=3, example_dim=50, c=0.3, p=p, m=5, num_tasks=num_tasks).w
    assert w.shape == (num_tasks, 50)
    np.testing.assert_allclose(np.linalg.norm(w, axis=1), 0.3, rtol=1e-9)
    for i, j in itertools.combinations(range(num_tasks), 2):
        assert w[i] @ w[j] / (0.3 ** 2) == pytest.approx(p, abs=1e-9)


def test_first_two_tasks_do_not_depend_on_the_task_count():
    two, four = sd.generate(400, seed=5, p=0.7, num_shards=2), sd.generate(400, seed=5, p=0.7, num_shards=2,
                                                                            num_tasks=4)
    assert four.labels.shape == (400, 4)
    np.testing.assert_array_equal(two.labels, four.labels[:, :2])
    np.testing.assert_array_equal(two.segment, four.segment)
    # The extra tasks follow the same formula with their own weights and noise.
    weights = sd.draw_task_weights(5, 100, 0.3, 0.7, 5, num_tasks=4)
    wx = four.inputs.astype(np.float64) @ weights.w[3]
    expected = wx + sum(np.sin(a * wx + b) for a, b in zip(weights.alpha, weights.beta))
    assert np.std(four.label("y4") - expected) == pytest.approx(sd.NOISE_STDDEV, rel=0.25)


def test_records_carry_every_label():
    weights = sd.draw_task_weights(7, 10, 0.3, 0.5, 5, num_tasks=3)
    _, (record, *_) = shard_records(sd.Shard(0, 0, 5), weights, 7, 10, ["y3"])
    import tensorflow as tf
    feature = tf.train.Example.FromString(record).features.feature
    assert {"y1", "y2", "y3"} <= set(feature)
    assert feature["y3"].float_list.value[0] in (0.0, 1.0)  # binarized


@pytest.mark.parametrize("num_tasks, p, message", [
    (3, -0.6, "with 3 tasks the correlation must be in [-0.5, 1], got -0.6"),
    (1, 0.5, "need at least two tasks"),
])
def test_impossible_correlations_are_refused(num_tasks, p, message):
    with pytest.raises(ValueError) as excinfo:
        sd.draw_task_weights(1, 20, 0.3, p, 5, num_tasks=num_tasks)
    assert message in str(excinfo.value)
