"""The synthetic multi-task data of the MMoE paper (Ma et al., KDD 2018). Pure numpy.

K >= 2 regression tasks whose relatedness is set by ``correlation`` (p), the
cosine between every two tasks' weight vectors:

    u_0 centred and scaled to unit norm; u_1 .. u_{K-1} orthogonalised against
    the ones before, unit norm
    W = c * L U, with L the Cholesky factor of the K x K matrix with 1 on the
    diagonal and p elsewhere (rows of U: u_0 .. u_{K-1})
    y_k = w_k.x + sum_i sin(alpha_i * w_k.x + beta_i) + N(0, 0.01^2)

With two tasks that is the paper's w1 = c * u_0, w2 = c * (p * u_0 +
sqrt(1 - p^2) * u_1). Every pair of tasks has cosine p, which needs
p >= -1 / (K - 1). Labels are named y1 .. yK.

The task weights (u_k, alpha, beta) are drawn once from the seed: u_0, u_1,
alpha, beta, then u_2 ... so the first two tasks are the same whatever K. Examples
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


def label_names(num_tasks: int) -> tuple[str, ...]:
    return tuple(f"y{k + 1}" for k in range(num_tasks))


def min_correlation(num_tasks: int) -> float:
    """The lowest cosine that K vectors can all have pairwise: -1 / (K - 1)."""
    return -1.0 / (num_tasks - 1)


@dataclass(frozen=True)
class TaskWeights:
    w: np.ndarray  # [num_tasks, example_dim], one weight vector per task
    alpha: np.ndarray
    beta: np.ndarray

    @property
    def num_tasks(self) -> int:
        return len(self.w)

    @property
    def w1(self) -> np.ndarray:
        return self.w[0]

    @property
    def w2(self) -> np.ndarray:
        return self.w[1]


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
    labels: np.ndarray  # float32 [n, num_tasks]: y1 .. yK
    segment: np.ndarray  # str [n], one of SEGMENTS
    x_norm: np.ndarray  # float32 [n]

    def label(self, name: str) -> np.ndarray:
        """A label column by name (y1 .. yK)."""
        return self.labels[:, label_names(self.labels.shape[1]).index(name)]

    @property
    def y1(self) -> np.ndarray:
        return self.labels[:, 0]

    @property
    def y2(self) -> np.ndarray:
        return self.labels[:, 1]


def equicorrelation_cholesky(num_tasks: int, p: float) -> np.ndarray:
    """Lower-triangular L with L L^T = the K x K matrix of 1 on the diagonal and p elsewhere.

    Row 1 is (p, sqrt(1 - p^2)), as in the two-task generator. At p = 1 every
    row is (1, 0, ...): all tasks share one weight vector.
    """
    if num_tasks < 2:
        raise ValueError(f"need at least two tasks, got {num_tasks}")
    if not min_correlation(num_tasks) - 1e-12 <= p <= 1.0:
        raise ValueError(f"with {num_tasks} tasks the correlation must be in "
                         f"[{min_correlation(num_tasks):.4g}, 1], got {p}")
    lower = np.zeros((num_tasks, num_tasks))
    lower[0, 0] = 1.0
    for i in range(1, num_tasks):
        for j in range(i):
            dot = p - sum(lower[i, k] * lower[j, k] for k in range(j))
            lower[i, j] = dot / lower[j, j] if lower[j, j] > 1e-12 else 0.0
        lower[i, i] = np.sqrt(max(0.0, 1.0 - sum(lower[i, k] ** 2 for k in range(i))))
    return lower


def _orthonormal_next(rng: np.random.RandomState, basis: list[np.ndarray], example_dim: int) -> np.ndarray:
    u = rng.normal(size=example_dim)
    for b in basis:
        u -= u.dot(b) * b
    return u / np.linalg.norm(u)


def draw_task_weights(seed: int, example_dim: int = 100, c: float = 0.3,
                      p: float = 0.8, m: int = 5, num_tasks: int = 2) -> TaskWeights:
    """The tasks' weight vectors and the shared sinusoid parameters."""
    lower = equicorrelation_cholesky(num_tasks, p)
    if num_tasks > example_dim:
        raise ValueError(f"{num_tasks} tasks need example_dim >= {num_tasks}, got {example_dim}")
    rng = np.random.RandomState(seed)
    u0 = rng.normal(size=example_dim)
    basis = [(u0 - np.mean(u0)) / (np.std(u0) * np.sqrt(example_dim))]
    basis.append(_orthonormal_next(rng, basis, example_dim))
    alpha = rng.normal(size=m)
    beta = rng.normal(size=m)
    while len(basis) < num_tasks:  # drawn after alpha and beta: y1, y2 do not depend on K
        basis.append(_orthonormal_next(rng, basis, example_dim))

    rows = []
    for i in range(num_tasks):
        row = lower[i, 0] * basis[0] if i else basis[0]
        for j in range(1, i + 1):
            row = row + lower[i, j] * basis[j]
        rows.append(c * row)
    return TaskWeights(w=np.stack(rows), alpha=alpha, beta=beta)


def task_labels(inputs: np.ndarray, weights: TaskWeights, noise: list[np.ndarray]) -> list[np.ndarray]:
    """y_k = w_k.x + sum_i sin(alpha_i w_k.x + beta_i) + noise_k."""
    labels = []
    for w, task_noise in zip(weights.w, noise):
        wx = inputs @ w
        sines = np.zeros_like(wx)
        for alpha, beta in zip(weights.alpha, weights.beta):
            sines += np.sin(alpha * wx + beta)
        labels.append(wx + sines + task_noise)
    return labels


def expected_labels(weights: TaskWeights) -> tuple[float, ...]:
    """E[y_k] for x ~ N(0, I): w.x ~ N(0, |w|^2), so E[sin(a w.x + b)] = sin(b) exp(-a^2 |w|^2 / 2)."""
    def expectation(w):
        return float(np.sum(np.sin(weights.beta) * np.exp(-(weights.alpha ** 2) * w.dot(w) / 2)))
    return tuple(expectation(w) for w in weights.w)


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
    noise = [rng.normal(size=n, scale=NOISE_STDDEV), rng.normal(size=n, scale=NOISE_STDDEV)]
    segment = np.asarray(SEGMENTS)[rng.randint(len(SEGMENTS), size=n)]  # drawn here: data unchanged
    noise += [rng.normal(size=n, scale=NOISE_STDDEV) for _ in range(weights.num_tasks - 2)]
    labels = task_labels(inputs, weights, noise)
    return ShardData(
        ids=np.arange(shard.start, shard.stop, dtype=np.int64),
        inputs=inputs.astype(np.float32),
        labels=np.stack([y.astype(np.float32) for y in labels], axis=1),
        segment=segment,
        x_norm=input_norm(inputs).astype(np.float32),
    )


def input_norm(inputs: np.ndarray) -> np.ndarray:
    """Root mean square of each row: ||x|| / sqrt(dim), about 1 for standard normal inputs."""
    return np.sqrt(np.mean(np.square(inputs), axis=1))


def generate(num_examples: int, example_dim: int = 100, c: float = 0.3, p: float = 0.8,
             m: int = 5, seed: int = 0, num_shards: int = 1, num_tasks: int = 2) -> ShardData:
    """All shards concatenated, in id order (for tests and notebooks)."""
    weights = draw_task_weights(seed, example_dim, c, p, m, num_tasks)
    parts = [generate_shard(s, weights, seed, example_dim) for s in plan_shards(num_examples, num_shards)]
    return ShardData(*(np.concatenate([getattr(part, f) for part in parts])
                       for f in ("ids", "inputs", "labels", "segment", "x_norm")))
