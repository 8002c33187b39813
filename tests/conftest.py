"""Shared helpers: run the real pipeline CLI and read what it wrote."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO = Path(__file__).resolve().parent.parent
# Small enough for CI, large enough to learn the sines and pass the default gates.
SMALL_RUN = ["--num-examples", "2000", "--correlation", "0.5", "--train-steps", "2000", "--seed", "7"]


@dataclass
class CliRun:
    returncode: int
    stdout: str
    stderr: str
    output_dir: Path

    def component_lines(self) -> dict[str, str]:
        """component name -> 'ran' or 'cached', from the per-component lines."""
        status = {}
        for line in self.stdout.splitlines():
            parts = line.split()
            if len(parts) == 4 and parts[1] in ("ran", "cached") and parts[3] == "s":
                status[parts[0]] = parts[1]
        return status


def command(name: str) -> list[str]:
    """The argv start of one of the project's console scripts (pyproject.toml), in this venv."""
    return [str(Path(sys.executable).parent / name)]


def run_pipeline_cli(output_dir: Path, *args: str, timeout: int = 900) -> CliRun:
    proc = subprocess.run(
        [sys.executable, str(REPO / "pipeline" / "local_runner.py"), "--output-dir", str(output_dir), *args],
        cwd=REPO, capture_output=True, text=True, timeout=timeout)
    return CliRun(proc.returncode, proc.stdout, proc.stderr, output_dir)


def serving_versions(output_dir: Path) -> list[Path]:
    serving = output_dir / "serving"
    return sorted(serving.iterdir()) if serving.is_dir() else []


@pytest.fixture(scope="session")
def default_run(tmp_path_factory) -> CliRun:
    """One real run of the whole pipeline on small synthetic data, shared by the e2e tests.

    Tests that run the pipeline again into this output dir must leave the
    first pushed model in place (they check that nothing overwrites it).
    """
    output_dir = tmp_path_factory.mktemp("default_run") / "out"
    run = run_pipeline_cli(output_dir, *SMALL_RUN)
    assert run.returncode == 0, f"pipeline failed:\n{run.stdout}\n{run.stderr}"
    return run
