"""Every file that looks like a runner runs: ``python <file> --help`` prints its usage and exits 0."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def console_script_files() -> list[str]:
    """The files of the console scripts pyproject.toml declares (``name = "module:function"``)."""
    section = (REPO / "pyproject.toml").read_text().split("[project.scripts]", 1)[1].split("\n[", 1)[0]
    modules = re.findall(r'^\S+\s*=\s*"([\w.]+):\w+"', section, flags=re.MULTILINE)
    return [module.replace(".", "/") + ".py" for module in modules]


def runner_files() -> list[str]:
    named = [str(p.relative_to(REPO)) for folder in ("config", "pipeline", "components", "models")
             for p in (REPO / folder).rglob("*runner*.py")]
    return sorted(set(named) | set(console_script_files()))


def test_the_list_holds_every_command():
    files = runner_files()
    assert {"pipeline/local_runner.py", "pipeline/kubeflow/compiler.py", "pipeline/report/writer.py",
            "pipeline/results/serving_check.py"} <= set(files)
    assert all((REPO / f).is_file() for f in files)


@pytest.mark.parametrize("path", runner_files())
def test_a_runner_file_answers_help(path):
    proc = subprocess.run([sys.executable, str(REPO / path), "--help"], cwd=REPO,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("usage: "), proc.stdout
