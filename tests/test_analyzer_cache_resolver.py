"""Which analyzer cache Transform gets (pipeline.analyzer_cache), on a real ML Metadata store in memory."""

from __future__ import annotations

from ml_metadata.proto import metadata_store_pb2
from tfx.types import standard_artifacts

from metadata_in_memory import in_memory_store, record_execution
from pipeline.analyzer_cache import AnalyzerCacheOfAnotherWindowStrategy


class Store:
    """Transform executions as TFX records them: examples in, an analyzer cache out."""

    def __init__(self):
        self.store = in_memory_store()
        self.types = {name: self.store.put_artifact_type(metadata_store_pb2.ArtifactType(name=name))
                      for name in ("Examples", "TransformCache")}
        self.transform = self.store.put_execution_type(metadata_store_pb2.ExecutionType(name="Transform"))
        self.caches: list[int] = []

    def span(self) -> int:
        (artifact_id,) = self.store.put_artifacts([metadata_store_pb2.Artifact(type_id=self.types["Examples"])])
        return artifact_id

    def transform_run(self, examples: list[int], cache: int | None = None) -> int:
        """A Transform execution on ``examples``; writes a new cache unless ``cache`` (a cached run's)."""
        if cache is None:
            (cache,) = self.store.put_artifacts([metadata_store_pb2.Artifact(type_id=self.types["TransformCache"])])
            self.caches.append(cache)
        record_execution(self.store, self.transform, {"examples": examples}, {"updated_analyzer_cache": [cache]})
        return cache

    def resolve(self, window: list[int]) -> list[int]:
        examples = [_artifact(standard_artifacts.Examples, i) for i in window]
        caches = [_artifact(standard_artifacts.TransformCache, i) for i in self.caches]
        result = AnalyzerCacheOfAnotherWindowStrategy().resolve_artifacts(
            self.store, {"examples": examples, "analyzer_cache": caches})
        assert [a.id for a in result["examples"]] == window
        return [a.id for a in result["analyzer_cache"]]


def _artifact(kind, artifact_id: int):
    artifact = kind()
    artifact.id = artifact_id
    return artifact


def test_no_cache_before_the_first_transform():
    store = Store()
    assert store.resolve([store.span(), store.span(), store.span()]) == []


def test_the_first_run_again_gets_no_cache_so_its_transform_stays_cached():
    store = Store()
    window = [store.span(), store.span(), store.span()]
    store.transform_run(window)
    assert store.resolve(window) == []


def test_a_new_window_gets_the_cache_of_the_newest_other_window():
    store = Store()
    s1, s2, s3, s4, s5 = (store.span() for _ in range(5))
    first = store.transform_run([s1, s2, s3])
    assert store.resolve([s2, s3, s4]) == [first]
    second = store.transform_run([s2, s3, s4])
    # The same window again (an unchanged rerun): still the first run's cache, the input Transform had.
    assert store.resolve([s2, s3, s4]) == [first]
    store.transform_run([s2, s3, s4], cache=second)  # TFX's cached execution: the same output again
    assert store.resolve([s2, s3, s4]) == [first]
    assert store.resolve([s3, s4, s5]) == [second]


def test_a_span_read_again_is_another_window():
    store = Store()
    s1, s2, s3 = (store.span() for _ in range(3))
    first = store.transform_run([s1, s2, s3])
    s3_again = store.span()  # its files changed: a new artifact of span 3
    assert store.resolve([s1, s2, s3_again]) == [first]
