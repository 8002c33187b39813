"""The report CLI on bad input: one clear line and a non-zero exit, nothing written."""

import subprocess

from ml_metadata.proto import metadata_store_pb2

from conftest import REPO, command
from pipeline.report import writer as report
from pipeline.results import mlmd as run_records


def _cli(*args):
    return subprocess.run([*command("mtl-report"), *args],
                          cwd=REPO, capture_output=True, text=True, timeout=300)


def _store_with_evaluator(output_dir, state=None):
    """A real MLMD store holding pipeline 'p'; with ``state``, one Evaluator execution in it."""
    output_dir.mkdir(parents=True, exist_ok=True)
    store = run_records.open_store(output_dir / "metadata.sqlite")
    pipeline_type = store.put_context_type(metadata_store_pb2.ContextType(name="pipeline"))
    node_type = store.put_context_type(metadata_store_pb2.ContextType(name="node"))
    store.put_contexts([metadata_store_pb2.Context(type_id=pipeline_type, name="p")])
    if state is not None:
        [node] = store.put_contexts([metadata_store_pb2.Context(type_id=node_type, name="p.Evaluator")])
        execution_type = store.put_execution_type(metadata_store_pb2.ExecutionType(name="Evaluator"))
        [execution] = store.put_executions([metadata_store_pb2.Execution(
            type_id=execution_type, last_known_state=state)])
        store.put_attributions_and_associations(
            [], [metadata_store_pb2.Association(context_id=node, execution_id=execution)])


def test_missing_output_dir(tmp_path):
    run = _cli("--output-dir", str(tmp_path / "nowhere"))
    assert run.returncode == 1
    assert run.stderr.strip() == f"error: --output-dir {tmp_path / 'nowhere'} does not exist or is not a directory"
    assert not (tmp_path / "nowhere").exists()


def test_empty_output_dir_is_left_empty(tmp_path):
    run = _cli("--output-dir", str(tmp_path))
    assert run.returncode == 1
    assert run.stderr.strip() == f"error: {tmp_path} has no metadata.sqlite: no pipeline has run there"
    assert list(tmp_path.iterdir()) == []


def test_no_evaluator_run(tmp_path, capsys):
    _store_with_evaluator(tmp_path)
    assert report.main(["--output-dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: no finished Evaluator run of 'p'") and len(err.splitlines()) == 1
    assert not (tmp_path / "reports").exists()


def test_failed_evaluator_run(tmp_path, capsys):
    _store_with_evaluator(tmp_path, metadata_store_pb2.Execution.FAILED)
    assert report.main(["--output-dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: the latest Evaluator run (execution 1) of 'p' failed") and len(err.splitlines()) == 1
    assert not (tmp_path / "reports").exists()


def test_evaluator_run_without_an_evaluation_output(tmp_path, capsys):
    # A COMPLETE execution that recorded no evaluation: still one line, no page.
    _store_with_evaluator(tmp_path, metadata_store_pb2.Execution.COMPLETE)
    assert report.main(["--output-dir", str(tmp_path)]) == 1
    assert len(capsys.readouterr().err.splitlines()) == 1
    assert not (tmp_path / "reports").exists()
