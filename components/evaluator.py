"""Evaluator: TFX's Evaluator, never comparing a candidate with itself.

On Kubeflow the baseline is the newest blessed model (TFX's own resolver
strategy, the only kind KubeflowV2DagRunner compiles into a query); after an
unchanged retrain served from the cache, that is the candidate itself. This
executor then evaluates the candidate without a baseline, so the change gate
never passes a model for equalling itself; the absolute gates still apply.
Locally the resolver already excludes the candidate and this changes nothing.
"""

from __future__ import annotations

from typing import Any, Dict, List

from absl import logging
from tfx import types
from tfx.components.evaluator import component as tfx_evaluator_component
from tfx.components.evaluator import executor as tfx_evaluator
from tfx.dsl.components.base import executor_spec
from tfx.types import standard_component_specs

MODEL = standard_component_specs.MODEL_KEY
BASELINE_MODEL = standard_component_specs.BASELINE_MODEL_KEY


def without_self_baseline(input_dict: Dict[str, List[types.Artifact]]) -> Dict[str, List[types.Artifact]]:
    """``input_dict`` without a baseline model that is the candidate (the same artifact or folder)."""
    candidates = input_dict.get(MODEL, [])
    keep = [b for b in input_dict.get(BASELINE_MODEL, [])
            if not any(b.uri == c.uri or (b.id and b.id == c.id) for c in candidates)]
    if len(keep) == len(input_dict.get(BASELINE_MODEL, [])):
        return input_dict
    logging.info("Evaluator: the newest blessed model is this candidate (an unchanged retrain); "
                 "evaluating it without a baseline")
    return {**input_dict, BASELINE_MODEL: keep}


class Executor(tfx_evaluator.Executor):
    def Do(self, input_dict: Dict[str, List[types.Artifact]],
           output_dict: Dict[str, List[types.Artifact]],
           exec_properties: Dict[str, Any]) -> None:
        super().Do(without_self_baseline(input_dict), output_dict, exec_properties)


class Evaluator(tfx_evaluator_component.Evaluator):
    """Same inputs, outputs and parameters as TFX's Evaluator; the baseline is never the candidate."""

    EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(Executor)
