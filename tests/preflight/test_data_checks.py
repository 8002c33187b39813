"""Header and value checks of CSV inputs, and the CLI's early exit on them (no TFX)."""

from pathlib import Path

import pytest

from pipeline import local_runner
from config import ConfigError, build_config
from pipeline.preflight.data_checks import check_data

HEADER = "age,city,spend,income\n"
ROWS = "39,paris,1.5,>50K\n,lyon,2.5,<=50K\n41,?,0.5,<=50K\n"


def write(tmp_path: Path, text: str, name: str = "table.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def config_for(path: Path, tasks=None, features=None, missing=("?",)):
    return build_config({
        "data": {"source": "csv", "path": str(path), "missing_values": list(missing),
                 "features": features or [{"name": "age"}, {"name": "city", "type": "categorical"}]},
        "tasks": tasks or [{"name": "spend"}, {"name": "income", "type": "binary", "positive": ">50K"}],
    })


def error_of(config) -> str:
    with pytest.raises(ConfigError) as err:
        check_data(config)
    return str(err.value)


def test_good_table_passes(tmp_path):
    check_data(config_for(write(tmp_path, HEADER + ROWS)))


def test_unknown_feature_column(tmp_path):
    path = write(tmp_path, HEADER + ROWS)
    message = error_of(config_for(path, features=[{"name": "agee"}]))
    assert message.startswith(f"{path}: feature column 'agee' is not in the header (age, city, spend, income)")
    assert "fix data.features" in message


def test_task_without_label_column(tmp_path):
    path = write(tmp_path, HEADER + ROWS)
    message = error_of(config_for(path, tasks=[{"name": "clicks"}]))
    assert f"{path}: task 'clicks' has no label column 'clicks'" in message
    assert "set the task's label to the column holding it" in message


def test_binary_label_with_strings_and_no_positive_value(tmp_path):
    path = write(tmp_path, HEADER + ROWS)
    message = error_of(config_for(path, tasks=[{"name": "income", "type": "binary"}]))
    assert f"{path}: label column 'income' of binary task 'income' holds values other than 0/1" in message
    assert "declare the value(s) meaning 1, e.g. positive: '<=50K'" in message


def test_binary_label_with_0_1_values_needs_no_positive_value(tmp_path):
    path = write(tmp_path, "age,city,clicked\n1,a,0\n2,b,1\n")
    check_data(config_for(path, tasks=[{"name": "clicked", "type": "binary"}]))


def test_declared_positive_value_never_seen(tmp_path):
    path = write(tmp_path, HEADER + ROWS)
    message = error_of(config_for(path, tasks=[{"name": "income", "type": "binary", "positive": ">50k"}]))
    assert "never holds the declared positive value(s) ['>50k']" in message and "fix 'positive'" in message


def test_string_in_numeric_column(tmp_path):
    path = write(tmp_path, HEADER + ROWS + "n/a,nice,1.0,>50K\n")
    message = error_of(config_for(path))
    assert f"{path} line 5: numeric column 'age' holds 'n/a'" in message
    assert "declare it in data.missing_values" in message


def test_empty_label_cells_are_partial_labels(tmp_path):
    check_data(config_for(write(tmp_path, HEADER + ROWS + "39,paris,,>50K\n40,lyon,1.0,\n")))


def test_label_column_without_any_label(tmp_path):
    path = write(tmp_path, HEADER + "39,paris,,>50K\n40,lyon,?,<=50K\n")
    assert error_of(config_for(path)) == (
        f"{path}: label column 'spend' of task 'spend' is empty in its first 2 rows; "
        "fill in the labels or remove the task")


def test_header_with_bom_crlf_and_spaces_after_the_delimiter(tmp_path):
    path = tmp_path / "table.csv"
    path.write_bytes("\ufeffage, city, spend, income\r\n39, paris, 1.5, >50K\r\n40, lyon, 2.5, <=50K\r\n"
                     .encode("utf-8"))
    check_data(config_for(path))


def test_columns_with_the_same_internal_name(tmp_path):
    path = write(tmp_path, "capital-gain,capital gain,spend,income\n1,2,1.5,>50K\n")
    config = build_config({"data": {"source": "csv", "path": str(path),
                                    "features": [{"name": "capital-gain"}, {"name": "capital gain"}]},
                           "tasks": [{"name": "spend"}]})
    assert error_of(config) == (
        f"{path}: columns 'capital gain' and 'capital-gain' both become the internal name "
        "'capital_gain' (characters other than letters, digits and _ are replaced by _); rename one of them "
        "in the file's header and in the configuration")


def test_negative_example_weight(tmp_path):
    path = write(tmp_path, "age,city,spend,income,w\n39,paris,1.5,>50K,1\n40,lyon,2.5,<=50K,-2\n")
    config = build_config({
        "data": {"source": "csv", "path": str(path), "example_weight": "w",
                 "features": [{"name": "age"}, {"name": "city", "type": "categorical"}]},
        "tasks": [{"name": "spend"}]})
    assert error_of(config) == (
        f"{path} line 3: example weight column 'w' holds '-2'; weights must be numbers >= 0 "
        "(0 leaves the row out): fix the file or remove data.example_weight")


def test_multiclass_label_with_one_class(tmp_path):
    path = write(tmp_path, HEADER + "39,paris,1.5,a\n40,lyon,2.5,a\n")
    config = config_for(path, tasks=[{"name": "income", "type": "multiclass"}])
    assert error_of(config) == (
        f"{path}: label column 'income' of multiclass task 'income' holds one class only ('a'); "
        "a multiclass task needs at least two classes: use a column with several, or drop the task")


def test_multiclass_label_outside_its_classes(tmp_path):
    path = write(tmp_path, HEADER + "39,paris,1.5,a\n40,lyon,2.5,c\n")
    config = config_for(path, tasks=[{"name": "income", "type": "multiclass", "classes": ["a", "b"]}])
    assert error_of(config) == (
        f"{path}: label column 'income' of multiclass task 'income' holds 'c', not among its classes "
        "['a', 'b']; add them to the task's classes (or remove classes to take them from the data)")


def test_empty_file(tmp_path):
    path = write(tmp_path, "")
    assert error_of(config_for(path)).startswith(f"{path} is empty: a CSV input needs a header row")


def test_header_without_rows(tmp_path):
    path = write(tmp_path, HEADER)
    assert error_of(config_for(path)) == (f"{path} has a header but no rows; "
                                          "give it at least one example per line")


def test_no_file_matches(tmp_path):
    message = error_of(config_for(tmp_path / "missing-*.csv"))
    assert message == f"data.path: no file matches {tmp_path}/missing-*.csv; fix the path or glob"


def test_every_file_of_a_glob_is_checked(tmp_path):
    write(tmp_path, HEADER + ROWS, "part-1.csv")
    bad = write(tmp_path, "age,city,spend\n1,a,2.0\n", "part-2.csv")
    assert error_of(config_for(tmp_path / "part-*.csv")).startswith(
        f"{bad}: task 'income' has no label column 'income'")


@pytest.mark.parametrize("yaml_text, expected", [
    ("tasks: [{name: income, type: binary}]",
     "label column 'income' of binary task 'income' holds values other than 0/1"),
    ("tasks: [{name: spend}, {name: spend}]", "duplicate task names: spend"),
    ("tasks: [{name: spend, type: ranking}]",
     "task type must be 'regression' or 'binary' or 'multiclass' or 'count', got 'ranking'"),
    ("tasks: [{name: age}]", "label column 'age' is also listed as a model input"),
])
def test_cli_stops_before_any_component_and_keeps_the_output_dir(tmp_path, capsys, yaml_text, expected):
    write(tmp_path, HEADER + ROWS)
    config_path = tmp_path / "my.yaml"
    config_path.write_text(
        "data: {source: csv, path: table.csv, missing_values: ['?'], features: [{name: age}]}\n" + yaml_text)
    output_dir = tmp_path / "out"
    (output_dir / "serving" / "1").mkdir(parents=True)
    (output_dir / "serving" / "1" / "saved_model.pb").write_bytes(b"model")
    before = sorted(p.relative_to(output_dir) for p in output_dir.rglob("*"))

    code = local_runner.main(["--config", str(config_path), "--output-dir", str(output_dir)])

    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: ") and expected in err and err.count("\n") == 1
    assert sorted(p.relative_to(output_dir) for p in output_dir.rglob("*")) == before
    assert (output_dir / "serving" / "1" / "saved_model.pb").read_bytes() == b"model"
