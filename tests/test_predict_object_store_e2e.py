"""``mtl-predict`` against a real S3 API (moto's server on loopback), on Beam's multi-process DirectRunner.

Input, model and output are objects in a bucket, reached through Beam's S3
file system with its own flags; the predictions must equal a local run's,
row for row, and a bad row must leave no output object.
"""

from __future__ import annotations

import pytest

from conftest import REPO, serving_versions
from test_predict_e2e import SAMPLE_LABELS, _csv_without, error_line, mtl_predict

boto3 = pytest.importorskip("boto3")
moto_server = pytest.importorskip("moto.server")

pytestmark = pytest.mark.e2e

BUCKET = "mtl-predict"
KEY, SECRET, REGION = "testing", "testing", "us-east-1"


@pytest.fixture(scope="module")
def s3():
    """(boto3 client, Beam arguments that reach the server) for a bucket on a moto server on loopback."""
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    client = boto3.client("s3", endpoint_url=url, aws_access_key_id=KEY, aws_secret_access_key=SECRET,
                          region_name=REGION)
    client.create_bucket(Bucket=BUCKET)
    beam_args = (f"--s3_endpoint_url={url} --s3_access_key_id={KEY} --s3_secret_access_key={SECRET} "
                 f"--s3_region_name={REGION} --direct_running_mode=multi_processing --direct_num_workers=2")
    yield client, beam_args
    server.stop()


def _upload_folder(client, folder, prefix: str) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            client.upload_file(str(path), BUCKET, f"{prefix}/{path.relative_to(folder).as_posix()}")


def _keys(client, prefix: str) -> list[str]:
    return [o["Key"] for o in client.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])]


def test_bucket_input_model_and_output_equal_the_local_run(sample_run, s3, tmp_path):
    client, beam_args = s3
    _csv_without(REPO / "data" / "sample.csv", SAMPLE_LABELS, tmp_path / "new.csv")
    (model_dir,) = serving_versions(sample_run.output_dir)
    client.upload_file(str(tmp_path / "new.csv"), BUCKET, "in/new.csv")
    _upload_folder(client, model_dir, f"serving/{model_dir.name}")

    local = mtl_predict(sample_run.output_dir, "--input", tmp_path / "new.csv", "--output", tmp_path / "p.csv",
                        "--keep", "region")
    assert local.returncode == 0, local.stderr
    remote = mtl_predict(sample_run.output_dir, "--input", f"s3://{BUCKET}/in/new.csv",
                         "--output", f"s3://{BUCKET}/out/p.csv", "--model-dir", f"s3://{BUCKET}/serving/{model_dir.name}",
                         "--keep", "region", "--beam-args", beam_args)
    assert remote.returncode == 0, remote.stderr
    assert "Scored 2,000 rows" in remote.stdout
    got = client.get_object(Bucket=BUCKET, Key="out/p.csv")["Body"].read().decode("utf-8").splitlines()
    want = (tmp_path / "p.csv").read_text(encoding="utf-8").splitlines()
    assert len(want) == 2001 and got == want  # header and every row, in input order
    assert _keys(client, "out/") == ["out/p.csv"]  # the parts and the joined file are gone


def test_a_bad_row_in_a_bucket_is_one_line_and_no_object(sample_run, s3, tmp_path):
    client, beam_args = s3
    lines = (REPO / "data" / "sample.csv").read_text().splitlines()
    cells = lines[1500].split(",")
    cells[1] = "many"  # visits, line 1501
    lines[1500] = ",".join(cells)
    client.put_object(Bucket=BUCKET, Key="in/bad.csv", Body=("\n".join(lines) + "\n").encode())
    proc = mtl_predict(sample_run.output_dir, "--input", f"s3://{BUCKET}/in/bad.csv",
                       "--output", f"s3://{BUCKET}/bad-out/p.csv", "--beam-args", beam_args)
    assert proc.returncode == 2, proc.stderr
    assert error_line(proc).startswith(
        f"error: s3://{BUCKET}/in/bad.csv line 1501 column 'visits': 'many' is not a number")
    assert _keys(client, "bad-out/") == []
