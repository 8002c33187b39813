"""What the Trainer leaves for the runner and the report: its progress line and the files beside the model.

The Trainer (``models.trainer``) logs ``TRAINER_PROGRESS`` and writes
``training.json`` (its account of the run), ``gate_weights.json`` (a gated model's ``GateWeights``) and
``task_weights.json`` (learned task weights) and ``warm_start.json`` (what it started from)
into its model run directory;
the runner's status line and ``pipeline.results`` read them. They live here,
with the code that writes them, so the Trainer's code depends on nothing of
the command line or the report.

``GateWeights``: the gates' mean softmax weights on the eval split, one row per
task and one column per expert of each expert group (an MMoE has one group; a
PLE one per level, where a task's gate sees only its own and the shared
experts: the others are ``None``). A gate has *collapsed* when every task puts
most of its weight on the same expert: the mixture then acts as one shared
bottom.

Pure Python: read without TensorFlow.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Optional

# The Trainer logs this once in a while (models.trainer); the runner's status line reads it.
TRAINER_PROGRESS = "Training progress: step %d of %d, loss %.6g"
# The Trainer's account of its run (steps, epochs, early stop, budget), in its model run dir.
TRAINING_RECORD = "training.json"
TASK_WEIGHTS_FILE = "task_weights.json"
GATE_WEIGHTS_FILE = "gate_weights.json"
# With training.warm_start: what the Trainer started from (models.warm_start.WarmStart), in its model run dir.
WARM_START_FILE = "warm_start.json"
# Every task putting at least this share of its mean gate weight on one expert is a collapse.
COLLAPSE_SHARE = 0.9


@dataclass(frozen=True)
class GateGroupWeights:
    name: str
    experts: list[str]
    tasks: dict[str, list[Optional[float]]]  # task -> mean weight per expert (None: not gated by it)

    def collapsed_onto(self, share: float = COLLAPSE_SHARE) -> Optional[str]:
        """The expert every task puts at least ``share`` of its weight on, if there is one."""
        for i, expert in enumerate(self.experts):
            weights = [row[i] for row in self.tasks.values()]
            if weights and all(w is not None and w >= share for w in weights):
                return expert
        return None


@dataclass(frozen=True)
class GateWeights:
    architecture: str
    eval_examples: int
    groups: list[GateGroupWeights]

    def to_json(self) -> str:
        return json.dumps({"architecture": self.architecture, "eval_examples": self.eval_examples,
                           "groups": [g.__dict__ for g in self.groups]}, indent=2) + "\n"

    def warnings(self, share: float = COLLAPSE_SHARE) -> list[str]:
        out = []
        for group in self.groups:
            expert = group.collapsed_onto(share)
            if expert is not None:
                out.append(f"gates collapsed ({group.name}): every task puts >= {share:.0%} of its gate "
                           f"weight on {expert}, so the experts act as one shared bottom")
        return out

    def summary_lines(self, top: int = 3) -> list[str]:
        """Per group and task, the experts with the largest mean weight."""
        lines = [f"Gate weights on the eval split ({self.architecture}, {self.eval_examples} examples; "
                 f"top {top} experts per task):"]
        for group in self.groups:
            prefix = f"{group.name}: " if len(self.groups) > 1 else ""
            for task, row in group.tasks.items():
                ranked = sorted(((w, e) for e, w in zip(group.experts, row) if w is not None), reverse=True)
                shown = ", ".join(f"{e} {w:.2f}" for w, e in ranked[:top])
                lines.append(f"  {prefix}{task}: {shown}")
        lines += [f"warning: {w}" for w in self.warnings()]
        return lines
