"""The whole pipeline on Beam's multi-process DirectRunner, as it would spread over workers.

Workers are separate processes that import the project afresh: the run proves
the executors are picklable and parallel-safe. The examples must be byte for
byte those of a one-worker run of the same configuration (seed and shard count).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import SMALL_RUN, run_pipeline_cli, serving_versions
from pipeline import local_runner

NUM_SHARDS = "4"  # more shards than workers, so the generation really is spread
MULTI_PROCESS = "--direct_running_mode=multi_processing --direct_num_workers=2"
COMPONENTS = {"SyntheticExampleGen", "StatisticsGen", "SchemaGen", "ExampleValidator", "Transform",
              "Trainer", "Evaluator", "Pusher"}


def read_splits(examples_uri: Path) -> dict[str, list[bytes]]:
    """split name -> its serialized records, sorted (workers write in any order, any files)."""
    import tensorflow as tf

    splits = {}
    for split_dir in sorted(examples_uri.glob("Split-*")):
        files = sorted(str(p) for p in split_dir.glob("*.gz"))
        records = tf.data.TFRecordDataset(files, compression_type="GZIP")
        splits[split_dir.name] = sorted(r.numpy() for r in records)
    return splits


def one_worker_examples(tmp_path: Path, cli_args: list[str]) -> Path:
    """The same configuration's examples from SyntheticExampleGen alone, on in-process Beam."""
    from tfx import v1 as tfx

    from components.synthetic_example_gen.component import SyntheticExampleGen

    config = local_runner.config_from_args(local_runner.parse_args(cli_args))
    assert config.beam_args == []
    example_gen = SyntheticExampleGen(data_config=config.data.model_dump(mode="json"))
    root = tmp_path / "one_worker"
    tfx.orchestration.LocalDagRunner().run(tfx.dsl.Pipeline(
        pipeline_name="one-worker-examples", pipeline_root=str(root), components=[example_gen],
        metadata_connection_config=tfx.orchestration.metadata.sqlite_metadata_connection_config(
            str(root / "metadata.sqlite"))))
    [examples_uri] = (root / "SyntheticExampleGen" / "examples").iterdir()
    return examples_uri


@pytest.mark.e2e
@pytest.mark.slow  # the whole pipeline on worker processes
def test_multi_process_run_passes_and_gives_the_one_worker_examples(tmp_path):
    data_args = [*SMALL_RUN, "--num-shards", NUM_SHARDS]
    run = run_pipeline_cli(tmp_path / "multi", *data_args, f"--beam-args={MULTI_PROCESS}")
    assert run.returncode == 0, f"multi-process run failed:\n{run.stdout}\n{run.stderr}"
    assert COMPONENTS <= {name for name, status in run.component_lines().items() if status == "ran"}
    assert len(serving_versions(run.output_dir)) == 1, run.stdout

    # Beam's job service logs what its worker processes report: the mode took effect.
    [log] = (run.output_dir / "logs").glob("run-*.log")
    assert "local_job_service:Worker" in log.read_text()

    [multi_uri] = (run.output_dir / "pipeline_root" / "SyntheticExampleGen" / "examples").iterdir()
    multi = read_splits(multi_uri)
    single = read_splits(one_worker_examples(tmp_path, data_args))
    assert set(multi) == set(single) == {"Split-train", "Split-eval", "Split-test"}
    assert sum(map(len, multi.values())) == 2000
    for split in single:
        assert multi[split] == single[split], f"{split} differs from the one-worker run"
