"""Transform's analyzer cache across daily runs: each span of the window is analyzed once.

Transform writes its analyzers' per-dataset results (``updated_analyzer_cache``,
one entry per input file pattern, i.e. per Examples artifact and split) and
reads them back from its ``analyzer_cache`` input: with a window of spans, a
daily run then analyzes only the span that is new. tf.Transform keys each entry
by the dataset and by the analyzer's part of the preprocessing graph, so an entry
is used only for the same artifact's files analyzed by the same computation;
a changed span is a new artifact (other files) and is analyzed again, and so is
every span after a change of what the preprocessing computes.

The cache handed over is that of the newest Transform run on **another** window:
the newest cache of all would be this very window's on an unchanged rerun, a new
input that would rerun a Transform otherwise served from TFX's cache.
"""

from __future__ import annotations

from typing import Dict, List, Optional

from ml_metadata.proto import metadata_store_pb2
from tfx import types
from tfx.dsl.components.common import resolver
from tfx.dsl.components.common.resolver import Resolver
from tfx.types import standard_artifacts
from tfx.types.channel import Channel

TRANSFORM_ID = "Transform"
RESOLVER_ID = "analyzer_cache_resolver"
_OUTPUT = (metadata_store_pb2.Event.OUTPUT, metadata_store_pb2.Event.DECLARED_OUTPUT)
_INPUT = (metadata_store_pb2.Event.INPUT, metadata_store_pb2.Event.DECLARED_INPUT)


def _examples_of_producers(store, cache_id: int) -> list[frozenset[int]]:
    """For each Transform execution that output the cache artifact ``cache_id``: its examples' ids."""
    producers = [e.execution_id for e in store.get_events_by_artifact_ids([cache_id]) if e.type in _OUTPUT]
    windows: dict[int, set[int]] = {p: set() for p in producers}
    for event in store.get_events_by_execution_ids(producers) if producers else []:
        if event.type in _INPUT and event.path.steps and event.path.steps[0].key == "examples":
            windows[event.execution_id].add(event.artifact_id)
    return [frozenset(w) for w in windows.values()]


class AnalyzerCacheOfAnotherWindowStrategy(resolver.ResolverStrategy):
    """Resolves {examples, analyzer_cache}: the window as given, and the newest analyzer cache
    written by a Transform whose examples were not exactly this window (none yet: empty)."""

    def resolve_artifacts(self, store, input_dict: Dict[str, List[types.Artifact]]
                          ) -> Optional[Dict[str, List[types.Artifact]]]:
        window = frozenset(a.id for a in input_dict.get("examples", []))
        found: list = []
        for cache in sorted(input_dict.get("analyzer_cache", []), key=lambda a: a.id, reverse=True):
            if window not in _examples_of_producers(store, cache.id):
                found = [cache]
                break
        return {"examples": list(input_dict.get("examples", [])), "analyzer_cache": found}


def analyzer_cache_resolver(window_examples: types.BaseChannel) -> Resolver:
    """The Resolver whose output ``analyzer_cache`` is Transform's ``analyzer_cache`` input."""
    return Resolver(
        strategy_class=AnalyzerCacheOfAnotherWindowStrategy,
        examples=window_examples,
        analyzer_cache=Channel(type=standard_artifacts.TransformCache,
                               producer_component_id=TRANSFORM_ID, output_key="updated_analyzer_cache"),
    ).with_id(RESOLVER_ID)
