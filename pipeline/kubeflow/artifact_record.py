"""What the launcher's steps produced under one root: the stand-in for ML Metadata.

Resolver tasks query it with the spec's own artifact filter, and a step with
caching enabled reuses the outputs of an earlier identical execution in it.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Optional

from google.protobuf import json_format
from kfp.pipeline_spec import pipeline_spec_pb2 as pb

from pipeline.kubeflow.spec import LaunchError, schema_title

RECORD_FILE = "launcher_record.json"


class ArtifactRecord:
    """What the launcher's steps produced under one root, oldest first (a JSON file).

    ``artifacts``: every output artifact with its run, task and state, what the
    resolver queries search; ``executions``: each executed step's cache key and
    outputs, so a later identical step with caching enabled reuses them.
    """

    def __init__(self, root: Path):
        self.path = root / RECORD_FILE
        saved = (json.loads(self.path.read_text(encoding="utf-8")) if self.path.is_file()
                 else {"artifacts": [], "executions": []})
        self.artifacts: list[dict] = saved["artifacts"]
        self.executions: list[dict] = saved["executions"]

    def add_execution(self, run_id: str, task: str, cache_key: str,
                      outputs: dict[str, list[pb.RuntimeArtifact]]) -> None:
        as_dicts = {k: [json_format.MessageToDict(a) for a in v] for k, v in outputs.items()}
        self.executions.append({"run_id": run_id, "task": task, "cache_key": cache_key,
                                "outputs": as_dicts})
        for key, artifacts in as_dicts.items():
            self.artifacts.extend({"run_id": run_id, "task": task, "key": key, "state": "LIVE",
                                   "artifact": a} for a in artifacts)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"artifacts": self.artifacts, "executions": self.executions},
                                  indent=1), encoding="utf-8")
        os.replace(tmp, self.path)

    def run_ids(self) -> set[str]:
        return {e["run_id"] for e in self.executions}

    def cached(self, cache_key: str) -> Optional[tuple[str, dict[str, list[pb.RuntimeArtifact]]]]:
        """(run id, outputs) of the newest execution with this cache key, if any."""
        for execution in reversed(self.executions):
            if execution["cache_key"] == cache_key:
                return execution["run_id"], {
                    k: [json_format.ParseDict(a, pb.RuntimeArtifact()) for a in v]
                    for k, v in execution["outputs"].items()}
        return None

    def query(self, artifact_filter: str) -> list[pb.RuntimeArtifact]:
        """The newest artifact that matches every clause of the filter (none: an empty list)."""
        clauses = [_parse_clause(c, artifact_filter) for c in artifact_filter.split(" AND ")]
        for entry in reversed(self.artifacts):
            artifact = json_format.ParseDict(entry["artifact"], pb.RuntimeArtifact())
            if all(_matches(artifact, entry, key, value) for key, value in clauses):
                return [artifact]
        return []


_CLAUSE = re.compile(r'^\s*([A-Za-z_][\w.]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s"]+))\s*$')


def _parse_clause(clause: str, whole: str) -> tuple[str, str]:
    """'key=value' or 'key="value"'; anything else is a filter this launcher cannot answer."""
    match = _CLAUSE.match(clause)
    if not match:
        raise LaunchError(f"resolver filter {whole!r}: cannot evaluate clause {clause!r} "
                          "(supported: clauses key=value joined by AND)")
    key, quoted, bare = match.groups()
    if not (key in ("schema_title", "state", "name")
            or re.fullmatch(r"metadata\.\w+\.(number|string|bool)_value", key)):
        raise LaunchError(f"resolver filter {whole!r}: unsupported field {key!r}")
    return key, quoted if quoted is not None else bare


def _matches(artifact: pb.RuntimeArtifact, entry: dict, key: str, value: str) -> bool:
    if key == "schema_title":
        return schema_title(artifact.type) == value
    if key == "state":
        return entry["state"] == value
    if key == "name":
        return artifact.name == value
    _, field_name, kind = key.split(".")
    found = artifact.metadata.fields.get(field_name)
    if found is None or found.WhichOneof("kind") != kind:
        return False
    if kind == "number_value":
        return found.number_value == float(value)
    if kind == "bool_value":
        return found.bool_value == (value.lower() == "true")
    return found.string_value == value
