"""The local runner's argument handling and output-dir guard (no pipeline run)."""

import pytest

from config import ConfigError
from pipeline.local_runner import config_from_args, lock_output_dir, parse_args


def test_flags_override_the_config_file(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("data: {seed: 3, num_examples: 500}\ntraining: {train_steps: 10}\n")
    config = config_from_args(parse_args(["--config", str(path), "--seed", "9", "--correlation", "0.2",
                                          "--beam-args", "--direct_num_workers=2 --direct_running_mode=in_memory"]))
    assert config.data.seed == 9 and config.data.num_examples == 500
    assert config.data.correlation == 0.2 and config.training.train_steps == 10
    assert config.beam_args == ["--direct_num_workers=2", "--direct_running_mode=in_memory"]


def test_defaults_without_flags():
    config = config_from_args(parse_args([]))
    assert config.data.num_examples == 3000
    # No step count: early stopping decides, under a cap (models/budget.py).
    assert config.training.train_steps is None and config.training.epochs is None
    assert config.training.max_steps == 10_000 and config.training.early_stopping


def test_bad_flag_value_is_a_config_error():
    with pytest.raises(ConfigError, match="correlation must be in"):
        config_from_args(parse_args(["--correlation", "-2"]))


def test_second_run_into_the_same_dir_is_refused(tmp_path):
    held = lock_output_dir(tmp_path)
    with pytest.raises(ConfigError, match="another run is writing to"):
        lock_output_dir(tmp_path)
    held.close()
    lock_output_dir(tmp_path).close()  # free again once the first run ends


def test_disk_full_is_recognised_through_the_exception_chain():
    import errno

    from pipeline.local_runner import disk_full

    try:
        try:
            raise OSError(errno.ENOSPC, "No space left on device")
        except OSError as inner:
            raise RuntimeError("component failed") from inner
    except RuntimeError as outer:
        assert disk_full(outer)
    assert disk_full(RuntimeError("sqlite: database or disk is full"))
    assert not disk_full(RuntimeError("something else"))


# What a local run imports besides the runner: the pipeline (every component, executor
# included), the module code its components run, and what writes the summary and report.
_IMPORT_A_RUN = """
import sys
from config import build_config
from pipeline import local_runner, span_ingest
from pipeline.baseline import local_baseline_resolver
from pipeline.definition import create_pipeline
from pipeline.report import summary, writer
import models.preprocessing, models.trainer, models.tuning

config = build_config({"tuning": {"enabled": True}, "training": {"warm_start": True}})
pipeline = create_pipeline(config, pipeline_root="/tmp/root", serving_dir="/tmp/serving",
                           baseline_resolver=local_baseline_resolver)
assert {"Tuner", "Trainer", "Evaluator", "Pusher", "DriftCheck"} <= {node.id for node in pipeline.components}
print(sorted(name for name in sys.modules if name.startswith(("tfx.v1", "tfx.extensions", "google.cloud.aiplatform"))))
"""


def test_a_local_run_imports_tfx_modules_and_not_the_google_cloud_extensions():
    """``from tfx import v1`` imports TFX's Google Cloud extensions too: 3 s and 140 MB a process."""
    import subprocess
    import sys

    from pipeline.cli.flags import PROJECT_ROOT

    run = subprocess.run([sys.executable, "-c", _IMPORT_A_RUN], cwd=PROJECT_ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip().splitlines()[-1] == "[]"
