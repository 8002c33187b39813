"""What a run is compared with: the baseline model (resolver strategy, Evaluator) and the served data's statistics."""

from __future__ import annotations

import json

import pytest

from tensorflow_metadata.proto.v0 import statistics_pb2
from tfx.types import standard_artifacts

from components.atomic_pusher.executor import store_statistics
from components.served_statistics import STATISTICS_URI, MissingBaselineError, load_split, served_statistics
from components.evaluator import without_self_baseline
from pipeline.baseline import LatestBlessedOtherModelStrategy


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


def test_the_evaluator_drops_a_baseline_that_is_the_candidate():
    """On Kubeflow the newest blessed model can be the candidate itself (an unchanged, cached retrain)."""
    candidate, older = model(7), model(5)
    kept = {"model": [candidate], "baseline_model": [older], "examples": []}
    assert without_self_baseline(kept) == kept
    itself = model(7)  # the resolver's artifact for the same model
    assert without_self_baseline({**kept, "baseline_model": [itself]})["baseline_model"] == []
    same_folder = standard_artifacts.Model()
    same_folder.uri = candidate.uri  # Kubeflow's resolved artifact: the same URI, no MLMD id here
    assert without_self_baseline({**kept, "baseline_model": [same_folder]})["baseline_model"] == []


def _statistics_artifact(tmp_path, rows: int) -> str:
    """A StatisticsGen-like output folder: Split-train and Split-eval, one FeatureStats.pb each."""
    uri = tmp_path / f"statistics-{rows}"
    for split in ("train", "eval"):
        stats = statistics_pb2.DatasetFeatureStatisticsList(
            datasets=[statistics_pb2.DatasetFeatureStatistics(name=split, num_examples=rows)])
        (uri / f"Split-{split}").mkdir(parents=True)
        (uri / f"Split-{split}" / "FeatureStats.pb").write_bytes(stats.SerializeToString())
    return str(uri)


def _push(serving, version: str, statistics_uri=None) -> None:
    (serving / version).mkdir(parents=True)
    (serving / version / "saved_model.pb").write_bytes(b"")
    if statistics_uri:
        store_statistics({"custom_config": json.dumps({STATISTICS_URI: statistics_uri})}, str(serving / version))


def test_the_drift_baseline_is_the_served_version_and_one_without_statistics_is_refused(tmp_path):
    serving = tmp_path / "serving"
    assert served_statistics(None, str(serving)) is None  # nothing pushed yet: a first push passes
    _push(serving, "100", _statistics_artifact(tmp_path, 10))
    _push(serving, "200", _statistics_artifact(tmp_path, 20))
    (serving / "notes").mkdir()
    found = served_statistics(None, str(serving))  # no push recorded: the newest version
    assert found == str(serving / "200" / "assets.extra" / "statistics")
    assert load_split(found, "train").datasets[0].num_examples == 20
    assert load_split(found, "eval").datasets[0].name == "eval"
    assert load_split(found, "test") is None
    pushed = standard_artifacts.PushedModel()
    pushed.set_int_custom_property("pushed", 1)
    pushed.set_string_custom_property("pushed_destination", str(serving / "100"))
    assert served_statistics(pushed, str(serving)) == str(serving / "100" / "assets.extra" / "statistics")
    not_pushed = standard_artifacts.PushedModel()
    not_pushed.set_int_custom_property("pushed", 0)  # that run pushed nothing: the folder is as it was
    assert served_statistics(not_pushed, str(serving)) == found
    _push(serving, "300")  # a served version without statistics: refused, not passed
    with pytest.raises(MissingBaselineError, match=r"served model .*/300 has no statistics.*drift.enabled: false"):
        served_statistics(None, str(serving))


def test_a_push_without_statistics_configured_stores_none(tmp_path):
    _push(tmp_path / "serving", "1")
    store_statistics({"custom_config": "null"}, str(tmp_path / "serving" / "1"))
    assert not (tmp_path / "serving" / "1" / "assets.extra").exists()
