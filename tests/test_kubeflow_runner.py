"""The Kubeflow runner compiles the real pipeline into a KFP v2 spec, read back with KFP's protobufs."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest
import yaml
from google.protobuf import json_format
from kfp.pipeline_spec import pipeline_spec_pb2

from conftest import REPO, command
from pipeline.kubeflow import compiler
from config import TrainingConfig, load_config_file

IMAGE = "example.com/mtl:1"
PIPELINE_ROOT = "gs://test-bucket/mtl"
BEAM_ARGS = ["--direct_running_mode=multi_processing", "--direct_num_workers=2"]
CONFIG = {"pipeline_name": "mtl-kfp-test", "data": {"num_examples": 5000, "num_shards": 5},
          "training": {"train_steps": 123}, "tasks": [{"name": "y1"}, {"name": "y2"}]}

# Each component and the tasks whose outputs it reads. KubeflowV2DagRunner
# splits the baseline resolver into a ModelBlessing query and a Model query.
BLESSING_RESOLVER = "baseline_model_resolver-model-blessing-resolver"
MODEL_RESOLVER = "baseline_model_resolver-model-resolver"
SERVED_RESOLVER = "served_model_resolver"  # the newest PushedModel: one query
EXPECTED_DAG = {
    "SyntheticExampleGen": set(),
    "StatisticsGen": {"SyntheticExampleGen"},
    "SchemaGen": {"StatisticsGen"},
    "ExampleValidator": {"StatisticsGen", "SchemaGen"},
    "AnomaliesGate": {"ExampleValidator"},
    "DataChoices": {"SyntheticExampleGen"},
    "ComponentConfigs": {"StatisticsGen"},
    SERVED_RESOLVER: set(),
    "DriftCheck": {"StatisticsGen", SERVED_RESOLVER},
    "Transform": {"SyntheticExampleGen", "SchemaGen"},
    "Trainer": {"SyntheticExampleGen", "Transform", "SchemaGen"},  # raw examples, Transform's graph
    BLESSING_RESOLVER: set(),
    MODEL_RESOLVER: {BLESSING_RESOLVER},
    "Evaluator": {"SyntheticExampleGen", "Trainer", MODEL_RESOLVER},
    "Pusher": {"Trainer", "Evaluator"},
}
RESOLVERS = {BLESSING_RESOLVER, MODEL_RESOLVER, SERVED_RESOLVER}
# Dependencies without an artifact: the anomalies gate must pass first, and the drift check;
# a run-time parameter's producer (DataChoices, ComponentConfigs) runs before the tasks that read it.
ORDER_ONLY = {"DataChoices": {"AnomaliesGate", "DriftCheck"}, "DriftCheck": {"AnomaliesGate"},
              "ComponentConfigs": {"DataChoices"},
              "Transform": {"DriftCheck", "DataChoices"}, "Trainer": {"ComponentConfigs"},
              "Evaluator": {"ComponentConfigs"}, "Pusher": {"ComponentConfigs"}}
# Parameters decided from the data while the pipeline runs: (reader, parameter) -> (producer, its output).
RUN_TIME = {("Transform", "custom_config"): ("DataChoices", "transform_config"),
            ("ComponentConfigs", "choices"): ("DataChoices", "choices"),
            ("Trainer", "custom_config"): ("ComponentConfigs", "trainer_config"),
            ("Evaluator", "eval_config"): ("ComponentConfigs", "eval_config"),
            ("Pusher", "custom_config"): ("ComponentConfigs", "pusher_config")}


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    """(PipelineJob, its PipelineSpec, the JSON text, seconds) from one real compile."""
    folder = tmp_path_factory.mktemp("kfp")
    config_file = folder / "config.yaml"
    config_file.write_text(yaml.safe_dump(CONFIG))
    output = folder / "pipeline.json"
    started = time.monotonic()
    proc = subprocess.run(
        [*command("mtl-kubeflow"), "--config", str(config_file),
         "--output", str(output), "--image", IMAGE, "--pipeline-root", PIPELINE_ROOT,
         "--beam-args=" + " ".join(BEAM_ARGS)],
        cwd=REPO, capture_output=True, text=True, timeout=300)
    seconds = time.monotonic() - started
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert f"Wrote {output}" in proc.stdout
    text = output.read_text()
    job = json_format.Parse(text, pipeline_spec_pb2.PipelineJob())
    spec = json_format.ParseDict(json_format.MessageToDict(job.pipeline_spec),
                                 pipeline_spec_pb2.PipelineSpec())
    return job, spec, text, seconds


def _executor(spec, task_name: str):
    # The spec keeps its deployment config as a Struct; read it with its own message.
    deployment = json_format.ParseDict(json_format.MessageToDict(spec.deployment_spec),
                                       pipeline_spec_pb2.PipelineDeploymentConfig())
    component = spec.components[spec.root.dag.tasks[task_name].component_ref.name]
    return deployment.executors[component.executor_label]


def _constant(task, name: str):
    return task.inputs.parameters[name].runtime_value.constant_value.string_value


@pytest.mark.e2e
def test_every_component_is_a_task_of_the_pipeline(compiled):
    _, spec, _, _ = compiled
    assert set(spec.root.dag.tasks) == set(EXPECTED_DAG)
    assert spec.pipeline_info.name == CONFIG["pipeline_name"]


@pytest.mark.e2e
def test_dependencies_form_the_expected_dag(compiled):
    _, spec, _, _ = compiled
    for name, task in spec.root.dag.tasks.items():
        producers = {a.task_output_artifact.producer_task for a in task.inputs.artifacts.values()
                     if a.HasField("task_output_artifact")}
        assert producers == EXPECTED_DAG[name], name
        order_only = ORDER_ONLY.get(name, set())
        assert order_only <= set(task.dependent_tasks), name
        assert set(task.dependent_tasks) <= EXPECTED_DAG[name] | order_only, name


@pytest.mark.e2e
def test_each_executor_runs_in_the_image_with_the_beam_args(compiled):
    _, spec, _, _ = compiled
    for name in EXPECTED_DAG:
        executor = _executor(spec, name)
        if name in RESOLVERS:
            assert executor.HasField("resolver"), name  # metadata queries, no container
            continue
        container = executor.container
        assert container.image == IMAGE, name
        args = list(container.args)
        # The project inside the image is what Beam ships to remote workers.
        setup_file = f"--setup_file={compiler.IMAGE_PROJECT_ROOT}/setup.py"
        assert args[-3:] == [*BEAM_ARGS, setup_file], name


@pytest.mark.e2e
def test_pipeline_root_and_serving_dir_are_carried(compiled):
    job, spec, _, _ = compiled
    assert job.runtime_config.gcs_output_directory == PIPELINE_ROOT
    push_destination = json.loads(_constant(spec.root.dag.tasks["Pusher"], "push_destination"))
    assert push_destination["filesystem"]["base_directory"] == f"{PIPELINE_ROOT}/serving"


@pytest.mark.e2e
def test_module_code_is_named_by_dotted_paths_into_the_installed_package(compiled):
    _, spec, text, _ = compiled
    tasks = spec.root.dag.tasks
    assert _constant(tasks["Transform"], "preprocessing_fn") == "models.preprocessing.preprocessing_fn"
    assert _constant(tasks["Trainer"], "run_fn") == "models.trainer.run_fn"
    assert "--executor_class_path" in _executor(spec, "SyntheticExampleGen").container.args
    assert "components.synthetic_example_gen.executor.Executor" in _executor(
        spec, "SyntheticExampleGen").container.args
    assert str(REPO) not in text  # nothing points at this machine's checkout


@pytest.mark.e2e
def test_the_configuration_file_reaches_the_components(compiled):
    _, spec, _, _ = compiled
    tasks = spec.root.dag.tasks
    data = json.loads(_constant(tasks["SyntheticExampleGen"], "data_config"))
    assert (data["num_examples"], data["num_shards"]) == (5000, 5)
    train_args = json.loads(_constant(tasks["Trainer"], "train_args"))
    assert train_args["num_steps"] == 123
    assert json.loads(_constant(tasks["ComponentConfigs"], "pipeline_config"))["training"]["train_steps"] == 123
    # DataChoices (and through it Transform) is given no training setting: changing one reruns neither.
    data_view = json.loads(_constant(tasks["DataChoices"], "data_config"))
    assert data_view["training"] == json.loads(TrainingConfig().model_dump_json())


@pytest.mark.e2e
def test_what_the_data_decides_reaches_the_components_at_run_time(compiled):
    _, spec, _, _ = compiled
    for (name, parameter), (producer, output) in RUN_TIME.items():
        source = spec.root.dag.tasks[name].inputs.parameters[parameter].task_output_parameter
        assert (source.producer_task, source.output_parameter_key) == (producer, output), name
    for producer in ("DataChoices", "ComponentConfigs"):
        produced = spec.components[spec.root.dag.tasks[producer].component_ref.name].output_definitions
        read = {output for p, output in RUN_TIME.values() if p == producer}
        assert read <= set(produced.parameters), producer


def test_a_multiclass_config_compiles_without_its_classes(tmp_path, capsys):
    penguins = load_config_file(REPO / "data" / "penguins.yaml")
    penguins["data"]["path"] = "gs://bucket/penguins.csv"
    (tmp_path / "penguins.yaml").write_text(yaml.safe_dump(penguins))
    assert _compile(tmp_path, "--config", str(tmp_path / "penguins.yaml")) == 0, capsys.readouterr().err
    job = json.loads((tmp_path / "p.json").read_text())
    example_gen = job["pipelineSpec"]["root"]["dag"]["tasks"]["CsvExampleGen"]
    assert example_gen["inputs"]["parameters"]["input_base"]["runtimeValue"]["constantValue"] == {
        "stringValue": "gs://bucket"}  # the bucket, not this machine's data folder


@pytest.mark.e2e
def test_yaml_output_is_the_bare_spec_with_the_pipeline_root(compiled, tmp_path):
    job, _, _, _ = compiled
    text = compiler.render(json_format.MessageToDict(job), tmp_path / "p.yaml")
    spec = json_format.ParseDict(yaml.safe_load(text), pipeline_spec_pb2.PipelineSpec())
    assert spec.default_pipeline_root == PIPELINE_ROOT
    assert set(spec.root.dag.tasks) == set(EXPECTED_DAG)


def _compile(tmp_path, *args):
    return compiler.main(["--output", str(tmp_path / "p.json"), *args])


@pytest.mark.parametrize("args, message", [
    (["--image", ""], "--image is empty"),
    (["--image", "./images/mtl"], "looks like a local path"),
    (["--pipeline-root", "/tmp/root"], "--pipeline-root '/tmp/root' is not a cloud location"),
    (["--pipeline-root", ""], "--pipeline-root is empty"),
    (["--serving-dir", "serving"], "--serving-dir 'serving' is not a cloud location"),
    (["--beam-args=--runner=Sparkle"], "unknown Beam runner 'Sparkle'"),
    (["--beam-args=--runner=DataflowRunner --project=p --temp_location=/tmp/t"],
     "needs --temp_location=gs://"),
    (["--beam-args=--direct_num_workers='2"], "--beam-args cannot be split"),
    (["--config", str(REPO / "data" / "sample.yaml")],
     f"data.path {str(REPO / 'data' / 'sample.csv')!r} is on this machine, which the pipeline's pods "
     "(pipeline root gs://sample-three-tasks/root) cannot read: copy it to the cloud and set data.path to "
     "its gs:// URI, e.g. gs://my-bucket/data/sample.csv"),
])
def test_unworkable_arguments_fail_before_compiling_and_keep_the_old_output(
        tmp_path, capsys, args, message):
    previous = tmp_path / "p.json"
    previous.write_text("previous spec")
    assert _compile(tmp_path, *args) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1, err
    assert previous.read_text() == "previous spec"


@pytest.mark.parametrize("output, message", [
    ("p.txt", "must end in .json"), ("missing/p.json", "does not exist"),
])
def test_unusable_output_path_fails_before_compiling(tmp_path, capsys, output, message):
    assert compiler.main(["--output", str(tmp_path / output)]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.e2e
def test_vertex_ai_sdk_loads_the_json_without_submitting(compiled, tmp_path):
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import aiplatform

    _, spec, text, _ = compiled
    template = tmp_path / "pipeline.json"
    template.write_text(text)
    job = aiplatform.PipelineJob(
        display_name="dry", template_path=str(template), project="test-project",
        location="us-central1", credentials=AnonymousCredentials(), enable_caching=False)
    loaded = job._gca_resource  # the request Vertex AI would receive; nothing is sent
    assert loaded.runtime_config.gcs_output_directory == PIPELINE_ROOT
    assert set(loaded.pipeline_spec["root"]["dag"]["tasks"]) == set(EXPECTED_DAG)
    assert loaded.pipeline_spec["pipelineInfo"]["name"] == CONFIG["pipeline_name"]
    # enable_caching=False reached every task: the SDK read and rewrote the spec.
    assert all(not task["cachingOptions"].get("enableCache", False)
               for task in loaded.pipeline_spec["root"]["dag"]["tasks"].values())


@pytest.mark.e2e
def test_kfp_client_library_loads_the_yaml(compiled, tmp_path):
    from kfp import components

    job, _, _, _ = compiled
    output = tmp_path / "pipeline.yaml"
    output.write_text(compiler.render(json_format.MessageToDict(job), output))
    component = components.load_component_from_file(str(output))
    assert component.name == CONFIG["pipeline_name"]
    loaded = component.pipeline_spec
    assert set(loaded.root.dag.tasks) == set(EXPECTED_DAG)
    assert loaded.default_pipeline_root == PIPELINE_ROOT


def test_a_run_time_parameter_names_its_producer_task_and_waits_for_it():
    """tfx 1.16 names the producer '<id>_task', which no DAG has; Kubeflow would refuse the spec."""
    output = {"taskOutputParameter": {"producerTask": "DataChoices_task", "outputParameterKey": "x"}}
    job = {"pipelineSpec": {"root": {"dag": {"tasks": {
        "DataChoices": {}, "Transform": {"inputs": {"parameters": {"custom_config": output}},
                                         "dependentTasks": ["SchemaGen"]}}}}}}
    transform = compiler.name_parameter_producers(job)["pipelineSpec"]["root"]["dag"]["tasks"]["Transform"]
    assert transform["inputs"]["parameters"]["custom_config"]["taskOutputParameter"]["producerTask"] == "DataChoices"
    assert transform["dependentTasks"] == ["DataChoices", "SchemaGen"]
