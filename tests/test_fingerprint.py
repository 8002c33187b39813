"""The code fingerprint follows the imports of the code Transform and Trainer run."""

import shutil

from pipeline import fingerprint
from pipeline.definition import PREPROCESSING_FN, RUN_FN

ENTRY_MODULES = [PREPROCESSING_FN.rpartition(".")[0], RUN_FN.rpartition(".")[0]]


def test_files_are_the_modules_and_what_they_import():
    files = fingerprint.module_files(ENTRY_MODULES)
    # Imported by models.trainer through models.builder, and by everything through pipeline.config.
    assert {"models.shared_bottom", "models.metrics", "pipeline.config.schema",
            "models.tasks", "models", "pipeline.config"} <= set(files)
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
