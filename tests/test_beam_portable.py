"""The data steps through Beam's portable job service, the path Flink, Spark and Dataflow Runner v2 take.

The pipeline is serialized to a Beam pipeline proto, submitted over the Job
API to Beam's local job service, and executed by SDK harnesses that Beam's
worker pool starts as separate processes (``--environment_type=EXTERNAL``).
Local ports only. The examples must be byte for byte those of an in-process run.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import run_pipeline_cli, serving_versions
from test_beam_scale_out import one_worker_examples, read_splits

DATA_ARGS = ["--num-examples", "1000", "--num-shards", "2", "--correlation", "0.5", "--seed", "7",
             "--train-steps", "100"]
BEAM_COMPONENTS = ("SyntheticExampleGen", "StatisticsGen", "Transform", "Evaluator")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


def _wait_for_port(port: int, proc: subprocess.Popen, log: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"service exited {proc.returncode}:\n{log.read_text()[-2000:]}")
        with socket.socket() as s:
            if s.connect_ex(("localhost", port)) == 0:
                return
        time.sleep(0.5)
    raise RuntimeError(f"nothing listens on port {port} after {timeout} s:\n{log.read_text()[-2000:]}")


@pytest.fixture
def beam_services(tmp_path):
    """Beam's job service and worker pool on free local ports: (job port, pool port, their logs)."""
    env = dict(os.environ)
    # The pool starts each SDK harness as `python -c ...`: this environment's interpreter.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    # Harnesses do not inherit the submitter's environment: without this, Transform's
    # analysis in the worker fails ("SavedModel file does not exist at .../tftransform_tmp/...").
    env["TF_USE_LEGACY_KERAS"] = "1"
    job_port, pool_port = _free_port(), _free_port()
    logs = {"job": tmp_path / "job_service.log", "pool": tmp_path / "worker_pool.log"}
    commands = {
        "job": [sys.executable, "-m", "apache_beam.runners.portability.local_job_service_main",
                "--port", str(job_port)],
        "pool": [sys.executable, "-m", "apache_beam.runners.worker.worker_pool_main",
                 "--service_port", str(pool_port)],
    }
    procs = {}
    try:
        for name, command in commands.items():
            with open(logs[name], "wb") as log:
                procs[name] = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        _wait_for_port(job_port, procs["job"], logs["job"])
        _wait_for_port(pool_port, procs["pool"], logs["pool"])
        yield job_port, pool_port, logs
    finally:
        for proc in procs.values():
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.mark.e2e
@pytest.mark.slow
def test_portable_runner_with_separate_workers_gives_the_in_process_examples(tmp_path, beam_services):
    job_port, pool_port, logs = beam_services
    # Beam's Python job service ends its job state stream after --job_server_timeout
    # (60 s by default): a longer step (the Evaluator on a loaded machine) would fail
    # with DEADLINE_EXCEEDED although its job completes.
    beam_args = (f"--runner=PortableRunner --job_endpoint=localhost:{job_port} "
                 f"--environment_type=EXTERNAL --environment_config=localhost:{pool_port} "
                 "--job_server_timeout=3600")
    started = time.monotonic()
    run = run_pipeline_cli(tmp_path / "portable", *DATA_ARGS, f"--beam-args={beam_args}")
    print(f"portable run: {time.monotonic() - started:.0f} s")
    assert run.returncode == 0, f"portable run failed:\n{run.stdout}\n{run.stderr}"
    status = run.component_lines()
    assert all(status.get(name) == "ran" for name in BEAM_COMPONENTS), run.stdout

    # Every Beam step was a job on the service, run by harnesses the pool started as processes.
    jobs = logs["job"].read_text()
    assert jobs.count("with state DONE") >= len(BEAM_COMPONENTS), jobs[-3000:]
    assert "with state FAILED" not in jobs
    assert logs["pool"].read_text().count("Starting worker with command") >= len(BEAM_COMPONENTS)

    [portable_uri] = (run.output_dir / "pipeline_root" / "SyntheticExampleGen" / "examples").iterdir()
    portable = read_splits(portable_uri)
    in_process = read_splits(one_worker_examples(tmp_path, DATA_ARGS))
    assert set(portable) == set(in_process) == {"Split-train", "Split-eval", "Split-test"}
    assert sum(map(len, portable.values())) == 1000
    for split in in_process:
        assert portable[split] == in_process[split], f"{split} differs from the in-process run"
    assert len(serving_versions(run.output_dir)) <= 1
