"""Shared helpers: run the real pipeline CLI and read what it wrote."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO = Path(__file__).resolve().parent.parent
# Small enough for CI, large enough to learn the sines and pass the default gates.
# A tiny run for the fault tests: seconds per component, gates any model passes.
TINY_CONFIG = """\
data: {{num_examples: 400, correlation: 0.5, seed: 7}}
training: {{train_steps: {train_steps}, eval_steps: 5}}
tasks:
  - {{name: y1, gate: {{min_r2: -1000}}}}
  - {{name: y2, gate: {{min_r2: -1000}}}}
"""
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


@dataclass
class LiveRun:
    """A pipeline CLI run in the background (its own session), its terminal lines collected as they come."""
    proc: subprocess.Popen
    lines: list[str]
    reader: threading.Thread

    @property
    def stdout(self) -> str:
        return "".join(self.lines)

    def wait_for(self, condition: Callable[[], bool], what: str, timeout: float = 600) -> None:
        """Returns once ``condition()`` holds; fails when the run ends first or ``timeout`` passes."""
        deadline = time.monotonic() + timeout
        while not condition():
            assert self.proc.poll() is None, f"the run ended before {what}:\n{self.stdout}"
            assert time.monotonic() < deadline, f"no {what} within {timeout} s:\n{self.stdout}"
            time.sleep(0.1)

    def kill(self) -> int:
        """SIGKILLs the runner and every process it started; its exit status."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=60)
        self.reader.join(timeout=10)
        return self.proc.returncode


def start_pipeline_cli(output_dir: Path, *args: str) -> LiveRun:
    """``local_runner.py`` started in the background, for a test that kills it at a point it watches for."""
    proc = subprocess.Popen([sys.executable, str(REPO / "pipeline" / "local_runner.py"), "--output-dir",
                             str(output_dir), *args],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            start_new_session=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True)
    reader.start()
    return LiveRun(proc, lines, reader)


def run_config_cli(folder: Path, config: dict, name: str = "config") -> CliRun:
    """Writes ``config`` to ``folder``/``name``.yaml, runs the pipeline on it into ``folder``/out;
    the run must succeed."""
    import yaml

    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(config))
    run = run_pipeline_cli(folder / "out", "--config", str(path))
    assert run.returncode == 0, f"pipeline failed:\n{run.stdout}\n{run.stderr}"
    return run


def tree_digest(path: Path) -> str:
    """One hash over the relative paths and contents of every file under ``path``."""
    digest = hashlib.sha256()
    for f in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(str(f.relative_to(path)).encode() + f.read_bytes())
    return digest.hexdigest()


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
    shutil.copytree(output_dir, output_dir.parent / "first_run")  # for own_default_run
    return run


def copy_of_first_run(default_run: CliRun, folder: Path) -> CliRun:
    """The default run's output dir as its first run left it, copied to ``folder``/out.

    For tests that read "the latest" execution or write into the output dir:
    what other tests ran into ``default_run`` since does not reach them. The
    artifacts ML Metadata names stay in the original dir; runs never change
    an artifact once written.
    """
    output_dir = folder / "out"
    shutil.copytree(default_run.output_dir.parent / "first_run", output_dir)
    return dataclasses.replace(default_run, output_dir=output_dir)


@pytest.fixture(scope="module")
def own_default_run(default_run, tmp_path_factory) -> CliRun:
    """The default run's first state, copied for one test module (``copy_of_first_run``)."""
    return copy_of_first_run(default_run, tmp_path_factory.mktemp("own_default_run"))


# data/sample.yaml made quick for the tests that need its model, not its quality:
# fewer steps, no confidence intervals, gates any trained model passes.
def quick_sample_config(folder: Path) -> Path:
    import yaml

    raw = yaml.safe_load((REPO / "data" / "sample.yaml").read_text())
    raw["data"]["path"] = str(REPO / "data" / "sample.csv")
    raw["training"]["train_steps"] = 300
    raw["evaluation"]["confidence_intervals"] = "none"
    for task in raw["tasks"]:
        task["gate"] = {"min_r2": -1000} if task["type"] == "regression" else {"min_auc": 0.0}
    path = folder / "sample-quick.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


@pytest.fixture(scope="session")
def sample_run(tmp_path_factory) -> CliRun:
    """One real run of the pipeline on data/sample.csv (three tasks, missing-value tokens)."""
    folder = tmp_path_factory.mktemp("sample_run")
    run = run_pipeline_cli(folder / "out", "--config", str(quick_sample_config(folder)))
    assert run.returncode == 0, f"pipeline failed:\n{run.stdout}\n{run.stderr}"
    return run
