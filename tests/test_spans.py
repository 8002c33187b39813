"""Spans on disk, the window, and bad span input (no TFX)."""

from pathlib import Path

import pytest

from pipeline import spans
from config import ConfigError, build_config
from pipeline.preflight.data_checks import check_data

HEADER = "age,city,spend\n"
ROWS = "39,paris,1.5\n41,lyon,2.5\n"


def write_span(root: Path, span: int, text: str = HEADER + ROWS, name: str = "rows.csv") -> Path:
    folder = root / f"span-{span}"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text)
    return folder / name


def span_config(root: Path, window_spans: int = 3, path: str = "span-{SPAN}/rows.csv"):
    return build_config({
        "data": {"source": "csv", "path": str(root / path), "window_spans": window_spans,
                 "features": [{"name": "age"}, {"name": "city", "type": "categorical"}]},
        "tasks": [{"name": "spend"}],
    })


def test_spans_on_disk_reads_span_numbers_and_skips_other_files(tmp_path):
    for span in (1, 2, 10):
        write_span(tmp_path, span)
    (tmp_path / "span-x").mkdir()
    (tmp_path / "span-x" / "rows.csv").write_text(HEADER)
    write_span(tmp_path, 3, name="other.csv")
    found = spans.spans_on_disk(str(tmp_path / "span-{SPAN}/rows.csv"))
    assert list(found) == [1, 2, 10]
    assert found[10] == [str(tmp_path / "span-10" / "rows.csv")]


def test_the_highest_version_of_a_span_is_read(tmp_path):
    for version in (1, 2):
        path = tmp_path / "span-4" / f"v{version}" / "rows.csv"
        path.parent.mkdir(parents=True)
        path.write_text(HEADER)
    found = spans.spans_on_disk(str(tmp_path / "span-{SPAN}/v{VERSION}/rows.csv"))
    assert found == {4: [str(tmp_path / "span-4" / "v2" / "rows.csv")]}


def test_window_takes_the_newest_spans_present_and_says_which_are_absent():
    assert spans.window([1, 2, 3, 4], 3) == [2, 3, 4]
    assert spans.window([4, 1, 2], 3) == [1, 2, 4]
    assert spans.window([5], 3) == [5]
    assert spans.describe_spans([3, 4, 5]) == "spans 3-5"
    assert spans.describe_spans([5]) == "span 5"
    assert spans.describe_spans([1, 2, 4]) == "spans 1, 2, 4 (span 3 absent)"


def test_an_empty_span_folder_is_named(tmp_path):
    write_span(tmp_path, 1)
    (tmp_path / "span-2").mkdir()
    assert spans.empty_span_folders(str(tmp_path / "span-{SPAN}/rows.csv")) == {2: str(tmp_path / "span-2")}
    with pytest.raises(ConfigError, match=r"data.path: span 2: folder .*span-2 holds no file matching rows.csv"):
        check_data(span_config(tmp_path))


def test_a_span_whose_header_differs_is_named(tmp_path):
    write_span(tmp_path, 1)
    write_span(tmp_path, 2, "age,town,spend\n" + ROWS)
    write_span(tmp_path, 3)
    with pytest.raises(ConfigError, match=r"^span 2: .*span-2/rows.csv: feature column 'city' is not in the header"):
        check_data(span_config(tmp_path))


def test_spans_outside_the_window_are_not_checked(tmp_path):
    write_span(tmp_path, 1, "age,town,spend\n" + ROWS)  # an old span with another header
    for span in (2, 3, 4):
        write_span(tmp_path, span)
    check_data(span_config(tmp_path))


def test_window_spans_without_span_in_the_path_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match=r"window_spans: 3 needs spans: put \{SPAN\} in data.path"):
        span_config(tmp_path, path="rows.csv")
    assert span_config(tmp_path, window_spans=1, path="rows.csv").data.window_spans == 1
