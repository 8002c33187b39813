"""Each project module is in the cache key of exactly the components that run it.

In a copy of the project's packages, each module in turn gets a comment; the
code fingerprints of every component are computed in a fresh process on the
copy (as a run computes them) and must change for exactly the components
listed below.
The lists are written from what each component runs (its entry module and
what that runs), not from the import walk being tested.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import REPO
from config import build_config
from pipeline.definition import NOT_RUN, code_modules

PACKAGES = ("config", "pipeline", "models", "components")
# The configuration as the components read it (config.data_decisions: DataChoices' own).
CONFIG = {"config", "config.errors", "config.names", "config.strict", "config.beam_args", "config.architectures",
          "config.tuning", "config.data", "config.tasks", "config.task_kinds", "config.evaluation",
          "config.training", "config.drift", "config.pipeline_config", "config.loading"}
# The task types; a regression task's Keras metrics (models.metrics) are built where a model is trained.
TASKS = {"models", "models.tasks", "models.tasks.base", "models.tasks.regression", "models.tasks.binary",
         "models.tasks.multiclass", "models.tasks.count", "models.metrics"}
SYNTHETIC = {"components", "components.synthetic_data", "components.synthetic_example_gen",
             "components.synthetic_example_gen.executor", "components.synthetic_example_gen.encoding"}
DATA_CHOICES = {"components", "components.data_choices_component", "config.data_decisions"} | CONFIG
TRAINER = {"models.trainer", "models.trainer_outputs", "models.builder", "models.blocks", "models.budget",
           "models.callbacks", "models.features", "models.fit_steps", "models.gates", "models.input_pipeline",
           "models.mmoe", "models.ple", "models.shared_bottom", "models.numeric_embeddings",
           "models.request_checks", "models.signatures", "models.task_weighting", "models.warm_start",
           "models.instances_signature", "models.ensemble"} | CONFIG | TASKS
RUNS = {
    "SyntheticExampleGen": SYNTHETIC,
    # The CSV reader writes examples with the synthetic generator's encoder.
    "CsvExampleGen": SYNTHETIC | {"components.csv_example_gen", "components.csv_example_gen.executor",
                                  "components.csv_example_gen.arrow_reader", "components.csv_example_gen.header",
                                  "components.span_properties"},
    # TFX's reader; the project's executor only stamps each artifact's span.
    "ImportExampleGen": {"components", "components.span_properties"},
    "AnomaliesGate": {"components", "components.anomalies_gate"},
    "DriftCheck": {"components", "components.drift_check", "components.data_drift", "components.served_statistics"},
    "DataChoices": DATA_CHOICES,
    "ComponentConfigs": DATA_CHOICES | {"components.component_configs", "components.served_statistics",
                                        "components.eval_config", "models.features"} | TASKS,
    # Features and labels only: neither the model's configuration nor the Keras metrics.
    "Transform": {"models.preprocessing", "models.piecewise_linear", "models.features"} | (CONFIG | TASKS) - {
        "config.architectures", "config.tuning", "models.metrics"},
    "Trainer": TRAINER,
    "Tuner": TRAINER | {"models.tuning"},
    # Its executor, and what TFMA loads by name: the extractors (module_path) and a regression task's metrics.
    "Evaluator": {"components", "components.evaluator", "models.slice_groups", "models.tfma_fixes",
                  "models.regression_metrics"} | TASKS | CONFIG,
    "Pusher": {"components", "components.atomic_pusher", "components.atomic_pusher.executor",
               "components.served_statistics"},
}

# Run in a fresh process on the copy: each file in turn gets a comment, then every component's
# fingerprint is computed from the files on disk (imports only locate the modules, so one
# process serves every edit), and the file is restored.
FINGERPRINTS_PER_EDIT = """
import functools, json, sys
from pathlib import Path
from pipeline import fingerprint
from pipeline.fingerprint import code_fingerprint
fingerprint._source = functools.lru_cache(maxsize=None)(fingerprint._source)  # where a module is: no edit moves it
spec, files = json.loads(sys.argv[1]), json.loads(sys.argv[2])
fingerprints = lambda: {c: code_fingerprint(*modules, exclude=exclude) for c, (modules, exclude) in spec.items()}
result = {"": fingerprints()}
for name in files:
    path = Path(name)
    original = path.read_bytes()
    path.write_bytes(original + b"\\n# an edit\\n")
    try:
        result[name] = fingerprints()
    finally:
        path.write_bytes(original)
print(json.dumps(result))
"""


def _module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_editing_a_module_changes_the_key_of_exactly_the_components_that_run_it(tmp_path):
    for package in PACKAGES:
        shutil.copytree(REPO / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    spec = {component: [list(modules), list(NOT_RUN.get(component, ()))]
            for component, modules in code_modules(build_config()).items()}
    assert set(spec) == set(RUNS)
    files = sorted(str(p) for package in PACKAGES for p in (tmp_path / package).rglob("*.py"))
    proc = subprocess.run([sys.executable, "-c", FINGERPRINTS_PER_EDIT, json.dumps(spec), json.dumps(files)],
                          cwd=tmp_path, capture_output=True, text=True, env={"PYTHONPATH": str(tmp_path)},
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    before = result.pop("")
    assert len(result) == len(files) > 80
    wrong = {}
    for name, after in result.items():
        module = _module_name(Path(name), tmp_path)
        changed = {c for c in before if after[c] != before[c]}
        expected = {c for c, modules in RUNS.items() if module in modules}
        if changed != expected:
            wrong[module] = {"changed": sorted(changed), "expected": sorted(expected)}
    assert not wrong, "\n".join(f"{m}: {w}" for m, w in sorted(wrong.items()))
