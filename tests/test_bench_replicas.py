"""The stacked replicas of bench/replicas.py: each trains as the builder's model trained alone would."""

import sys

import numpy as np
import pytest

from conftest import REPO

sys.path.insert(0, str(REPO))
from bench import mmoe_synthetic as bench  # noqa: E402
from bench.replicas import StackedReplicas, batch_order  # noqa: E402


def _args(**overrides):
    args = bench.parse_args(["--steps", "20", "--eval-every", "10", "--num-examples", "300",
                             "--eval-examples", "100", "--c", "1.0", "--m", "10"])
    for key, value in overrides.items():
        setattr(args, key, value)
    return args


def test_batch_order_walks_shuffled_epochs():
    order = batch_order(3, 10, 4)
    batches = np.concatenate([next(order) for _ in range(5)])  # 20 indices: two whole epochs
    assert sorted(batches[:10]) == list(range(10)) and sorted(batches[10:]) == list(range(10))
    assert list(batches[:10]) != list(range(10))
    again = batch_order(3, 10, 4)
    assert np.array_equal(np.concatenate([next(again) for _ in range(5)]), batches)


@pytest.mark.slow  # trains each model twice
@pytest.mark.parametrize("architecture", ["shared_bottom", "mmoe"])  # OMoE is MMoE's code with one gate
def test_a_replica_trains_to_the_loss_of_its_model_trained_alone(architecture):
    args = _args()
    alone = bench.train_one(architecture, 0.5, 3, 0.01, args)
    # The same run as one replica among others: another seed, another rate, other data.
    runs = bench.train_batched(architecture, [(1.0, 4, 0.001), (0.5, 3, 0.01), (0.5, 4, 0.01)], args)
    replica = runs[1]
    assert (replica.repeat, replica.correlation, replica.learning_rate) == (3, 0.5, 0.01)
    assert replica.parameters == alone.parameters
    for task in ("y1", "y2"):
        np.testing.assert_allclose(replica.eval_loss[task], alone.eval_loss[task], rtol=1e-4)
    # The others trained too, and differently: their losses are not the replica's.
    assert runs[0].final != replica.final and runs[2].final != replica.final


def test_replicas_refuse_dropout_and_mismatched_models():
    args = _args()
    model, config = bench.build("mmoe", 0.01, 0, args.batch_size)
    other, _ = bench.build("shared_bottom", 0.01, 0, args.batch_size)
    from models.tasks import task_type
    losses = {t.name: (task_type(t.type).keras_loss, t.loss_weight) for t in config.tasks}
    with pytest.raises(ValueError, match="one layer structure"):
        StackedReplicas([model, other], [0.01, 0.01], losses)
    with pytest.raises(ValueError, match="one learning rate per model"):
        StackedReplicas([model], [0.01, 0.1], losses)
    from models.builder import build_model
    dropout = config.model_copy(update={"model": config.model.model_copy(update={"expert_dropout": 0.1})})
    with pytest.raises(ValueError, match="expert_0_dropout_0: dropout 0.1"):
        StackedReplicas([build_model(dropout, {"x_xf": 100})], [0.01], losses)
