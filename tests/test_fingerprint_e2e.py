"""Editing one component's code reruns that component, and reuses the others from the cache.

A real pipeline run (LocalDagRunner, small synthetic data) from a copy of the
project, rerun after a comment is added to the Trainer's module, then to
Transform's, and to code no component runs (the command line, preflight, the
report).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, TINY_CONFIG, CliRun

pytestmark = [pytest.mark.e2e, pytest.mark.slow]  # three runs of the pipeline: minutes

COPIED = ("config", "pipeline", "models", "components", "setup.py", "pyproject.toml")


def _copy_project(root: Path) -> Path:
    for name in COPIED:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, root / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, root / name)
    return root


def _run(project: Path, output_dir: Path, config: Path) -> CliRun:
    # Run as a script from the copy: the runner puts the copy's root first on sys.path.
    proc = subprocess.run([sys.executable, str(project / "pipeline" / "local_runner.py"),
                           "--output-dir", str(output_dir), "--config", str(config)],
                          cwd=project, capture_output=True, text=True, timeout=1800)
    run = CliRun(proc.returncode, proc.stdout, proc.stderr, output_dir)
    assert run.returncode == 0, f"{run.stdout}\n{run.stderr}"
    return run


def _add_comment(path: Path) -> None:
    with open(path, "a", encoding="utf-8") as f:
        f.write("\n# an edit that changes no behaviour\n")


def _tiny_config(folder: Path) -> Path:
    # No drift check, no confidence intervals: the least work that runs every cached component.
    config = folder / "config.yaml"
    config.write_text(TINY_CONFIG.format(train_steps=20)
                      + "evaluation: {confidence_intervals: none}\ndrift: {enabled: false}\n")
    return config


def test_each_component_reruns_for_its_own_code_only(tmp_path):
    project = _copy_project(tmp_path / "project")
    config = _tiny_config(tmp_path)
    out = tmp_path / "out"
    first = _run(project, out, config).component_lines()
    assert first["Transform"] == "ran" and first["Trainer"] == "ran"

    _add_comment(project / "models" / "trainer.py")
    for not_run in ("pipeline/cli/status_line.py", "pipeline/preflight/deploy_args.py", "pipeline/report/writer.py"):
        _add_comment(project / not_run)
    after_trainer_edit = _run(project, out, config).component_lines()
    assert after_trainer_edit["Trainer"] == "ran"
    assert after_trainer_edit["ComponentConfigs"] == "ran"  # it hands the Trainer its code version
    assert after_trainer_edit["DataChoices"] == "cached"  # and this one hands Transform its own
    assert after_trainer_edit["Transform"] == "cached"
    assert after_trainer_edit["AnomaliesGate"] == "cached"

    _add_comment(project / "models" / "preprocessing.py")
    after_preprocessing_edit = _run(project, out, config).component_lines()
    assert after_preprocessing_edit["Transform"] == "ran"
    assert after_preprocessing_edit["Trainer"] == "ran"  # its input, Transform's output, is new
    assert after_preprocessing_edit["AnomaliesGate"] == "cached"
    assert after_preprocessing_edit["StatisticsGen"] == "cached"


def test_editing_the_generator_reruns_the_example_gen_and_everything_after_it(tmp_path):
    project = _copy_project(tmp_path / "project")
    config = _tiny_config(tmp_path)
    out = tmp_path / "out"
    first = _run(project, out, config).component_lines()
    assert first["SyntheticExampleGen"] == "ran"
    _add_comment(project / "components" / "synthetic_data.py")
    after = _run(project, out, config).component_lines()
    for component in ("SyntheticExampleGen", "StatisticsGen", "DataChoices", "Transform", "Trainer",
                      "Evaluator", "Pusher"):
        assert after[component] == "ran", (component, after)
