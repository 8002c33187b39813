"""AnomaliesGate: stops the run when ExampleValidator found anomalies.

ExampleValidator records anomalies but lets the pipeline go on; this small
component reads its output and fails with one ``split: column: problem`` line
per anomaly, so Transform (which depends on it) never sees bad data.
"""


import os
from typing import Dict, List

from tensorflow_data_validation.utils import anomalies_util
from tensorflow_metadata.proto.v0 import anomalies_pb2
from tfx.dsl.component.experimental.annotations import InputArtifact, Parameter
from tfx.dsl.component.experimental.decorators import component
from tfx.types import artifact_utils, standard_artifacts

ANOMALIES_FILE = "SchemaDiff.pb"  # what ExampleValidator writes under Split-<name>/


class DataAnomaliesError(RuntimeError):
    """The data does not match its schema."""


def describe_anomalies(anomalies: anomalies_pb2.Anomalies) -> List[str]:
    """One 'column: problem' line per anomalous column (and one for the dataset)."""
    lines = []
    for column, info in sorted(anomalies.anomaly_info.items()):
        problems = [(reason.description or reason.short_description).strip() for reason in info.reason]
        lines.append(f"{column}: {'; '.join(problems) or info.short_description}")
    if anomalies.HasField("dataset_anomaly_info"):
        info = anomalies.dataset_anomaly_info
        lines.append(f"(dataset): {'; '.join(r.description for r in info.reason)}")
    return lines


def anomalies_by_split(uri: str, split_names: List[str]) -> Dict[str, List[str]]:
    found = {}
    for split in split_names:
        path = os.path.join(uri, f"Split-{split}", ANOMALIES_FILE)
        lines = describe_anomalies(anomalies_util.load_anomalies_binary(path))
        if lines:
            found[split] = lines
    return found


@component
def AnomaliesGate(anomalies: InputArtifact[standard_artifacts.ExampleAnomalies],  # noqa: N802
                  code_version: Parameter[str]) -> None:
    del code_version  # only the cache key: the fingerprint of this module (pipeline.definition)
    found = anomalies_by_split(anomalies.uri, artifact_utils.decode_split_names(anomalies.split_names))
    if found:
        listed = " | ".join(f"{split} split: {line}" for split, lines in found.items() for line in lines)
        raise DataAnomaliesError(
            f"the data does not match its schema: {listed} "
            "(fix the data, or update the curated schema if the change is expected)")
