"""The quality benchmark's pure parts: its generated tables, seeds and spread, and --set (no pipeline run)."""

import sys

import numpy as np
import pytest

from conftest import REPO

sys.path.insert(0, str(REPO / "bench"))
import quality  # noqa: E402
import quality_datasets as qd  # noqa: E402


def test_the_generated_tables_cover_the_kinds_the_benchmark_needs():
    income, gems, buildings, rentals = qd.income(), qd.gems(), qd.buildings(), qd.rentals()
    # A binary task on tens of thousands of rows with categorical columns.
    assert len(income.table) >= 20_000 and len(income.categorical) >= 3
    assert {t.type for t in income.tasks} == {"binary"}
    assert 0.1 < income.table["high_income"].mean() < 0.5
    # A multiclass task with 5 or more classes on 20,000 or more rows.
    assert len(gems.table) >= 20_000
    assert gems.table["cut"].nunique() == 5 and gems.table["cut"].value_counts(normalize=True).min() > 0.05
    # Regression on a few hundred rows: the full factorial of designs, no row twice.
    assert len(buildings.table) == 768
    assert not buildings.table[buildings.features].duplicated().any()
    # Counts: whole numbers, non-negative, over a year of hours.
    assert len(rentals.table) == 365 * 24
    for task in rentals.tasks:
        counts = rentals.table[task.name].to_numpy()
        assert (counts >= 0).all() and (counts == np.round(counts)).all()


def test_a_generated_table_is_the_same_every_time():
    assert qd.income().table.equals(qd.income().table)
    assert qd.gems().train.equals(qd.gems().train)


def test_a_task_over_seeds_is_its_mean_against_the_better_mean():
    result = quality.compare("t", "y", "regression", [7, 8], [0.90, 0.94],
                             [{"hist_gradient_boosting": 0.93, "linear": 0.80},
                              {"hist_gradient_boosting": 0.95, "linear": 0.80}])
    assert result.pipeline == pytest.approx(0.92) and result.hist_gradient_boosting == pytest.approx(0.94)
    assert result.gap == pytest.approx(-0.02) and result.target_met  # within 0.02 R²
    assert result.pipeline_seeds == [0.90, 0.94] and result.seeds == [7, 8]
    line = quality.table_lines([result])[-1]
    assert "| 2 | 0.9200 (0.9000–0.9400) | 0.9400 (0.9300–0.9500) | 0.8000 | -0.0200 | met |" in line


def test_a_missing_value_on_any_seed_misses_the_target():
    result = quality.compare("t", "c", "multiclass", [7, 8], [0.8, None],
                             [{"hist_gradient_boosting": 0.7, "linear": 0.3}] * 2)
    assert result.pipeline is None and not result.target_met


def test_set_values_nest_into_the_plain_configuration():
    extra = quality.merged(quality.parse_override("model.numeric_embedding=periodic"),
                           quality.parse_override("training.learning_rate=0.003"))
    assert extra == {"model": {"numeric_embedding": "periodic"}, "training": {"learning_rate": 0.003}}
    quality.OVERRIDES = extra
    try:
        config = quality.plain_config(qd.buildings(), seed=8)
    finally:
        quality.OVERRIDES = {}
    assert config["training"] == {"seed": 8, "learning_rate": 0.003}
    assert config["model"] == {"numeric_embedding": "periodic"}
    with pytest.raises(ValueError, match="KEY=VALUE"):
        quality.parse_override("model.numeric_embedding")


def test_every_model_is_scored_on_rows_the_pipelines_training_never_read():
    dataset = qd.buildings()
    splits = quality.pipeline_splits(dataset)
    assert splits["test"].equals(dataset.eval)  # what scikit-learn is scored on too
    assert len(splits["train"]) + len(splits["eval"]) == len(dataset.train)
    rows = {name: set(map(tuple, frame[dataset.features].to_numpy())) for name, frame in splits.items()}
    assert not rows["test"] & (rows["train"] | rows["eval"]) and not rows["train"] & rows["eval"]
    assert quality.plain_config(dataset, seed=7)["data"]["split"]["test"] == "test.csv"


def test_reusing_runs_scores_one_seed_only(capsys):
    assert quality.main(["--reuse-runs", "--seeds", "7,8", "--datasets", "buildings"]) == 2
    assert "error: --reuse-runs:" in capsys.readouterr().err


def test_the_real_tables_are_multi_task_with_a_classification_task_and_no_label_in_the_inputs():
    leaked = {"k401ksubs": {"p401k"}, "alcohol": {"employ", "inwf"},
              "labsup": {"kids", "weeks", "hours", "labinc", "faminc"}, "catholic": {"hsgrad"},
              "twoyear": {"AA", "jc", "univ", "totcoll"}}
    assert list(qd.GROUPS["real"]) == ["k401ksubs", "alcohol", "catholic", "labsup", "twoyear"]
    for name in qd.GROUPS["real"]:
        data = qd.DATASETS[name]()
        labels = {t.name for t in data.tasks}
        assert len(data.table) > 5_000 and len(labels) >= 2, name
        assert {t.type for t in data.tasks} & {"binary", "multiclass"}, name
        assert not (labels | leaked.get(name, set())) & set(data.features), name
        assert not data.table[data.features + sorted(labels)].isna().any().any(), name
    alcohol = qd.DATASETS["alcohol"]()
    # The survey's dummies folded back into one question each: every row has one level.
    assert alcohol.table["health"].value_counts().to_dict()["poor"] == 231
    assert sorted(alcohol.table["status"].unique()) == ["employed", "out_of_labor_force", "unemployed"]


def test_datasets_real_names_the_real_tables(tmp_path, capsys):
    assert quality.main(["--datasets", "real,nothing", "--output-dir", str(tmp_path)]) == 2
    assert "unknown nothing" in capsys.readouterr().err
