"""mtl-predict's reading and writing of rows (pure Python and protobuf; no model)."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest
from apache_beam.io.range_trackers import OffsetRangeTracker
from tensorflow.core.example import example_pb2

from models.tasks import task_type
from pipeline.errors import RunStateError
from pipeline.predict import inputs, outputs, sources
from pipeline.results.run_config import recorded_config

COLUMNS = [inputs.InputColumn("age", True), inputs.InputColumn("plan", False)]


def _parsed(serialized: bytes) -> dict:
    feature = example_pb2.Example.FromString(serialized).features.feature
    return {name: (f.WhichOneof("kind"), list(getattr(f, f.WhichOneof("kind")).value)) for name, f in feature.items()}


def _blocks(path, keep=(), block_rows=1000, ranges=None) -> list:
    """The blocks the CSV source reads from ``path``, over the byte ranges given (the whole file by default)."""
    source = sources.block_source(str(path), [str(path)], COLUMNS, ["?"], list(keep), block_rows)
    size = path.stat().st_size
    blocks = []
    for start, stop in ranges or [(0, size)]:
        blocks.extend(source.read_records(str(path), OffsetRangeTracker(start, stop)))
    return blocks


def test_csv_rows_become_examples_as_the_pipeline_reads_them(tmp_path):
    path = tmp_path / "rows.csv"
    path.write_text("\ufeffid, age ,plan\n1, 25 ,basic\n2,?,\n\n3,40,pro\n", encoding="utf-8")
    (block,) = _blocks(path, ["id"])
    assert [inputs.line_at(str(path), row) for row in block.rows] == [2, 3, 5]
    assert block.kept == {"id": ["1", "2", "3"]}
    # A whole number in a numeric column is a float; "?" and an empty cell are absent.
    assert [_parsed(e) for e in block.examples] == [
        {"age": ("float_list", [25.0]), "plan": ("bytes_list", [b"basic"])}, {},
        {"age": ("float_list", [40.0]), "plan": ("bytes_list", [b"pro"])}]


def test_blocks_keep_the_order_and_size(tmp_path):
    path = tmp_path / "rows.csv"
    path.write_text("age,plan\n" + "".join(f"{i},p\n" for i in range(7)))
    blocks = _blocks(path, block_rows=3)
    assert [len(b.examples) for b in blocks] == [3, 3, 1]
    assert [b.key for b in blocks] == sorted(b.key for b in blocks)
    assert [inputs.line_at(str(path), b.rows[0]) for b in blocks] == [2, 5, 8]


@pytest.mark.parametrize("cut", range(1, 60))
def test_split_ranges_read_every_row_once_in_order(tmp_path, cut):
    """Two workers reading [0, cut) and [cut, end) get every row once, whatever byte the cut falls on."""
    path = tmp_path / "rows.csv"
    path.write_text("age,plan\n" + "".join(f"{i},p{i}\n" for i in range(12)))
    whole = _blocks(path, block_rows=4)
    split = _blocks(path, block_rows=4, ranges=[(0, cut), (cut, path.stat().st_size)])
    rows = lambda blocks: [(row, e) for b in sorted(blocks, key=lambda b: b.key)  # noqa: E731
                           for row, e in zip(b.rows, map(_parsed, b.examples))]
    assert rows(split) == rows(whole) and len(rows(whole)) == 12


@pytest.mark.parametrize("cell, reason", [("abc", "'abc' is not a number"), ("nan", "'nan' is a NaN or an infinity"),
                                          ("-inf", "'-inf' is a NaN or an infinity")])
def test_a_cell_the_model_cannot_take_names_file_line_and_column(tmp_path, cell, reason):
    path = tmp_path / "rows.csv"
    path.write_text(f"age,plan\n1,a\n{cell},b\n")
    with pytest.raises(inputs.BadRow) as caught:
        _blocks(path, ranges=[(5, path.stat().st_size)])  # a range that starts inside the header
    assert str(caught.value).startswith(f"{path} line 3 column 'age': {reason}")


def test_header_checks_name_the_missing_columns(tmp_path):
    path = tmp_path / "rows.csv"
    path.write_text("age,x\n1,2\n")
    with pytest.raises(inputs.UsageError, match="no column 'plan'"):
        inputs.check_csv_columns(str(path), COLUMNS, [])
    with pytest.raises(inputs.UsageError, match="--keep id: not a column"):
        inputs.check_csv_columns(str(path), COLUMNS[:1], ["id"])


def test_output_columns_come_from_the_task_types():
    tasks = [outputs.OutputTask("spend", task_type("regression")), outputs.OutputTask("churned", task_type("binary")),
             outputs.OutputTask("species", task_type("multiclass"), ("Adelie", "Gentoo"))]
    assert outputs.header(tasks, ["id"]) == ["id", "spend", "churned", "species", "species_Adelie", "species_Gentoo"]
    served = {"spend": np.array([[1.5], [2.25]], np.float32), "churned": np.array([[0.1], [0.9]], np.float32),
              "species": np.array([[0.7, 0.3], [0.2, 0.8]], np.float32)}
    values = outputs.columns(served, tasks, {"id": ["a", "b"]}, ["id"])
    rows = list(csv.reader(io.StringIO(outputs.csv_text(values))))
    assert rows[1][:4] == ["b", "2.25", "0.899999976", "Gentoo"]
    assert np.float32(float(rows[1][2])) == np.float32(0.9)  # 9 digits give the float32 back
    (record, _) = outputs.example_records(values, outputs.header(tasks, ["id"]))
    assert _parsed(record)["species"] == ("bytes_list", [b"Adelie"])


def test_the_configuration_needs_a_run(tmp_path):
    with pytest.raises(RunStateError, match="does not exist"):
        recorded_config(tmp_path / "nowhere")
    with pytest.raises(RunStateError, match="no metadata.sqlite"):
        recorded_config(tmp_path)
