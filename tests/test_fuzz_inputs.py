"""Property-based tests: any configuration or CSV either works or fails with the project's own error.

No input may raise anything but a ``ConfigError`` (one line, naming the
problem) from the configuration or the data checks, and the runner's ``main``
turns every such input into exit 0-before-running or exit 2 with one
``error:`` line. No TFX component runs here.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from config import ConfigError, build_config, load_config_file
from pipeline.preflight.data_checks import check_data

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6),
                    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12))
values = st.recursive(scalars, lambda children: st.one_of(
    st.lists(children, max_size=3), st.dictionaries(st.text(max_size=8), children, max_size=3)), max_leaves=8)
KEYS = {
    "pipeline_name": scalars,
    "tasks": st.lists(st.fixed_dictionaries({"name": st.sampled_from(["y1", "y2", "z", "", "1a"])}, optional={
        "type": st.sampled_from(["regression", "binary", "ranking", 3]),
        "loss_weight": scalars,
        "positive": values,
        "output_activation": st.sampled_from(["linear", "sigmoid", "relu", None]),
        "gate": st.fixed_dictionaries({}, optional={k: scalars for k in
                                                    ("min_r2", "max_mse", "min_auc", "max_log_loss", "max_drop")}),
    }), max_size=3),
    "data": st.fixed_dictionaries({}, optional={
        "source": st.sampled_from(["synthetic", "csv", "tfrecord", "parquet"]),
        "num_examples": scalars, "correlation": scalars, "seed": scalars, "num_shards": scalars,
        "path": scalars, "features": values, "split": values, "missing_values": values}),
    "model": st.fixed_dictionaries({}, optional={
        "bottom_units": values, "task_units": values, "bottom_dropout": scalars, "architecture": scalars}),
    "training": st.fixed_dictionaries({}, optional={
        k: scalars for k in ("train_steps", "eval_steps", "batch_size", "learning_rate", "seed")}),
    "evaluation": values,
    "beam_args": values,
}
configs = st.fixed_dictionaries({}, optional=KEYS)


@FUZZ
@given(configs)
def test_any_configuration_builds_or_is_a_config_error(raw):
    try:
        build_config(raw)
    except ConfigError as exc:
        message = str(exc)
        assert message.strip() and "\n" not in message.strip(), message  # one line, whatever the cause


@FUZZ
@given(st.text(max_size=200))
def test_any_yaml_file_loads_or_is_a_config_error(text):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "c.yaml"
        path.write_text(text, encoding="utf-8")
        try:
            raw = load_config_file(path)
        except ConfigError as exc:
            assert str(path) in str(exc)
            return
        try:
            build_config(raw)
        except ConfigError:
            pass


cells = st.one_of(st.sampled_from(["", "?", "nan", "inf", "-1", "0", "1", "yes", "no", "1e400", " 2.5 "]),
                  st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=6),
                  st.floats(allow_nan=True, allow_infinity=True).map(repr))
COLUMNS = ["age", "city", "spend", "income"]


@FUZZ
@given(header=st.lists(st.sampled_from(COLUMNS + ["other", ""]), min_size=0, max_size=5),
       rows=st.lists(st.lists(cells, min_size=0, max_size=5), max_size=6), tail=st.binary(max_size=6))
def test_any_csv_passes_the_checks_or_is_a_config_error_naming_the_file(header, rows, tail):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "t.csv"
        lines = ([",".join(header)] if header else []) + [",".join(row) for row in rows]
        path.write_bytes("".join(f"{line}\n" for line in lines).encode("utf-8") + tail)
        config = build_config({
            "data": {"source": "csv", "path": str(path), "missing_values": ["?"],
                     "features": [{"name": "age"}, {"name": "city", "type": "categorical"}]},
            "tasks": [{"name": "spend"}, {"name": "income", "type": "binary", "positive": "yes"}]})
        try:
            check_data(config)
        except ConfigError as exc:
            assert str(path) in str(exc), str(exc)


def test_yaml_dump_of_a_fuzzed_config_round_trips(tmp_path):
    raw = {"data": {"num_examples": 500}, "training": {"train_steps": 10}}
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(raw))
    assert build_config(load_config_file(path)).data.num_examples == 500


def _csv_config(path: Path):
    return build_config({"data": {"source": "csv", "path": str(path), "features": [{"name": "age"}]},
                         "tasks": [{"name": "spend"}]})


def test_cases_the_fuzzing_found(tmp_path):
    """A NUL byte and bytes that are not UTF-8: each one line naming the file; a byte-order mark is read."""
    path = tmp_path / "t.csv"
    path.write_bytes("\ufeffage,spend\n1,2\n".encode())
    check_data(_csv_config(path))  # the mark is not part of the first column's name
    for content, message in [(b"age,spend\n1,\x002\n", "cannot be read as CSV (line contains NUL)"),
                             (b"age,spend\n1,\xff\xfe\n", "is not UTF-8 text (byte ")]:
        path.write_bytes(content)
        try:
            check_data(_csv_config(path))
        except ConfigError as exc:
            assert str(exc).startswith(f"{path} ") and message in str(exc), str(exc)
        else:
            raise AssertionError(f"no error for {content!r}")


def test_a_line_break_in_a_setting_name_or_value_stays_on_one_line():
    """The case the one-line rule missed: names and values are shown quoted, a line break escaped."""
    for raw, shown in [({"evaluation": {"a\nb": 1}}, "evaluation.'a\\nb': unknown setting"),
                       ({"model": {"architecture": "a\nb"}}, "got 'a\\nb'")]:
        try:
            build_config(raw)
        except ConfigError as exc:
            assert "\n" not in str(exc) and shown in str(exc), str(exc)
        else:
            raise AssertionError(f"no error for {raw!r}")
