"""How many rows an Examples artifact holds (pipeline.results.span_data.row_count), on real TFRecord files."""

from __future__ import annotations

import tensorflow as tf

from pipeline.results.span_data import row_count


def _write(path, records: int, compression: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tf.io.TFRecordWriter(str(path), options=compression) as writer:
        for i in range(records):
            writer.write(tf.train.Example(features=tf.train.Features(feature={
                "x": tf.train.Feature(float_list=tf.train.FloatList(value=[float(i)]))})).SerializeToString())


def test_every_split_and_file_counts_gzipped_or_not(tmp_path):
    _write(tmp_path / "Split-train" / "part-0.gz", 5000, "GZIP")  # more than one counting batch
    _write(tmp_path / "Split-train" / "part-1.gz", 7, "GZIP")
    _write(tmp_path / "Split-eval" / "part-0", 3, "")  # an imported, uncompressed file
    _write(tmp_path / "Split-test" / "part-0.gz", 0, "GZIP")
    assert row_count(str(tmp_path)) == 5010


def test_a_window_spans_rows_come_from_its_statistics_and_without_them_from_its_records(tmp_path):
    import pandas as pd
    import tensorflow_data_validation as tfdv
    from ml_metadata.proto import metadata_store_pb2

    from metadata_in_memory import in_memory_store, record_execution
    from pipeline.results.span_data import artifact_rows

    store = in_memory_store()
    examples_type = store.put_artifact_type(metadata_store_pb2.ArtifactType(name="Examples"))
    statistics_type = store.put_artifact_type(metadata_store_pb2.ArtifactType(name="ExampleStatistics"))
    statistics_gen = store.put_execution_type(metadata_store_pb2.ExecutionType(name="StatisticsGen"))

    def artifact(type_id, uri):
        (artifact_id,) = store.put_artifacts([metadata_store_pb2.Artifact(type_id=type_id, uri=str(uri))])
        return store.get_artifacts_by_id([artifact_id])[0]

    described, undescribed = artifact(examples_type, tmp_path / "a"), artifact(examples_type, tmp_path / "b")
    for uri in (tmp_path / "a", tmp_path / "b"):
        _write(uri / "Split-train" / "part-0.gz", 300, "GZIP")
        _write(uri / "Split-eval" / "part-0.gz", 40, "GZIP")
    # StatisticsGen's layout, TFDV's statistics of the same rows.
    statistics = artifact(statistics_type, tmp_path / "statistics")
    for split, rows in (("train", 300), ("eval", 40)):
        (tmp_path / "statistics" / f"Split-{split}").mkdir(parents=True)
        computed = tfdv.generate_statistics_from_dataframe(pd.DataFrame({"x": [float(i) for i in range(rows)]}))
        (tmp_path / "statistics" / f"Split-{split}" / "FeatureStats.pb").write_bytes(computed.SerializeToString())
    record_execution(store, statistics_gen, {"examples": [described.id]}, {"statistics": [statistics.id]})

    assert artifact_rows(store, undescribed) == 340  # no statistics: its records counted
    for record_file in (tmp_path / "a").glob("Split-*/*"):
        record_file.unlink()  # the statistics alone give the described artifact's rows
    assert artifact_rows(store, described) == 340
