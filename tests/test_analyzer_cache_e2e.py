"""Transform's analyzer cache in the daily loop, for real: the second run of a window of three spans
reads the first run's cache, and its transform graph is the one a run without any cache computes."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from conftest import REPO, run_pipeline_cli
from pipeline.analyzer_cache import RESOLVER_ID, TRANSFORM_ID
from pipeline.results import mlmd
from pipeline.results.span_data import artifact_span

sys.path.insert(0, str(REPO))
from bench import daily_loop  # noqa: E402

pytestmark = [pytest.mark.e2e, pytest.mark.slow]  # four pipeline runs
ROWS = 600
PIPELINE = "daily-loop"


def _config(root: Path) -> Path:
    path = daily_loop.write_config(root, window=3, train_steps=20, warm_start_max_steps=None)
    config = yaml.safe_load(path.read_text())
    config["training"]["batch_size"] = 64
    config["drift"] = {"enabled": False}  # the cache, not the drift check, is under test
    path.write_text(yaml.safe_dump(config))
    return path


def _run(output_dir: Path, config: Path):
    run = run_pipeline_cli(output_dir, "--config", str(config))
    assert run.returncode == 0, f"pipeline failed:\n{run.stdout}\n{run.stderr[-3000:]}"
    return run


def _transform_runs(output_dir: Path) -> list[mlmd.NodeRun]:
    return mlmd.finished_node_runs(mlmd.open_store(output_dir / "metadata.sqlite"), PIPELINE, TRANSFORM_ID)


def _transformed(run: mlmd.NodeRun, rows: list[dict]) -> dict:
    """``rows`` (raw values by column) as tf.Examples through the transform graph ``run`` wrote."""
    import tensorflow as tf
    import tensorflow_transform as tft

    output = tft.TFTransformOutput(run.output("transform_graph").uri)
    examples = [tf.train.Example(features=tf.train.Features(feature={
        name: tf.train.Feature(float_list=tf.train.FloatList(value=[value])) for name, value in row.items()}))
        for row in rows]
    parsed = tf.io.parse_example([e.SerializeToString() for e in examples], output.raw_feature_spec())
    return {name: value.numpy() for name, value in output.transform_features_layer()(parsed).items()}


def test_the_daily_run_analyzes_only_its_new_span_and_transforms_as_without_cache(tmp_path):
    data = daily_loop.generated_table(ROWS, 4)
    for span in (1, 2, 3):
        daily_loop.write_span(tmp_path / "a", span, ROWS, data)
    config, output_dir = _config(tmp_path / "a"), tmp_path / "a" / "out"

    _run(output_dir, config)  # spans 1-3, no cache to read yet
    daily_loop.write_span(tmp_path / "a", 4, ROWS, data)
    second = _run(output_dir, config)  # span 4 arrives
    first_run, second_run = _transform_runs(output_dir)
    assert "analyzer_cache" not in first_run.inputs
    # The second Transform read the first one's cache, and wrote one for the spans it read.
    assert [a.id for a in second_run.inputs["analyzer_cache"]] == [first_run.output("updated_analyzer_cache").id]
    assert sorted(artifact_span(a) for a in second_run.inputs["examples"]) == [2, 3, 4]
    cached_spans = sorted(p.name for p in Path(second_run.output("updated_analyzer_cache").uri).iterdir())
    assert len(cached_spans) == 3, cached_spans
    assert f"  {RESOLVER_ID}" in second.stdout

    # The same window again: the cache handed over is still the first run's, so Transform is cached.
    third = _run(output_dir, config)
    assert any(line.split()[:2] == [TRANSFORM_ID, "cached"] for line in third.stdout.splitlines()), third.stdout

    # Spans 2-4 in a fresh output dir: the same window analyzed without any cache.
    for span in (2, 3, 4):
        daily_loop.write_span(tmp_path / "b", span, ROWS, data)
    fresh_dir = tmp_path / "b" / "out"
    _run(fresh_dir, _config(tmp_path / "b"))
    assert "analyzer_cache" not in _transform_runs(fresh_dir)[-1].inputs

    # The same means and variances: every input and label transformed alike (sums in Beam's order).
    rng = np.random.default_rng(0)
    columns = [*(f"x{i}" for i in range(daily_loop.INPUTS)), "y1", "y2"]
    rows = [dict(zip(columns, rng.normal(size=len(columns)).tolist())) for _ in range(50)]
    with_cache = _transformed(_transform_runs(output_dir)[-1], rows)
    without = _transformed(_transform_runs(fresh_dir)[-1], rows)
    assert set(with_cache) == set(without) and len(with_cache) >= len(columns)
    for name in with_cache:
        np.testing.assert_allclose(with_cache[name], without[name], rtol=1e-5, atol=1e-6, err_msg=name)
    # ... and not those of the first window (spans 1-3): the check can tell windows apart.
    first_window = _transformed(first_run, rows)
    assert any(not np.allclose(first_window[name], with_cache[name]) for name in with_cache)
