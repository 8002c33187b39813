"""The anomalies gate's reading of real TFDV anomalies."""

from __future__ import annotations

import pandas as pd
import pytest
import tensorflow_data_validation as tfdv

from components.anomalies_gate import ANOMALIES_FILE, anomalies_by_split, describe_anomalies

GOOD = pd.DataFrame({"age": [20.0, 30.0, 40.0, 50.0] * 5, "city": ["paris", "lyon"] * 10,
                     "spend": [1.0, 2.0] * 10})


@pytest.fixture(scope="module")
def schema():
    return tfdv.infer_schema(tfdv.generate_statistics_from_dataframe(GOOD))


def anomalies_of(frame, schema):
    return tfdv.validate_statistics(tfdv.generate_statistics_from_dataframe(frame), schema)


def test_clean_data_has_no_lines(schema):
    assert describe_anomalies(anomalies_of(GOOD, schema)) == []


def test_each_problem_names_its_column(schema):
    bad = pd.DataFrame({"age": ["twenty", "30"] * 10, "city": ["paris", "berlin"] * 10})
    lines = describe_anomalies(anomalies_of(bad, schema))
    by_column = {line.split(":", 1)[0]: line for line in lines}
    assert set(by_column) == {"age", "city", "spend"}
    assert by_column["age"] == "age: Expected data of type: FLOAT but got STRING"
    assert by_column["city"].startswith("city: Examples contain values missing from the schema: berlin")
    assert by_column["spend"] == "spend: Column is completely missing"


def test_reads_the_validator_output_split_by_split(schema, tmp_path):
    bad = pd.DataFrame({"age": [20.0] * 4, "city": ["rome"] * 4, "spend": [1.0] * 4})
    for split, frame in (("train", GOOD), ("eval", bad)):
        (tmp_path / f"Split-{split}").mkdir()
        (tmp_path / f"Split-{split}" / ANOMALIES_FILE).write_bytes(
            anomalies_of(frame, schema).SerializeToString())
    found = anomalies_by_split(str(tmp_path), ["train", "eval"])
    assert list(found) == ["eval"] and found["eval"][0].startswith("city: ")
