"""The synthetic generator, pure numpy: the MMoE paper's construction, exactly."""

import collections

import numpy as np
import pytest

from components import synthetic_data as sd


def _cosine(a, b):
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


@pytest.mark.parametrize("p", [-0.5, 0.0, 0.5, 0.8, 1.0])
def test_task_weight_cosine_equals_correlation(p):
    w = sd.draw_task_weights(seed=3, example_dim=100, c=0.3, p=p, m=5)
    assert _cosine(w.w1, w.w2) == pytest.approx(p, abs=1e-9)


def test_weight_construction():
    w = sd.draw_task_weights(seed=11, example_dim=50, c=0.3, p=0.8, m=7)
    mu1 = w.w1 / 0.3
    assert np.linalg.norm(mu1) == pytest.approx(1.0)
    assert np.mean(mu1) == pytest.approx(0.0, abs=1e-12)
    assert np.linalg.norm(w.w2) == pytest.approx(0.3)
    assert w.alpha.shape == w.beta.shape == (7,)


def test_labels_follow_the_formula():
    data = sd.generate(200, example_dim=20, p=0.3, m=4, seed=5, num_shards=3)
    w = sd.draw_task_weights(5, 20, 0.3, 0.3, 4)
    x = data.inputs.astype(np.float64)
    expected1 = x @ w.w1 + sum(np.sin(a * (x @ w.w1) + b) for a, b in zip(w.alpha, w.beta))
    expected2 = x @ w.w2 + sum(np.sin(a * (x @ w.w2) + b) for a, b in zip(w.alpha, w.beta))
    # The only difference is the N(0, 0.01^2) noise (and float32 rounding).
    assert np.std(data.y1 - expected1) == pytest.approx(sd.NOISE_STDDEV, rel=0.2)
    assert np.std(data.y2 - expected2) == pytest.approx(sd.NOISE_STDDEV, rel=0.2)


def test_shapes_dtypes_and_exact_count():
    data = sd.generate(1001, example_dim=100, seed=1, num_shards=4)
    assert data.inputs.shape == (1001, 100) and data.inputs.dtype == np.float32
    assert data.y1.shape == data.y2.shape == (1001,)
    assert data.ids.tolist() == list(range(1001))


def test_same_seed_same_data_and_shards_are_independent_of_order():
    a = sd.generate(500, seed=9, num_shards=5)
    b = sd.generate(500, seed=9, num_shards=5)
    assert np.array_equal(a.inputs, b.inputs) and np.array_equal(a.y1, b.y1)
    weights = sd.draw_task_weights(9, 100, 0.3, 0.8, 5)
    shards = sd.plan_shards(500, 5)
    last_alone = sd.generate_shard(shards[-1], weights, 9, 100)
    assert np.array_equal(last_alone.inputs, a.inputs[shards[-1].start:])
    assert not np.array_equal(sd.generate(500, seed=10).y1, sd.generate(500, seed=9).y1)


def test_plan_shards_covers_every_id_once():
    shards = sd.plan_shards(10, 3)
    ids = [i for s in shards for i in range(s.start, s.stop)]
    assert ids == list(range(10))
    with pytest.raises(ValueError):
        sd.plan_shards(3, 4)


def test_label_scale_depends_on_the_seed():
    # Why the gates are scale-free: the sines can cancel the linear term.
    variances = {seed: float(np.var(sd.generate(3000, p=0.5, seed=seed).y1)) for seed in (7, 8, 42)}
    assert variances[8] < 0.01 < variances[7] < 1.0 < variances[42]


def test_slice_features_leave_inputs_and_labels_as_they_were():
    data = sd.generate(3000, example_dim=20, seed=5, num_shards=2)
    assert set(data.segment) == set(sd.SEGMENTS)
    assert min(collections.Counter(data.segment).values()) > 900  # drawn uniformly
    np.testing.assert_allclose(data.x_norm, np.sqrt(np.mean(data.inputs.astype(np.float64) ** 2, axis=1)),
                               rtol=1e-5)
    # The segment is drawn after the inputs and noise, so each shard's stream starts as before.
    shard = sd.plan_shards(3000, 2)[1]
    rng = np.random.RandomState(sd.shard_seed(5, shard.index))
    np.testing.assert_array_equal(rng.normal(size=(shard.stop - shard.start, 20)).astype(np.float32),
                                  data.inputs[shard.start:shard.stop])
