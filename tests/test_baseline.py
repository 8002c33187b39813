"""LatestBlessedOtherModelStrategy over real TFX artifacts (no store needed)."""

from __future__ import annotations

from tfx.types import standard_artifacts

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
