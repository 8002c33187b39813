"""Spans on Kubeflow: {SPAN} stays in the compiled spec (TFX's driver finds the newest span when the
pipeline runs, shown by executing one compiled spec on two spans); a window of spans, which
KubeflowV2DagRunner cannot compile, is refused before compiling."""

import json
from pathlib import Path

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


def _daily_kubeflow_config(root):
    """tests/test_spans_e2e.py's daily configuration (data/sample.csv in 400-row spans, warm start,
    gates any trained model passes), with the one span a compiled spec reads and no change gate:
    run 2's model is blessed and pushed whatever its metrics against run 1's."""
    from config import build_config, load_config_file
    from test_spans_e2e import write_config

    path = write_config(root)
    raw = load_config_file(path)
    raw["data"]["window_spans"] = 1
    for task in raw["tasks"]:
        task["gate"]["max_drop"] = 1000.0
    assert raw["training"]["warm_start"] is True and "{SPAN}" in raw["data"]["path"]
    return build_config(raw, base_dir=str(root))


@pytest.mark.e2e
@pytest.mark.slow  # two executions of the compiled spec, every step in its own process
def test_one_compiled_spec_runs_on_each_new_span_warm_started_from_the_last_model(tmp_path):
    """Compiled once, executed on span 1, then, after span 2 arrives, again: the second execution
    reads span 2, its Trainer starts from the first execution's model, and it pushes a second version."""
    from pipeline.kubeflow import dry_run
    from pipeline.kubeflow.artifact_record import ArtifactRecord
    from pipeline.report.summary import serving_versions
    from test_kubeflow_launcher import _parameter
    from test_spans_e2e import write_span

    write_span(tmp_path, 1)
    config = _daily_kubeflow_config(tmp_path)
    root = dry_run.check_root(tmp_path / "kfp")
    spec = dry_run.compile_spec(config, root, "daily")  # once: nothing about spans is fixed here
    examples_input = json.loads(_parameter(spec.source, "CsvExampleGen", "input_config"))
    assert [s["pattern"] for s in examples_input["splits"]] == ["span-{SPAN}/rows.csv"]

    first = dry_run.execute(spec, root, "run-1")
    write_span(tmp_path, 2)
    second = dry_run.execute(spec, root, "run-2")

    # Each execution's ExampleGen found the newest span when it ran (its driver, then its executor).
    assert first.output("CsvExampleGen", "examples").metadata["span"] == 1
    assert second.steps["CsvExampleGen"].kind == "container"  # read, not reused from run 1
    assert second.output("CsvExampleGen", "examples").metadata["span"] == 2
    assert [a.name for a in second.steps["Transform"].inputs["examples"]] == [
        second.output("CsvExampleGen", "examples").name]
    # The launcher's record, which its resolvers query in place of ML Metadata, has one artifact per span.
    record = ArtifactRecord(root)
    for run, span in ((first, 1), (second, 2)):
        found = record.query(f'schema_title="tfx.Examples" AND metadata.span.number_value={span}')
        assert [a.name for a in found] == [run.output("CsvExampleGen", "examples").name]

    # Run 1 had no blessed model to start from; run 2's base_model is run 1's model, and it started from it.
    first_model = first.output("Trainer", "model")
    assert first.steps["Trainer"].inputs["base_model"] == []
    assert [(a.name, a.uri) for a in second.steps["Trainer"].inputs["base_model"]] == [
        (first_model.name, first_model.uri)]
    started = json.loads((Path(second.output("Trainer", "model_run").uri) / "warm_start.json").read_text())
    assert started["warm_start"] == "from" and started["base_model"].startswith(first_model.uri), started

    # The gates: run 1 blessed and pushed; run 2 was compared with run 1's model (no change gate)
    # and passed the absolute gates, so it was blessed and pushed as a second version.
    assert first.output("Evaluator", "blessing").metadata["blessed"] == 1
    assert first.output("Pusher", "pushed_model").metadata["pushed"] == 1
    blessing = second.output("Evaluator", "blessing").metadata
    assert blessing["baseline_model_id"] == first_model.name
    assert blessing["blessed"] == 1
    assert second.output("Pusher", "pushed_model").metadata["pushed"] == 1
    assert len(serving_versions(root / "serving")) == 2



def test_what_the_driver_reports_becomes_the_executors_parameters_in_both_forms(tmp_path):
    """TFX's executor reads the pre-2.1 form when it is given; the driver writes the 2.1 form only."""
    from google.protobuf import json_format, struct_pb2
    from kfp.pipeline_spec import pipeline_spec_pb2 as pb

    from pipeline.kubeflow.launcher import apply_driver_output

    executor_input = pb.ExecutorInput()
    executor_input.outputs.output_file = str(tmp_path / "executor_output.json")
    unresolved = '{"splits": [{"name": "all", "pattern": "span-{SPAN}/rows.csv"}]}'
    executor_input.inputs.parameters["input_config"].string_value = unresolved
    executor_input.inputs.parameter_values["input_config"].string_value = unresolved
    executor_input.inputs.parameters["input_base"].string_value = "/data/daily"
    apply_driver_output(executor_input)  # no driver output yet: nothing changes
    assert executor_input.inputs.parameters["input_config"].string_value == unresolved

    reported = pb.ExecutorOutput()
    resolved = '{"splits": [{"name": "all", "pattern": "span-2/rows.csv"}]}'
    reported.parameter_values["input_config"].string_value = resolved
    reported.parameter_values["span"].number_value = 2
    reported.parameter_values["input_fingerprint"].string_value = "split:all,num_files:1"
    (tmp_path / "executor_output.json").write_text(json_format.MessageToJson(reported))
    apply_driver_output(executor_input)
    inputs = executor_input.inputs
    assert inputs.parameters["input_config"] == pb.Value(string_value=resolved)
    assert inputs.parameters["span"] == pb.Value(int_value=2)
    assert inputs.parameters["input_fingerprint"] == pb.Value(string_value="split:all,num_files:1")
    assert inputs.parameters["input_base"] == pb.Value(string_value="/data/daily")  # not reported: kept
    assert inputs.parameter_values["input_config"] == struct_pb2.Value(string_value=resolved)
    assert inputs.parameter_values["span"] == struct_pb2.Value(number_value=2)
