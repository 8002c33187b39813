"""The project's packages are layers: each imports only the layers below it.

config      the configuration: imports nothing else of the project
models      the code Transform, the Trainer and the Evaluator run: config
components  the project's TFX components: models and config
pipeline    definition, runners, commands, report: everything

Module code TFX runs in Beam workers and containers thus depends on the
configuration, not on the CLI or the report, and the configuration validates
without TensorFlow or TFX.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("config", "models", "components", "pipeline")
# Package -> the project packages it may import besides itself.
ALLOWED = {"config": set(), "models": {"config"}, "components": {"models", "config"}}


def project_imports(path: Path) -> list[str]:
    """Every project module a file imports (at any depth in the file), as ``line: name``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names = ([node.module] if node.module not in PACKAGES
                     else [f"{node.module}.{a.name}" for a in node.names])
        else:
            continue  # a relative import stays inside its own package
        found += [(node.lineno, name) for name in names if name.split(".")[0] in PACKAGES]
    return [f"{line}: {name}" for line, name in sorted(found)]


def wrong_imports(package: str) -> dict[str, list[str]]:
    """File -> the imports of ``package``'s files that reach a package it may not import."""
    allowed = ALLOWED[package] | {package}
    files = sorted((REPO / package).rglob("*.py"))
    assert len(files) > 5
    return {str(path.relative_to(REPO)): names for path in files
            if (names := [n for n in project_imports(path) if n.split(": ")[1].split(".")[0] not in allowed])}


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_each_package_imports_only_the_layers_below_it(package):
    assert wrong_imports(package) == {}


def test_the_check_sees_every_form_of_import(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("import pipeline\nfrom pipeline import cli\nfrom pipeline.results import x\n"
                      "def f():\n    import config.names\nfrom models.tasks import task_type\n"
                      "from . import sibling\nimport numpy\n")
    assert project_imports(sample) == ["1: pipeline", "2: pipeline.cli", "3: pipeline.results",
                                       "5: config.names", "6: models.tasks"]


def test_a_wrong_import_is_reported(tmp_path, monkeypatch):
    (tmp_path / "config").mkdir()
    for i in range(6):
        (tmp_path / "config" / f"m{i}.py").write_text("from config import names\n")
    (tmp_path / "config" / "bad.py").write_text("def f():\n    from models.tasks import task_type\n")
    monkeypatch.setattr(__import__(__name__), "REPO", tmp_path)
    assert wrong_imports("config") == {"config/bad.py": ["2: models.tasks"]}
