"""The synthetic two-task data of the MMoE paper (Ma et al., KDD 2018). Pure numpy.

Two regression tasks whose relatedness is set by ``correlation`` (p), the
cosine between their weight vectors:

    mu1 centred and scaled to unit norm; mu2 orthogonalised against mu1, unit norm
    w1 = c * mu1,   w2 = c * (p * mu1 + sqrt(1 - p^2) * mu2)
    y_k = w_k.x + sum_i sin(alpha_i * w_k.x + beta_i) + N(0, 0.01^2)

The task weights (mu1, mu2, alpha, beta) are drawn once from the seed. Examples
are produced in shards: each shard draws its inputs and noise from a seed
derived from (seed, shard index), so shards can be generated in parallel, in
any order, on any number of workers, with identical results.

Each example also carries two slice features that the model does not read;
they exist so evaluation can be broken down by slice:

- ``segment``: one of SEGMENTS, drawn uniformly per example (after the inputs
  and noise, so the inputs and labels do not depend on it). It stands for a
  grouping such as a region or customer tier; being random, differences
  between segments show how large sampling noise is.
- ``x_norm``: the root mean square of the example's inputs, ||x|| / sqrt(dim).
  Examples far from the centre of the input distribution have larger |w.x|,
  where the sinusoids are sampled more thinly, so its buckets can differ in
  difficulty.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

NOISE_STDDEV = 0.01
SEGMENTS = ("a", "b", "c")


@dataclass(frozen=True)
class TaskWeights:
    w1: np.ndarray
    w2: np.ndarray
    alpha: np.ndarray
    beta: np.ndarray


@dataclass(frozen=True)
class Shard:
    """A contiguous block of examples: ids ``[start, stop)``."""

    index: int
    start: int
    stop: int


@dataclass(frozen=True)
class ShardData:
    ids: np.ndarray  # int64 [n]
    inputs: np.ndarray  # float32 [n, example_dim]
    y1: np.ndarray  # float32 [n]
    y2: np.ndarray  # float32 [n]
    segment: np.ndarray  # str [n], one of SEGMENTS
    x_norm: np.ndarray  # float32 [n]


def draw_task_weights(seed: int, example_dim: int = 100, c: float = 0.3,
                      p: float = 0.8, m: int = 5) -> TaskWeights:
    """The two tasks' weight vectors and the shared sinusoid parameters."""
    rng = np.random.RandomState(seed)
    mu1 = rng.normal(size=example_dim)
    mu1 = (mu1 - np.mean(mu1)) / (np.std(mu1) * np.sqrt(example_dim))

    mu2 = rng.normal(size=example_dim)
    mu2 -= mu2.dot(mu1) * mu1
    mu2 /= np.linalg.norm(mu2)

    w1 = c * mu1
    w2 = c * (p * mu1 + np.sqrt(1.0 - p ** 2) * mu2)

    alpha = rng.normal(size=m)
    beta = rng.normal(size=m)
    return TaskWeights(w1=w1, w2=w2, alpha=alpha, beta=beta)


def task_labels(inputs: np.ndarray, weights: TaskWeights,
                noise: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """y_k = w_k.x + sum_i sin(alpha_i w_k.x + beta_i) + noise_k."""
    w1x = inputs @ weights.w1
    w2x = inputs @ weights.w2
    sin1 = np.zeros_like(w1x)
    sin2 = np.zeros_like(w2x)
    for alpha, beta in zip(weights.alpha, weights.beta):
        sin1 += np.sin(alpha * w1x + beta)
        sin2 += np.sin(alpha * w2x + beta)
    return w1x + sin1 + noise[0], w2x + sin2 + noise[1]


def expected_labels(weights: TaskWeights) -> tuple[float, float]:
    """E[y_k] for x ~ N(0, I): w.x ~ N(0, |w|^2), so E[sin(a w.x + b)] = sin(b) exp(-a^2 |w|^2 / 2)."""
    def expectation(w):
        return float(np.sum(np.sin(weights.beta) * np.exp(-(weights.alpha ** 2) * w.dot(w) / 2)))
    return expectation(weights.w1), expectation(weights.w2)


def binarize(labels: np.ndarray, expected: float) -> np.ndarray:
    """A binary label from a continuous one: 1 where it is above its expected value."""
    return (labels > expected).astype(np.float32)


def plan_shards(num_examples: int, num_shards: int) -> list[Shard]:
    """Splits ``num_examples`` ids into ``num_shards`` near-equal blocks."""
    if not 1 <= num_shards <= num_examples:
        raise ValueError(f"need 1 <= num_shards <= num_examples, got {num_shards} and {num_examples}")
    bounds = np.linspace(0, num_examples, num_shards + 1).round().astype(int)
    return [Shard(i, int(bounds[i]), int(bounds[i + 1])) for i in range(num_shards)]


def shard_seed(seed: int, shard_index: int) -> int:
    """An independent stream per shard, derived only from (seed, shard)."""
    return int(np.random.SeedSequence([seed, shard_index]).generate_state(1)[0])


def generate_shard(shard: Shard, weights: TaskWeights, seed: int, example_dim: int) -> ShardData:
    """The shard's inputs, noise and labels; same arguments, same arrays."""
    rng = np.random.RandomState(shard_seed(seed, shard.index))
    n = shard.stop - shard.start
    inputs = rng.normal(size=(n, example_dim))
    noise = (rng.normal(size=n, scale=NOISE_STDDEV), rng.normal(size=n, scale=NOISE_STDDEV))
    y1, y2 = task_labels(inputs, weights, noise)
    segment = np.asarray(SEGMENTS)[rng.randint(len(SEGMENTS), size=n)]  # drawn last: data unchanged
    return ShardData(
        ids=np.arange(shard.start, shard.stop, dtype=np.int64),
        inputs=inputs.astype(np.float32),
        y1=y1.astype(np.float32),
        y2=y2.astype(np.float32),
        segment=segment,
        x_norm=input_norm(inputs).astype(np.float32),
    )


def input_norm(inputs: np.ndarray) -> np.ndarray:
    """Root mean square of each row: ||x|| / sqrt(dim), about 1 for standard normal inputs."""
    return np.sqrt(np.mean(np.square(inputs), axis=1))


def generate(num_examples: int, example_dim: int = 100, c: float = 0.3, p: float = 0.8,
             m: int = 5, seed: int = 0, num_shards: int = 1) -> ShardData:
    """All shards concatenated, in id order (for tests and notebooks)."""
    weights = draw_task_weights(seed, example_dim, c, p, m)
    parts = [generate_shard(s, weights, seed, example_dim) for s in plan_shards(num_examples, num_shards)]
    return ShardData(*(np.concatenate([getattr(part, f) for part in parts])
                       for f in ("ids", "inputs", "y1", "y2", "segment", "x_norm")))
