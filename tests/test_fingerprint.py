"""The code fingerprint follows the imports of the code each component runs."""

import ast
import shutil

import pytest

from pipeline import fingerprint
from config import build_config
from pipeline.definition import NOT_RUN, PREPROCESSING_FN, RUN_FN, code_modules, module_code_versions

ENTRY_MODULES = [PREPROCESSING_FN.rpartition(".")[0], RUN_FN.rpartition(".")[0]]


def test_files_are_the_modules_and_what_they_import():
    files = fingerprint.module_files(ENTRY_MODULES)
    # Imported by models.trainer through models.builder, and by everything through config.
    assert {"models.shared_bottom", "models.metrics", "config.pipeline_config",
            "models.tasks", "models", "config"} <= set(files)
    # Code the Transform and Trainer never run does not invalidate their cache.
    assert not {"pipeline.local_runner", "pipeline.report.writer", "pipeline.definition"} & set(files)
    assert all(path.is_file() and path.suffix == ".py" for path in files.values())


def test_editing_an_imported_module_changes_the_fingerprint(tmp_path, monkeypatch):
    root = fingerprint.module_files(["models"])["models"].parent.parent
    copy = tmp_path / "project"
    for package in fingerprint.PROJECT_PACKAGES:
        shutil.copytree(root / package, copy / package, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(fingerprint, "_source", lambda name, real=fingerprint._source: (
        None if real(name) is None else copy / real(name).relative_to(root)))
    before = fingerprint.code_fingerprint(*ENTRY_MODULES)
    assert before == fingerprint.code_fingerprint(*ENTRY_MODULES)
    with open(copy / "models" / "shared_bottom.py", "a") as f:
        f.write("\n# edited\n")
    assert fingerprint.code_fingerprint(*ENTRY_MODULES) != before


# Code of the commands and the report: no component runs it, so it is in no component's key.
NOT_RUN_BY_COMPONENTS = ("pipeline.cli", "pipeline.preflight", "pipeline.report", "pipeline.results",
                         "pipeline.definition", "pipeline.fingerprint", "pipeline.local_runner")


def test_each_component_has_the_key_of_its_own_code():
    modules = code_modules(build_config())
    files = {component: set(fingerprint.module_files(names, NOT_RUN.get(component, ())))
             for component, names in modules.items()}
    assert "models.preprocessing" in files["Transform"] and "models.trainer" not in files["Transform"]
    assert {"models.trainer", "models.builder", "models.trainer_outputs"} <= files["Trainer"]
    assert "models.preprocessing" not in files["Trainer"]
    assert "models.trainer" not in files["DataChoices"]  # Transform's run-time config stays cached
    assert files["AnomaliesGate"] == {"components", "components.anomalies_gate"}
    assert files["DriftCheck"] == {"components", "components.drift_check", "components.data_drift",
                                   "components.served_statistics"}
    assert files["Pusher"] == {"components", "components.atomic_pusher", "components.atomic_pusher.executor",
                               "components.served_statistics"}
    # Named as text (EvalConfig metrics, module_path), not imported: still in the Evaluator's key.
    assert {"components.evaluator", "models.slice_groups", "models.regression_metrics"} <= files["Evaluator"]
    assert "components.synthetic_data" in files["SyntheticExampleGen"]
    assert not {"models.metrics", "config.architectures", "config.tuning"} & files["Transform"]
    for component, names in files.items():
        assert not [n for n in names if n.startswith(NOT_RUN_BY_COMPONENTS)], component
    versions = module_code_versions(build_config())
    assert len(set(versions.values())) == len(versions) == len(modules)
    assert versions["Trainer"] == fingerprint.code_fingerprint("models.trainer")


@pytest.mark.parametrize("importer, is_package, source, expected", [
    ("models.trainer", False, "from .builder import build_model", "models.builder"),
    ("models.trainer", False, "from . import budget", "models"),
    ("models", True, "from .trainer import run_fn", "models.trainer"),
    ("pipeline.results.mlmd", False, "from ..errors import UsageError", "pipeline.errors"),
    ("models.trainer", False, "from models.builder import build_model", "models.builder"),
])
def test_relative_imports_name_the_module_they_import(importer, is_package, source, expected):
    (node,) = ast.parse(source).body
    assert fingerprint._absolute(node, importer, is_package) == expected


def test_a_module_split_with_relative_imports_is_followed(tmp_path, monkeypatch):
    package = tmp_path / "splitmodels"  # a trainer split over modules that import each other relatively
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "trainer.py").write_text("from .trainer_input import dataset\nfrom . import callbacks\n")
    (package / "trainer_input.py").write_text("dataset = None\n")
    (package / "callbacks.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(fingerprint, "PROJECT_PACKAGES", ("splitmodels",))
    assert set(fingerprint.module_files(["splitmodels.trainer"])) == {
        "splitmodels", "splitmodels.trainer", "splitmodels.trainer_input", "splitmodels.callbacks"}
