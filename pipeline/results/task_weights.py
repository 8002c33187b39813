"""The task weights learned in training (``training.task_weighting: uncertainty``), as saved with the model run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

from models.trainer_outputs import TASK_WEIGHTS_FILE  # what models.task_weighting writes


def load(model_run_dir: str | Path) -> Optional[dict[str, dict[str, float]]]:
    """Task -> {"weight", "log_variance"}, or None when the weights were not learned."""
    path = Path(model_run_dir) / TASK_WEIGHTS_FILE
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))["tasks"]


def summary_line(weights: dict[str, dict[str, float]]) -> str:
    shown = ", ".join(f"{task} {v['weight']:.3g} (log variance {v['log_variance']:+.2f})"
                      for task, v in weights.items())
    return f"Learned task weights (uncertainty): {shown}"
