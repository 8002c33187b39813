"""Faults the pipeline survives, each caused for real on a tiny run of the real pipeline.

Killed during the Trainer, two runs at once (same and different output dirs),
a damaged ``metadata.sqlite`` and an output dir of another pipeline. The runs
are shared by the tests of this module (module-scoped fixtures, in order).
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import tensorflow as tf

from conftest import REPO, TINY_CONFIG, run_pipeline_cli, serving_versions, start_pipeline_cli, tree_digest

pytestmark = [pytest.mark.e2e, pytest.mark.faults]

CONFIG_TEXT = TINY_CONFIG.format(train_steps=1500)
BEFORE_TRAINER = ["SyntheticExampleGen", "StatisticsGen", "SchemaGen", "ExampleValidator", "AnomaliesGate",
                  "Transform"]



def _quick_check(path: Path) -> str:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        return db.execute("PRAGMA quick_check").fetchone()[0]


def _served(version: Path) -> dict:
    example = tf.train.Example()
    example.features.feature["x"].float_list.value.extend([0.1] * 100)
    serve = tf.saved_model.load(str(version)).signatures["serving_default"]
    return {k: v.numpy() for k, v in serve(examples=tf.constant([example.SerializeToString()])).items()}


@pytest.fixture(scope="module")
def tiny_config(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("faults") / "tiny.yaml"
    path.write_text(CONFIG_TEXT)
    return path


@pytest.fixture(scope="module")
def killed_run(tmp_path_factory, tiny_config):
    """A run SIGKILLed during its Trainer; a second run into the same dir is tried while it runs."""
    output_dir = tmp_path_factory.mktemp("killed") / "out"
    run = start_pipeline_cli(output_dir, "--config", str(tiny_config))
    # The lock is taken before any component runs: a second run into the dir is refused.
    run.wait_for(lambda: any(line.split()[:1] == ["SyntheticExampleGen"] for line in run.lines),
                 "SyntheticExampleGen line")
    second = run_pipeline_cli(output_dir, "--config", str(tiny_config), timeout=300)
    # Kill once the Trainer has started writing (its model run folder exists).
    run.wait_for((output_dir / "pipeline_root" / "Trainer" / "model_run").exists, "Trainer")
    time.sleep(2)
    return output_dir, run.kill(), run.stdout, second


@pytest.fixture(scope="module")
def rerun_and_parallel(tmp_path_factory, tiny_config, killed_run):
    """The killed run's command again, while a fresh run goes into another dir at the same time."""
    output_dir = killed_run[0]
    other_dir = tmp_path_factory.mktemp("parallel") / "out"
    argv = [sys.executable, str(REPO / "pipeline" / "local_runner.py"), "--config", str(tiny_config)]
    other = subprocess.Popen([*argv, "--output-dir", str(other_dir)], cwd=REPO,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    rerun = run_pipeline_cli(output_dir, "--config", str(tiny_config))
    other_out, other_err = other.communicate(timeout=900)
    return rerun, (other.returncode, other_out, other_err, other_dir)


def test_killed_during_the_trainer(killed_run):
    output_dir, returncode, stdout, _ = killed_run
    assert returncode == -signal.SIGKILL
    finished = {line.split()[0] for line in stdout.splitlines() if line.strip()[:1].isalpha() and " s" in line}
    assert set(BEFORE_TRAINER) <= finished and "Trainer" not in finished, stdout
    assert serving_versions(output_dir) == []


def test_second_run_into_the_same_dir_is_refused_while_one_runs(killed_run):
    _, _, _, second = killed_run
    assert second.returncode == 2
    assert second.stderr.strip().splitlines() == [
        f"error: another run is writing to {second.output_dir}; wait for it or choose another --output-dir"]


def test_rerun_after_a_kill_completes_reusing_finished_components(killed_run, rerun_and_parallel):
    rerun, _ = rerun_and_parallel
    assert rerun.returncode == 0, f"{rerun.stdout}\n{rerun.stderr}"
    statuses = rerun.component_lines()
    assert all(statuses[name] == "cached" for name in BEFORE_TRAINER), statuses
    assert statuses["Trainer"] == "ran" and statuses["Pusher"] == "ran"
    (version,) = serving_versions(rerun.output_dir)
    assert set(_served(version)) == {"y1", "y2"}
    assert _quick_check(rerun.output_dir / "metadata.sqlite") == "ok"


def test_two_runs_into_two_dirs_at_once_both_complete(rerun_and_parallel):
    rerun, (returncode, stdout, stderr, other_dir) = rerun_and_parallel
    assert returncode == 0, f"{stdout}\n{stderr}"
    assert "Blessed and pushed" in stdout and "Blessed and pushed" in rerun.stdout
    (version,) = serving_versions(other_dir)
    assert set(_served(version)) == {"y1", "y2"}
    assert _quick_check(other_dir / "metadata.sqlite") == "ok"


def test_damaged_metadata_is_named_with_the_fix_and_serving_is_untouched(rerun_and_parallel, tiny_config,
                                                                         tmp_path):
    _, (_, _, _, other_dir) = rerun_and_parallel
    metadata = other_dir / "metadata.sqlite"
    serving_digest = tree_digest(other_dir / "serving")
    saved = tmp_path / "metadata.sqlite"
    saved.write_bytes(metadata.read_bytes())
    with open(metadata, "r+b") as f:  # garbage over the schema page and what follows
        f.seek(1024)
        f.write(os.urandom(16 * 1024))
    try:
        run = run_pipeline_cli(other_dir, "--config", str(tiny_config), timeout=300)
    finally:
        metadata.write_bytes(saved.read_bytes())
    assert run.returncode == 1
    (line,) = run.stderr.strip().splitlines()
    assert line.startswith(f"error: {metadata} is damaged (sqlite: ")
    assert f"move {metadata} aside" in line and "another --output-dir" in line
    assert run.component_lines() == {}
    assert tree_digest(other_dir / "serving") == serving_digest


def test_output_dir_of_another_pipeline_is_refused(rerun_and_parallel, tmp_path):
    rerun, _ = rerun_and_parallel
    serving_digest = tree_digest(rerun.output_dir / "serving")
    config = tmp_path / "other.yaml"
    config.write_text("pipeline_name: another-pipeline\n" + CONFIG_TEXT)
    run = run_pipeline_cli(rerun.output_dir, "--config", str(config), timeout=300)
    assert run.returncode == 1
    assert run.stderr.strip().splitlines() == [
        f"error: {rerun.output_dir} holds the runs of pipeline 'mtl-shared-bottom' "
        f"({rerun.output_dir / 'metadata.sqlite'}), not of 'another-pipeline'; choose another --output-dir, "
        "or set pipeline_name: mtl-shared-bottom in the configuration to continue that pipeline"]
    assert tree_digest(rerun.output_dir / "serving") == serving_digest
