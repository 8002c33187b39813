"""A run whose output dir's disk fills up fails with a clear line and keeps the pushed model.

The output dir lives on a small tmpfs mounted for the test (needs the right to
mount; skipped with the reason otherwise). The first run pushes; the disk is
then filled, and a run that retrains fails.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from conftest import TINY_CONFIG, run_pipeline_cli, serving_versions, tree_digest

pytestmark = [pytest.mark.e2e, pytest.mark.faults]

CONFIG_TEXT = TINY_CONFIG.format(train_steps=200)



@pytest.fixture
def small_disk(tmp_path):
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(mount_point)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here ({proc.stderr.strip() or proc.returncode}); "
                    "run as root or with CAP_SYS_ADMIN")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def _fill(disk: Path) -> None:
    with open(disk / "filler", "wb") as f:
        try:
            while True:
                f.write(b"\0" * (1 << 20))
                f.flush()
                os.fsync(f.fileno())
        except OSError:
            pass


def test_full_disk_fails_clearly_and_keeps_the_pushed_model(small_disk, tmp_path):
    config = tmp_path / "tiny.yaml"
    config.write_text(CONFIG_TEXT)
    output_dir = small_disk / "out"
    first = run_pipeline_cli(output_dir, "--config", str(config))
    assert first.returncode == 0, f"{first.stdout}\n{first.stderr}"
    (version,) = serving_versions(output_dir)
    digest = tree_digest(version)

    _fill(small_disk)
    run = run_pipeline_cli(output_dir, "--config", str(config), "--train-steps", "201")
    assert run.returncode == 1, f"{run.stdout}\n{run.stderr}"
    errors = [line for line in run.stdout.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, run.stdout
    assert f"the disk holding {output_dir.resolve()} is full: free space there or choose another --output-dir" \
        in errors[0]
    assert serving_versions(output_dir) == [version] and tree_digest(version) == digest
