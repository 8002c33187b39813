"""What a run is compared with: the baseline model and the baseline statistics.

``create_pipeline`` takes one of the ``BaselineResolver`` functions below; the
runner picks the one its orchestrator supports. The local runner also passes
``local_statistics_resolver``, whose statistics the drift check compares the
run's data with.

TFX's LatestBlessedModelStrategy picks the newest blessed model, which on a
rerun with a cached Trainer is the candidate itself: the Evaluator would then
rerun against itself and the Pusher push the same model again. This strategy
takes the candidate as an input and picks the newest blessed model other than
it, so an unchanged rerun is served entirely from the cache.
"""

from __future__ import annotations

from typing import Callable, Dict, List, Optional

from tfx import types
from tfx import v1 as tfx
from tfx.dsl.components.common import resolver

from pipeline.results.mlmd import producer_inputs

BLESSED = "blessed"
CURRENT_MODEL_ID = "current_model_id"  # set on ModelBlessing by the Evaluator
STATISTICS = "statistics"  # StatisticsGen's output key (Transform's statistics have other keys)


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


class BlessedRunStatisticsStrategy(resolver.ResolverStrategy):
    """Resolves {statistics}: the statistics of the data the newest blessed model was evaluated on.

    That is the data of the run whose model is being served. Nothing when no
    model was blessed yet (a first run), or when those statistics are
    ``current`` (the same data again: nothing to compare). A run stopped for
    drift does not move the baseline, so rerunning it stops it again.
    Lineage in ML Metadata: the blessing's Evaluator read an Examples
    artifact; the statistics are StatisticsGen's output on that artifact (not
    Transform's ``pre_transform_stats``, also ExampleStatistics of it).
    """

    def resolve_artifacts(self, store, input_dict: Dict[str, List[types.Artifact]]
                          ) -> Optional[Dict[str, List[types.Artifact]]]:
        current = list(input_dict.get("current", []))
        # Every input key is an output key: the statistics, and the blessing they were found by.
        result = {"current": current, "statistics": [], "model_blessing": []}
        blessed = [b for b in input_dict.get("model_blessing", []) if b.get_int_custom_property(BLESSED) == 1]
        if not blessed:
            return result
        newest = max(blessed, key=lambda a: a.id)
        evaluated = producer_inputs(store, [newest.id], "examples")[newest.id]
        statistics = list(input_dict.get("statistics", []))
        described = producer_inputs(store, [s.id for s in statistics], "examples", output_key=STATISTICS)
        matching = [s for s in statistics if described[s.id] & evaluated]
        if matching:
            baseline = max(matching, key=lambda a: a.id)
            if baseline.id not in {a.id for a in current}:
                result["statistics"], result["model_blessing"] = [baseline], [newest]
        return result


def local_statistics_resolver(current: types.BaseChannel) -> tfx.dsl.Resolver:
    """The statistics of the data the newest blessed model was evaluated on (BlessedRunStatisticsStrategy)."""
    return tfx.dsl.Resolver(
        strategy_class=BlessedRunStatisticsStrategy, current=current,
        statistics=tfx.dsl.Channel(type=tfx.types.standard_artifacts.ExampleStatistics),
        model_blessing=tfx.dsl.Channel(type=tfx.types.standard_artifacts.ModelBlessing))


# This run's statistics channel -> a Resolver whose output ``statistics`` is the baseline (or nothing).
StatisticsResolver = Callable[[types.BaseChannel], tfx.dsl.Resolver]


# The candidate model's channel -> a Resolver whose outputs are ``model`` and ``model_blessing``.
BaselineResolver = Callable[[types.BaseChannel], tfx.dsl.Resolver]


def _blessed_model_channels() -> dict:
    return {"model": tfx.dsl.Channel(type=tfx.types.standard_artifacts.Model),
            "model_blessing": tfx.dsl.Channel(type=tfx.types.standard_artifacts.ModelBlessing)}


def local_baseline_resolver(candidate: types.BaseChannel) -> tfx.dsl.Resolver:
    """The newest blessed model other than ``candidate`` (LatestBlessedOtherModelStrategy)."""
    return tfx.dsl.Resolver(strategy_class=LatestBlessedOtherModelStrategy, candidate=candidate,
                            **_blessed_model_channels())


def kubeflow_baseline_resolver(candidate: types.BaseChannel) -> tfx.dsl.Resolver:
    """The newest blessed model, with TFX's own strategy.

    KubeflowV2DagRunner compiles only TFX's own strategies into resolver
    queries. The baseline is then simply the newest blessed model, which after
    an unchanged (cached) retrain can be the candidate itself.
    """
    del candidate  # TFX's strategy cannot exclude it
    return tfx.dsl.Resolver(strategy_class=tfx.dsl.experimental.LatestBlessedModelStrategy,
                            **_blessed_model_channels())
