"""A resolver that fails stops a local run with one line naming the component, instead of running on without it."""


import io

import pytest
from absl import logging as absl_logging
from tfx import v1 as tfx
from tfx.dsl.component.experimental.annotations import InputArtifact
from tfx.dsl.component.experimental.decorators import component
from tfx.dsl.components.common import resolver
from tfx.types import standard_artifacts

from pipeline.cli.console import ComponentProgress, ResolutionFailed


class BrokenStrategy(resolver.ResolverStrategy):
    def resolve_artifacts(self, store, input_dict):
        raise ValueError("the baseline query failed")


@component
def Consumer(model: InputArtifact[standard_artifacts.Model] = None) -> None:  # noqa: N802
    raise AssertionError("ran without its resolved input")


@pytest.mark.e2e  # runs a (two-component) pipeline with LocalDagRunner
def test_a_failing_resolver_stops_the_run_naming_the_component(tmp_path):
    broken = tfx.dsl.Resolver(strategy_class=BrokenStrategy,
                              model=tfx.dsl.Channel(type=standard_artifacts.Model)).with_id("baseline_resolver")
    consumer = Consumer(model=broken.outputs["model"])
    pipeline = tfx.dsl.Pipeline(
        pipeline_name="resolver-failure", pipeline_root=str(tmp_path / "root"), components=[broken, consumer],
        metadata_connection_config=tfx.orchestration.metadata.sqlite_metadata_connection_config(
            str(tmp_path / "metadata.sqlite")))
    progress = ComponentProgress(io.StringIO(), is_terminal=False)
    absl_logging.get_absl_logger().addHandler(progress)
    try:
        with pytest.raises(ResolutionFailed) as error:
            tfx.orchestration.LocalDagRunner().run(pipeline)
    finally:
        absl_logging.get_absl_logger().removeHandler(progress)
    message = str(error.value)
    assert message.startswith("baseline_resolver: its inputs could not be resolved: ") and "\n" not in message
    assert message.endswith("(ValueError: the baseline query failed)"), message
