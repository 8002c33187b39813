"""Local runs choose Beam's multi-process DirectRunner for large data only, and never override the user."""

from pipeline.beam_workers import MULTI_PROCESS_MIN_BYTES, MULTI_PROCESS_MIN_EXAMPLES, local_beam_args
from config import build_config

MULTI = ["--direct_running_mode=multi_processing", "--direct_num_workers=2"]


def test_synthetic_data_by_example_count():
    small = build_config({"data": {"num_examples": MULTI_PROCESS_MIN_EXAMPLES - 1}})
    large = build_config({"data": {"num_examples": MULTI_PROCESS_MIN_EXAMPLES}})
    assert local_beam_args(small, cores=2) == []
    assert local_beam_args(large, cores=2) == MULTI
    assert local_beam_args(large, cores=4)[-1] == "--direct_num_workers=4"
    assert local_beam_args(large, cores=1) == []  # one core: nothing to spread over


def test_the_users_beam_args_win():
    config = build_config({"data": {"num_examples": MULTI_PROCESS_MIN_EXAMPLES * 5},
                           "beam_args": ["--direct_num_workers=1"]})
    assert local_beam_args(config, cores=8) == ["--direct_num_workers=1"]


def test_files_by_size(tmp_path):
    csv = tmp_path / "data.csv"
    csv.write_text("x,y\n1,2\n")
    raw = {"data": {"source": "csv", "path": str(csv), "features": [{"name": "x"}]},
           "tasks": [{"name": "y", "label": "y"}]}
    assert local_beam_args(build_config(raw), cores=2) == []
    with open(csv, "ab") as f:
        f.truncate(MULTI_PROCESS_MIN_BYTES)
    assert local_beam_args(build_config(raw), cores=2) == MULTI


def test_the_evaluator_stays_in_process_when_it_evaluates_per_slice_groups():
    from pipeline.beam_workers import IN_PROCESS, evaluator_beam_args

    large = {"data": {"num_examples": MULTI_PROCESS_MIN_EXAMPLES}}
    assert evaluator_beam_args(build_config(large), cores=2) == IN_PROCESS
    small = build_config({"data": {"num_examples": MULTI_PROCESS_MIN_EXAMPLES - 1}})
    assert evaluator_beam_args(small, cores=2) == []  # everything in process already
    users = build_config({**large, "beam_args": ["--direct_num_workers=2"]})
    assert evaluator_beam_args(users, cores=2) == []  # the user's choice, for every step
    binary = build_config({"data": {"num_examples": MULTI_PROCESS_MIN_EXAMPLES, "binary_labels": ["y2"]},
                           "tasks": [{"name": "y1"}, {"name": "y2", "type": "binary"}]})
    assert evaluator_beam_args(binary, cores=2) == IN_PROCESS  # binary tasks are evaluated in groups too
