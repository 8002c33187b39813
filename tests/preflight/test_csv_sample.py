"""The data checks read each CSV input once, as far as they need."""

from collections import Counter

from config import build_config
from pipeline.preflight import csv_sample
from pipeline.preflight.csv_sample import CHECKED_ROWS, read_sample
from pipeline.preflight.data_checks import check_data

ROWS = 2 * CHECKED_ROWS


def _table(tmp_path, name="t.csv", rows=ROWS, first=0):
    path = tmp_path / name
    lines = [f"{((first + j) * 37) % 101},{'abc'[j % 3] if j < rows - 1 else 'd'},{j * 0.5}"
             for j in range(rows)]
    path.write_text("gain,kind,y\n" + "\n".join(lines) + "\n")
    return path


def _config(pattern, **data):
    return build_config({"data": {"source": "csv", "path": str(pattern), "missing_values": ["?"],
                                  "features": [{"name": "gain"}], **data},
                         "tasks": [{"name": "y"}, {"name": "kind", "type": "multiclass"}]})


def test_the_checks_before_the_run_read_each_file_once(tmp_path, monkeypatch):
    _table(tmp_path, "a.csv")
    _table(tmp_path, "b.csv", first=ROWS)
    config = _config(tmp_path / "*.csv")
    reads = Counter()
    real = csv_sample.read_rows

    def counted(f):
        reads[f.name] += 1
        return real(f)

    monkeypatch.setattr(csv_sample, "read_rows", counted)
    sample = check_data(config)
    assert reads == {str(tmp_path / "a.csv"): 1, str(tmp_path / "b.csv"): 1}
    assert sorted(sample.files) == [str(tmp_path / "a.csv"), str(tmp_path / "b.csv")]


def test_the_checks_see_the_first_rows_through_the_first_past_the_limit(tmp_path):
    sample = read_sample(_config(_table(tmp_path)))
    (only,) = sample.files.values()
    assert only.header == ["gain", "kind", "y"]
    lines = [line for line, _ in only.rows]
    assert lines == list(range(2, CHECKED_ROWS + 2))  # header on line 1; rows from line 2
    assert lines[-1] > CHECKED_ROWS >= lines[-2]
    assert only.rows[0][1] == {"gain": "0", "kind": "a", "y": "0.0"}
