"""What a run's model is compared with: the baseline model.

``create_pipeline`` takes one of the ``BaselineResolver`` functions below; the
runner picks the one its orchestrator supports. The drift check's baseline is
the served model, the newest Pusher output (``ServedModelResolver``), whose
data statistics are stored beside it (``components.served_statistics``).

TFX's LatestBlessedModelStrategy picks the newest blessed model, which on a
rerun with a cached Trainer is the candidate itself: the Evaluator would then
rerun against itself and the Pusher push the same model again. This strategy
takes the candidate as an input and picks the newest blessed model other than
it, so an unchanged rerun is served entirely from the cache.
"""

from __future__ import annotations

from typing import Callable, Dict, List, Optional

from tfx import types
from tfx.dsl.components.common import resolver
from tfx.dsl.components.common.resolver import Resolver
from tfx.dsl.input_resolution.strategies.latest_artifact_strategy import LatestArtifactStrategy
from tfx.dsl.input_resolution.strategies.latest_blessed_model_strategy import LatestBlessedModelStrategy
from tfx.types import standard_artifacts
from tfx.types.channel import Channel

BLESSED = "blessed"
CURRENT_MODEL_ID = "current_model_id"  # set on ModelBlessing by the Evaluator


class LatestBlessedOtherModelStrategy(resolver.ResolverStrategy):
    """Resolves {model, model_blessing}: the newest blessed model that is not ``candidate``."""

    def resolve_artifacts(self, store, input_dict: Dict[str, List[types.Artifact]]
                          ) -> Optional[Dict[str, List[types.Artifact]]]:
        candidate_ids = {a.id for a in input_dict.get("candidate", [])}
        blessings = {b.get_int_custom_property(CURRENT_MODEL_ID): b
                     for b in input_dict.get("model_blessing", [])
                     if b.get_int_custom_property(BLESSED) == 1}
        result = {"candidate": list(input_dict.get("candidate", [])), "model": [], "model_blessing": []}
        for model in sorted(input_dict.get("model", []), key=lambda a: a.id, reverse=True):
            if model.id not in candidate_ids and model.id in blessings:
                result["model"], result["model_blessing"] = [model], [blessings[model.id]]
                break
        return result


# The candidate model's channel -> a Resolver whose outputs are ``model`` and ``model_blessing``.
BaselineResolver = Callable[[types.BaseChannel], Resolver]


def _blessed_model_channels() -> dict:
    return {"model": Channel(type=standard_artifacts.Model),
            "model_blessing": Channel(type=standard_artifacts.ModelBlessing)}


def local_baseline_resolver(candidate: types.BaseChannel) -> Resolver:
    """The newest blessed model other than ``candidate`` (LatestBlessedOtherModelStrategy)."""
    return Resolver(strategy_class=LatestBlessedOtherModelStrategy, candidate=candidate,
                    **_blessed_model_channels())


def kubeflow_baseline_resolver(candidate: types.BaseChannel) -> Resolver:
    """The newest blessed model, with TFX's own strategy.

    KubeflowV2DagRunner compiles only TFX's own strategies into resolver
    queries. The newest blessed model can be the candidate itself, after an
    unchanged (cached) retrain: the Evaluator (``components.evaluator``) then
    evaluates it without a baseline, never against itself.
    """
    del candidate  # TFX's strategy cannot exclude it
    return Resolver(strategy_class=LatestBlessedModelStrategy, **_blessed_model_channels())


PUSHER_ID = "Pusher"


class LatestOutputStrategy(resolver.ResolverStrategy):
    """The newest artifact of each channel, or none yet: TFX's LatestArtifactStrategy fails the
    run when a channel is empty, as the Pusher's is before the first push."""

    def resolve_artifacts(self, store, input_dict: Dict[str, List[types.Artifact]]
                          ) -> Optional[Dict[str, List[types.Artifact]]]:
        return {key: sorted(artifacts, key=lambda a: a.id)[-1:] for key, artifacts in input_dict.items()}


# A Resolver whose output ``served_model`` is the newest Pusher output (none before the first push).
ServedModelResolver = Callable[[], Resolver]


def _pushed_model_channel() -> dict:
    return {"served_model": Channel(type=standard_artifacts.PushedModel, producer_component_id=PUSHER_ID)}


def local_served_model_resolver() -> Resolver:
    """The newest PushedModel of this pipeline's Pusher (LatestOutputStrategy)."""
    return Resolver(strategy_class=LatestOutputStrategy, **_pushed_model_channel())


def kubeflow_served_model_resolver() -> Resolver:
    """The newest PushedModel, with TFX's own strategy.

    KubeflowV2DagRunner compiles it into one metadata query by type (the
    producer is not part of the query: the newest PushedModel of the metadata
    store), which finds nothing, not an error, before the first push.
    """
    return Resolver(strategy_class=LatestArtifactStrategy, **_pushed_model_channel())
