"""The baseline resolvers' strategies over real TFX artifacts and a real (in-memory) ML Metadata store."""

from __future__ import annotations

from ml_metadata import metadata_store
from ml_metadata.proto import metadata_store_pb2
from tfx.types import standard_artifacts

from pipeline.baseline import BlessedRunStatisticsStrategy, LatestBlessedOtherModelStrategy


def model(model_id: int) -> standard_artifacts.Model:
    artifact = standard_artifacts.Model()
    artifact.id = model_id
    artifact.uri = f"/models/{model_id}"
    return artifact


def blessing(model_id: int, blessed: bool = True) -> standard_artifacts.ModelBlessing:
    artifact = standard_artifacts.ModelBlessing()
    artifact.id = 1000 + model_id
    artifact.set_int_custom_property("blessed", int(blessed))
    artifact.set_int_custom_property("current_model_id", model_id)
    return artifact


def resolve(candidate: int, models: list[int], blessings: list) -> tuple[list[int], list[int]]:
    """(ids of the resolved baseline model, ids of the blessed model's blessing artifact)."""
    by_id = {i: model(i) for i in models}
    result = LatestBlessedOtherModelStrategy().resolve_artifacts(
        None, {"candidate": [by_id.get(candidate, model(candidate))], "model": list(by_id.values()),
               "model_blessing": blessings})
    assert [a.id for a in result["candidate"]] == [candidate]
    return [a.id for a in result["model"]], [a.id for a in result["model_blessing"]]


def test_no_blessed_model_gives_no_baseline():
    assert resolve(3, [1, 2, 3], []) == ([], [])
    assert resolve(3, [1, 2, 3], [blessing(1, blessed=False), blessing(2, blessed=False)]) == ([], [])


def test_only_the_candidate_blessed_gives_no_baseline():
    # An unchanged rerun: the cached candidate is the newest blessed model; it is not its own baseline.
    assert resolve(3, [1, 2, 3], [blessing(3)]) == ([], [])


def test_an_older_blessed_model_is_the_baseline():
    assert resolve(3, [1, 2, 3], [blessing(1)]) == ([1], [1001])
    assert resolve(3, [1, 2, 3], [blessing(1), blessing(2, blessed=False), blessing(3)]) == ([1], [1001])


def test_the_newest_of_several_blessed_models_other_than_the_candidate():
    assert resolve(4, [1, 2, 3, 4], [blessing(1), blessing(3), blessing(2), blessing(4)]) == ([3], [1003])
    # A candidate older than a blessed model (a rerun of an earlier configuration): the newest other one.
    assert resolve(2, [1, 2, 3], [blessing(1), blessing(2), blessing(3)]) == ([3], [1003])


class Lineage:
    """Examples, the StatisticsGen and Evaluator executions that read them, and their outputs, in ML Metadata."""

    def __init__(self):
        config = metadata_store_pb2.ConnectionConfig()
        config.fake_database.SetInParent()
        self.store = metadata_store.MetadataStore(config)
        self.execution_type = self.store.put_execution_type(metadata_store_pb2.ExecutionType(name="node"))
        self.statistics: list[standard_artifacts.ExampleStatistics] = []
        self.blessings: list[standard_artifacts.ModelBlessing] = []

    def _put(self, artifact):
        artifact.type_id = self.store.put_artifact_type(
            metadata_store_pb2.ArtifactType(name=artifact.type_name))
        [artifact.id] = self.store.put_artifacts([artifact.mlmd_artifact])
        return artifact

    def _execution(self, examples, key: str, output) -> None:
        [execution_id] = self.store.put_executions([metadata_store_pb2.Execution(type_id=self.execution_type)])
        self.store.put_events([
            metadata_store_pb2.Event(artifact_id=examples.id, execution_id=execution_id,
                                     type=metadata_store_pb2.Event.INPUT,
                                     path=metadata_store_pb2.Event.Path(steps=[{"key": "examples"}])),
            metadata_store_pb2.Event(artifact_id=output.id, execution_id=execution_id,
                                     type=metadata_store_pb2.Event.OUTPUT,
                                     path=metadata_store_pb2.Event.Path(steps=[{"key": key}]))])

    def examples(self):
        """New examples, StatisticsGen's statistics of them, then Transform's: (examples, statistics)."""
        examples = self._put(standard_artifacts.Examples())
        statistics = self._put(standard_artifacts.ExampleStatistics())
        self._execution(examples, "statistics", statistics)
        # Transform also outputs ExampleStatistics of the same examples, newer than StatisticsGen's.
        transform_statistics = self._put(standard_artifacts.ExampleStatistics())
        self._execution(examples, "pre_transform_stats", transform_statistics)
        self.statistics += [statistics, transform_statistics]
        return examples, statistics

    def evaluate(self, examples, blessed: bool) -> None:
        """An Evaluator execution on ``examples`` whose blessing says ``blessed``."""
        blessing = standard_artifacts.ModelBlessing()
        blessing.set_int_custom_property("blessed", int(blessed))
        self._execution(examples, "blessing", self._put(blessing))
        self.blessings.append(blessing)

    def baseline(self, current) -> list[int]:
        result = BlessedRunStatisticsStrategy().resolve_artifacts(
            self.store, {"current": [current], "statistics": list(self.statistics),
                         "model_blessing": list(self.blessings)})
        assert set(result) == {"current", "statistics", "model_blessing"}  # TFX needs every input key back
        assert [a.id for a in result["current"]] == [current.id]
        assert len(result["model_blessing"]) == len(result["statistics"])
        return [a.id for a in result["statistics"]]


def test_a_first_run_has_no_baseline_statistics():
    lineage = Lineage()
    _, first = lineage.examples()
    assert lineage.baseline(first) == []
    lineage.evaluate(first, blessed=False)  # its model was not blessed: still nothing to compare with
    _, second = lineage.examples()
    assert lineage.baseline(second) == []


def test_the_baseline_is_the_data_of_the_newest_blessed_model():
    lineage = Lineage()
    served, served_statistics = lineage.examples()
    lineage.evaluate(served, blessed=True)
    _, new = lineage.examples()
    assert lineage.baseline(new) == [served_statistics.id]


def test_the_same_data_as_the_served_model_has_nothing_to_compare():
    lineage = Lineage()
    served, served_statistics = lineage.examples()
    lineage.evaluate(served, blessed=True)
    assert lineage.baseline(served_statistics) == []


def test_runs_whose_model_was_not_blessed_do_not_move_the_baseline():
    lineage = Lineage()
    served, served_statistics = lineage.examples()
    lineage.evaluate(served, blessed=True)
    worse, _ = lineage.examples()
    lineage.evaluate(worse, blessed=False)
    _, stopped = lineage.examples()  # e.g. a run stopped for drift: never evaluated
    _, rerun = lineage.examples()
    assert lineage.baseline(stopped) == [served_statistics.id]
    assert lineage.baseline(rerun) == [served_statistics.id]


def test_a_newer_blessed_model_moves_the_baseline_to_its_data():
    lineage = Lineage()
    old, _ = lineage.examples()
    lineage.evaluate(old, blessed=True)
    accepted, accepted_statistics = lineage.examples()
    lineage.evaluate(accepted, blessed=True)
    _, new = lineage.examples()
    assert lineage.baseline(new) == [accepted_statistics.id]
