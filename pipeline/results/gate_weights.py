"""Reads what the gates of a gated model (OMoE, MMoE, PLE) learned: each task's mean weight per expert.

The Trainer writes ``gate_weights.json`` into its model run directory; the
record and its reading (collapse warnings, summary lines) are
``models.trainer_outputs.GateWeights``. Pure Python: the run summary and the
report read it without TF.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

from models.trainer_outputs import GATE_WEIGHTS_FILE, GateGroupWeights, GateWeights


def from_dict(raw: dict) -> GateWeights:
    return GateWeights(raw["architecture"], int(raw["eval_examples"]),
                       [GateGroupWeights(g["name"], list(g["experts"]), dict(g["tasks"])) for g in raw["groups"]])


def load(model_run_dir: str | Path) -> Optional[GateWeights]:
    """The recorded gate weights of a model run, or None for a model without gates."""
    path = Path(model_run_dir) / GATE_WEIGHTS_FILE
    if not path.is_file():
        return None
    return from_dict(json.loads(path.read_text(encoding="utf-8")))
