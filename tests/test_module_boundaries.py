"""Module code TFX runs in Beam workers and containers depends on the configuration, not on the CLI or the report."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ALLOWED = "config"


def pipeline_imports(path: Path) -> list[str]:
    """Every ``pipeline`` module a file imports (at any depth in the file), as ``line: name``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names = [node.module] if node.module != "pipeline" else [f"pipeline.{a.name}" for a in node.names]
        else:
            continue
        found += [f"{node.lineno}: {name}" for name in names if name.split(".")[0] == "pipeline"]
    return found


def test_models_import_only_the_configuration_from_pipeline():
    files = sorted((REPO / "models").glob("*.py"))
    assert len(files) > 10
    wrong = {path.name: names for path in files
             if (names := [n for n in pipeline_imports(path)
                           if not (n.split(": ")[1] == ALLOWED or n.split(": ")[1].startswith(ALLOWED + "."))])}
    assert wrong == {}


def test_the_check_sees_every_form_of_import(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("import pipeline\nfrom pipeline import cli\nfrom pipeline.results import x\n"
                      "def f():\n    import config.names\n")
    assert pipeline_imports(sample) == ["1: pipeline", "2: pipeline.cli", "3: pipeline.results",
                                        "5: config.names"]
