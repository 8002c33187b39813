"""check_run_state on real ML Metadata stores (ml_metadata's sqlite backend)."""

from __future__ import annotations

import os

import pytest
from ml_metadata.metadata_store import metadata_store
from ml_metadata.proto import metadata_store_pb2

from pipeline.errors import RunStateError
from pipeline.preflight.run_state import check_run_state, pipeline_names


def make_store(output_dir, *pipelines: str):
    config = metadata_store_pb2.ConnectionConfig()
    config.sqlite.filename_uri = str(output_dir / "metadata.sqlite")
    config.sqlite.connection_mode = metadata_store_pb2.SqliteMetadataSourceConfig.READWRITE_OPENCREATE
    store = metadata_store.MetadataStore(config)
    type_id = store.put_context_type(metadata_store_pb2.ContextType(name="pipeline"))
    node_type = store.put_context_type(metadata_store_pb2.ContextType(name="node"))
    store.put_contexts([metadata_store_pb2.Context(type_id=type_id, name=p) for p in pipelines]
                       + [metadata_store_pb2.Context(type_id=node_type, name="other.Trainer")])
    return output_dir / "metadata.sqlite"


def test_no_metadata_yet_and_an_empty_file_pass(tmp_path):
    check_run_state(tmp_path, "p")
    (tmp_path / "metadata.sqlite").write_bytes(b"")
    check_run_state(tmp_path, "p")


def test_the_same_pipeline_passes(tmp_path):
    path = make_store(tmp_path, "p")
    assert pipeline_names(path) == ["p"]
    check_run_state(tmp_path, "p")


def test_another_pipeline_is_named_with_the_fix(tmp_path):
    make_store(tmp_path, "other")
    with pytest.raises(RunStateError) as info:
        check_run_state(tmp_path, "p")
    message = str(info.value)
    assert f"{tmp_path} holds the runs of pipeline 'other'" in message
    assert "not of 'p'; choose another --output-dir, or set pipeline_name: other" in message
    assert info.value.exit_code == 1


@pytest.mark.parametrize("damage", ["garbage-pages", "header", "text"])
def test_damaged_store_is_named_with_the_fix(tmp_path, damage):
    path = make_store(tmp_path, "p")
    if damage == "text":
        path.write_text("not a database, just some text\n" * 200)
    else:
        with open(path, "r+b") as f:
            f.seek(0 if damage == "header" else 1024)
            f.write(os.urandom(16 * 1024 if damage != "header" else 16))
    with pytest.raises(RunStateError) as info:
        check_run_state(tmp_path, "p")
    message = str(info.value)
    assert message.startswith(f"{path} is damaged (sqlite: ") or message.startswith(f"{path} is not an")
    assert f"move {path} aside" in message and "choose another --output-dir" in message


def test_a_sqlite_file_of_something_else_is_not_a_store(tmp_path):
    import sqlite3
    with sqlite3.connect(tmp_path / "metadata.sqlite") as db:
        db.execute("CREATE TABLE notes (text)")
    with pytest.raises(RunStateError, match="is not an ML Metadata store"):
        check_run_state(tmp_path, "p")
