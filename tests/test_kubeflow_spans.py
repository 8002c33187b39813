"""Spans on Kubeflow: {SPAN} stays in the compiled spec (TFX's driver finds the newest span when the
pipeline runs); a window of spans, which KubeflowV2DagRunner cannot compile, is refused before compiling."""

import json

import pytest
import yaml

from pipeline.kubeflow import compiler


def _config(tmp_path, window_spans: int):
    path = tmp_path / "spans.yaml"
    path.write_text(yaml.safe_dump({
        "pipeline_name": "daily",
        "data": {"source": "csv", "path": "gs://bucket/daily/span-{SPAN}/rows.csv", "window_spans": window_spans,
                 "features": [{"name": "age"}, {"name": "city", "type": "categorical"}]},
        "tasks": [{"name": "spend"}],
    }))
    return str(path)


def test_a_window_of_spans_is_refused_with_one_error_line(tmp_path, capsys):
    output = tmp_path / "p.json"
    assert compiler.main(["--config", _config(tmp_path, 3), "--output", str(output),
                                 "--pipeline-root", "gs://bucket/root"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: data.window_spans: 3 cannot be compiled for Kubeflow") and err.count("\n") == 1
    assert not output.exists()


@pytest.mark.e2e
def test_the_newest_span_is_found_when_the_pipeline_runs(tmp_path):
    output = tmp_path / "p.json"
    assert compiler.main(["--config", _config(tmp_path, 1), "--output", str(output),
                                 "--pipeline-root", "gs://bucket/root"]) == 0
    spec = json.loads(output.read_text())["pipelineSpec"]
    example_gen = spec["root"]["dag"]["tasks"]["CsvExampleGen"]["inputs"]["parameters"]
    assert example_gen["input_base"]["runtimeValue"]["constantValue"]["stringValue"] == "gs://bucket/daily"
    assert "span-{SPAN}/rows.csv" in example_gen["input_config"]["runtimeValue"]["constantValue"]["stringValue"]
    transform = spec["root"]["dag"]["tasks"]["Transform"]["inputs"]["artifacts"]["examples"]
    assert transform == {"taskOutputArtifact": {"producerTask": "CsvExampleGen", "outputArtifactKey": "examples"}}
