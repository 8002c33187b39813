"""Deployment arguments that cannot work are refused up front, with the reason."""

import pytest

from config import ConfigError, build_config
from pipeline.preflight.deploy_args import (DeployArgError, check_beam_args, check_cloud_uri, check_image,
                                  runner_name, with_project_package)


@pytest.mark.parametrize("image", [
    "example.com/mtl:1", "gcr.io/my-project/mtl-pipeline:1.0.0", "mtl-pipeline:latest",
    "localhost:5000/team/mtl", "us-docker.pkg.dev/p/repo/mtl@sha256:" + "a" * 64,
])
def test_valid_images_pass(image):
    assert check_image(image) == image


@pytest.mark.parametrize("image, reason", [
    ("", "empty"), ("   ", "empty"),
    ("./mtl:1", "local path"), ("/opt/images/mtl", "local path"),
    ("Example/MTL:1", "not a valid"), ("mtl:1 extra", "not a valid"), ("mtl:", "not a valid"),
])
def test_unusable_images_fail_with_reason(image, reason):
    with pytest.raises(DeployArgError, match=reason):
        check_image(image)


def test_cloud_uri_accepts_gcs_and_drops_trailing_slash():
    assert check_cloud_uri("gs://bucket/mtl/", "--pipeline-root") == "gs://bucket/mtl"


@pytest.mark.parametrize("value, reason", [
    ("", "empty"), ("/tmp/root", "not a cloud location"), ("outputs", "not a cloud location"),
    ("file:///tmp/root", "not a cloud location"), ("gs://", "no bucket"), ("gs:///x", "no bucket"),
])
def test_cloud_uri_rejects_local_and_empty(value, reason):
    with pytest.raises(DeployArgError, match=reason) as info:
        check_cloud_uri(value, "--pipeline-root")
    assert "--pipeline-root" in str(info.value)


@pytest.mark.parametrize("args", [
    [],
    ["--direct_running_mode=multi_processing", "--direct_num_workers=2"],
    ["--direct_running_mode", "multi_threading"],
    ["--runner=DataflowRunner", "--project=p", "--region=europe-west1", "--temp_location=gs://b/tmp"],
    ["--runner", "dataflow", "--project", "p", "--temp_location", "gs://b/tmp"],
    ["--runner=FlinkRunner", "--flink_master=localhost:8081"],
    ["--runner=SparkRunner"], ["--runner=PortableRunner", "--job_endpoint=localhost:8099"],
])
def test_workable_beam_args_pass(args):
    assert check_beam_args(args) == args


@pytest.mark.parametrize("args, reason", [
    (["--runner=NoSuchRunner"], "unknown Beam runner 'NoSuchRunner'"),
    (["--runner=DataflowRunner", "--temp_location=gs://b/tmp"], "needs --project"),
    (["--runner=DataflowRunner", "--project=p"], "needs --temp_location=gs://"),
    (["--runner=DataflowRunner", "--project=p", "--temp_location=/tmp"], "needs --temp_location=gs://"),
    (["--direct_running_mode=multiprocessing"], "direct_running_mode=multiprocessing is unknown"),
    (["--direct_num_workers=0"], "positive whole number"),
    (["--direct_num_workers=two"], "positive whole number"),
    (["--direct_num_workers=2", "multi_processing"], "'multi_processing' is not a --flag"),
    ([""], "empty"),
])
def test_unworkable_beam_args_fail_with_reason(args, reason):
    with pytest.raises(DeployArgError, match=reason):
        check_beam_args(args)


def test_config_rejects_bad_beam_args_from_file_or_flags_alike():
    with pytest.raises(ConfigError, match="beam_args: unknown Beam runner"):
        build_config({"beam_args": ["--runner=Nope"]})


@pytest.mark.parametrize("given, expected", [
    (None, "direct"), ("DirectRunner", "direct"), ("dataflow", "dataflow"), ("FlinkRunner", "flink"),
])
def test_runner_names_are_normalized(given, expected):
    assert runner_name(given) == expected


def test_project_package_added_only_when_beam_args_say_nothing_about_code():
    assert with_project_package([], "/p/setup.py") == []
    assert with_project_package(["--direct_num_workers=2"], "/p/setup.py") == [
        "--direct_num_workers=2", "--setup_file=/p/setup.py"]
    own = ["--runner=DataflowRunner", "--sdk_container_image=gcr.io/p/mtl:1"]
    assert with_project_package(own, "/p/setup.py") == own
    assert with_project_package(["--extra_package=/w/x.whl"], "/p/setup.py") == ["--extra_package=/w/x.whl"]
