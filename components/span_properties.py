"""The span and version an ExampleGen read, as the Examples type's own properties.

TFX 1.16's ExampleGen driver records them as custom properties only; TFX's
span resolver functions (``rolling_range``, ``LatestSpan``) read the
properties of the Examples type, and would see every artifact as span 0.
Each file ExampleGen's executor calls ``stamp_span`` after writing.
"""

from __future__ import annotations

from typing import Any

from tfx import types
from tfx.components.example_gen import utils as example_gen_utils
from tfx.components.example_gen.import_example_gen import executor as import_executor
from tfx.types import artifact_utils, standard_component_specs


def stamp_span(output_dict: dict[str, list[types.Artifact]], exec_properties: dict[str, Any]) -> None:
    examples = artifact_utils.get_single_instance(output_dict[standard_component_specs.EXAMPLES_KEY])
    examples.span = int(exec_properties.get(example_gen_utils.SPAN_PROPERTY_NAME) or 0)
    examples.version = int(exec_properties.get(example_gen_utils.VERSION_PROPERTY_NAME) or 0)


class ImportExecutor(import_executor.Executor):
    """TFX's ImportExampleGen executor, with the span stamped (give it as ``custom_executor_spec``)."""

    def Do(self, input_dict, output_dict, exec_properties) -> None:  # noqa: N802  (TFX's name)
        super().Do(input_dict, output_dict, exec_properties)
        stamp_span(output_dict, exec_properties)
