"""ComponentConfigs: the whole configuration, with DataChoices' decisions made, for the components after Transform.

DataChoices decides from the data with only the data part of the configuration
(so that Transform stays cached across training changes). This step applies
those decisions to the whole configuration and hands, as run-time parameters,
the Tuner's and the Trainer's ``custom_config``, the Evaluator's TFMA
EvalConfig (its per-class metrics need the classes) and the Pusher's
``custom_config`` (the statistics it stores beside each pushed model, the
baseline of later drift checks). It reads no data.
"""

import json

from google.protobuf import json_format
from typing import TypedDict

from tfx.dsl.component.experimental.annotations import InputArtifact, Parameter
from tfx.dsl.component.experimental.decorators import component
from tfx.types import standard_artifacts

from components.data_choices_component import choices_json
from components.served_statistics import STATISTICS_URI  # the Pusher's custom_config key
from config import PipelineConfig
from config.data_decisions import TransformChoice, apply_decisions



class Configs(TypedDict):
    """ComponentConfigs' outputs: run-time parameters of the components downstream (JSON text)."""

    trainer_config: str
    eval_config: str
    pusher_config: str
    run_config: str  # the whole decided configuration and each numeric feature's choice, for the run's record


@component
def ComponentConfigs(statistics: InputArtifact[standard_artifacts.ExampleStatistics],  # noqa: N802
                     pipeline_config: Parameter[str],
                     choices: Parameter[str],
                     trainer_extra: Parameter[str],
                     code_version: Parameter[str],
                     ) -> Configs:
    """``choices``: DataChoices' output of that name (set at run time);
    ``trainer_extra``: JSON keys added to the Trainer's custom_config (its code version, for its cache);
    ``code_version``: only this component's cache key, the fingerprint of this module (pipeline.definition)."""
    del code_version
    from components.eval_config import build_eval_config  # TFMA: imported where it is needed

    decided = json.loads(choices)
    config = apply_decisions(PipelineConfig.model_validate(json.loads(pipeline_config)),
                             PipelineConfig.model_validate(decided["pipeline_config"]))
    dumps = lambda value: json.dumps(value, sort_keys=True)  # noqa: E731  (the same decisions, the same text)
    return {
        "trainer_config": dumps({**config.to_custom_config(), **json.loads(trainer_extra)}),
        "eval_config": json_format.MessageToJson(build_eval_config(config), sort_keys=True),
        "pusher_config": dumps({STATISTICS_URI: statistics.uri}),
        "run_config": choices_json(config, [TransformChoice(*c) for c in decided["transforms"]]),
    }
