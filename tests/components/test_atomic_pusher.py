"""The Pusher's all-or-nothing push, through TFX's real Pusher executor on real artifacts."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from tfx.dsl.io.filesystem import NotFoundError
from tfx.proto import pusher_pb2
from tfx.types import standard_artifacts
from tfx.utils import proto_utils

from components.atomic_pusher.executor import Executor, staging_dir
from components.served_statistics import STATISTICS_DIR, STATISTICS_URI

REPO = Path(__file__).resolve().parents[2]


def make_model(root: Path, files: int = 3, size: int = 1000) -> Path:
    """A Trainer model artifact's folder: Format-Serving/ with variables and saved_model.pb."""
    serving = root / "Format-Serving"
    (serving / "variables").mkdir(parents=True)
    for i in range(files):
        (serving / "variables" / f"variables.data-{i:05d}").write_bytes(os.urandom(size))
    (serving / "saved_model.pb").write_bytes(b"graph")
    return root


def push(model_dir: Path, serving, pushed_uri: Path, blessed: bool = True, statistics_uri: str = ""):
    model = standard_artifacts.Model()
    model.uri = str(model_dir)
    blessing = standard_artifacts.ModelBlessing()
    blessing.uri = str(pushed_uri.parent / "blessing")
    blessing.set_int_custom_property("blessed", int(blessed))
    pushed = standard_artifacts.PushedModel()
    pushed.uri = str(pushed_uri)
    destination = pusher_pb2.PushDestination(
        filesystem=pusher_pb2.PushDestination.Filesystem(base_directory=str(serving)))
    Executor().Do({"model": [model], "model_blessing": [blessing]}, {"pushed_model": [pushed]},
                  {"push_destination": proto_utils.proto_to_json(destination),
                   "custom_config": json.dumps({STATISTICS_URI: statistics_uri} if statistics_uri else None)})
    return pushed


def test_a_blessed_model_appears_complete_and_staging_is_gone(tmp_path):
    model = make_model(tmp_path / "model")
    serving = tmp_path / "serving"
    pushed = push(model, serving, tmp_path / "pushed")
    (version,) = serving.iterdir()
    assert pushed.get_string_custom_property("pushed_destination") == str(version)
    assert pushed.get_int_custom_property("pushed") == 1
    source = model / "Format-Serving"
    assert sorted(p.relative_to(version) for p in version.rglob("*")) == \
        sorted(p.relative_to(source) for p in source.rglob("*"))
    assert (version / "saved_model.pb").read_bytes() == b"graph"
    assert not Path(staging_dir(str(serving))).exists()


def test_an_unblessed_model_is_not_pushed(tmp_path):
    pushed = push(make_model(tmp_path / "model"), tmp_path / "serving", tmp_path / "pushed", blessed=False)
    assert pushed.get_int_custom_property("pushed") == 0
    assert not (tmp_path / "serving").exists() or not any((tmp_path / "serving").iterdir())


def test_a_copy_that_fails_half_way_leaves_no_version(tmp_path):
    model = make_model(tmp_path / "model", files=5)
    # A file that cannot be read: the copy fails after some files are written.
    (model / "Format-Serving" / "variables" / "variables.data-00003").unlink()
    os.symlink(tmp_path / "gone", model / "Format-Serving" / "variables" / "variables.data-00003")
    serving = tmp_path / "serving"
    serving.mkdir()
    with pytest.raises(Exception):
        push(model, serving, tmp_path / "pushed")
    assert list(serving.iterdir()) == []
    assert not Path(staging_dir(str(serving))).exists()


PUSH_SCRIPT = textwrap.dedent("""
    import sys
    from pathlib import Path
    sys.path.insert(0, {tests!r})
    from test_atomic_pusher import push
    push(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))
""")


def _incomplete_versions(serving: Path, expected_files: int) -> list[str]:
    seen = []
    for version in (serving.iterdir() if serving.is_dir() else []):
        count = sum(1 for p in version.rglob("*") if p.is_file())
        if count != expected_files:
            seen.append(f"{version.name}: {count} of {expected_files} files")
    return seen


@pytest.mark.faults
def test_killed_during_the_copy_leaves_no_version_and_a_poller_never_sees_half(tmp_path):
    # Enough files that the copy lasts long enough to be caught half way on a busy machine.
    files = 600
    model = make_model(tmp_path / "model", files=files, size=50_000)
    serving = tmp_path / "serving"
    serving.mkdir()
    staging = Path(staging_dir(str(serving)))
    script = PUSH_SCRIPT.format(tests=str(Path(__file__).parent))
    proc = subprocess.Popen([sys.executable, "-c", script, str(model), str(serving), str(tmp_path / "pushed")],
                            cwd=REPO)
    partial = []
    deadline = time.monotonic() + 120
    # Kill it once the copy is under way (some, not all, files staged).
    while time.monotonic() < deadline and proc.poll() is None:
        partial += _incomplete_versions(serving, files + 1)
        staged = sum(1 for p in staging.rglob("*") if p.is_file()) if staging.exists() else 0
        if 0 < staged < files:
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.01)
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL, "the push finished before it could be killed"
    assert list(serving.iterdir()) == [] and not partial
    assert staging.exists()  # the half-written copy stayed beside, not in, the serving folder

    # The next push clears what was left and lands one complete version while a poller watches.
    proc = subprocess.Popen([sys.executable, "-c", script, str(model), str(serving), str(tmp_path / "pushed2")],
                            cwd=REPO)
    while proc.poll() is None:
        partial += _incomplete_versions(serving, files + 1)
        time.sleep(0.02)
    assert proc.returncode == 0 and not partial
    assert len(list(serving.iterdir())) == 1 and not staging.exists()


def _statistics(root: Path) -> str:
    (root / "Split-train").mkdir(parents=True)
    (root / "Split-train" / "FeatureStats.pb").write_bytes(b"stats")
    return str(root)


def test_an_object_store_version_gets_its_statistics_before_its_model(tmp_path):
    import tensorflow as tf

    serving = "ram://atomic-pusher-test/serving"  # a filesystem with no rename: the push is in place
    pushed = push(make_model(tmp_path / "model"), serving, tmp_path / "pushed",
                  statistics_uri=_statistics(tmp_path / "stats"))
    (version,) = tf.io.gfile.listdir(serving)
    final = f"{serving}/{version.rstrip('/')}"
    assert pushed.get_string_custom_property("pushed_destination") == final
    assert tf.io.gfile.exists(f"{final}/saved_model.pb")
    with tf.io.gfile.GFile(f"{final}/{STATISTICS_DIR}/Split-train/FeatureStats.pb", "rb") as f:
        assert f.read() == b"stats"

    # A push that fails before the model's last file: the statistics are already there, and no
    # saved_model.pb, for which a model server waits, was written.
    broken = make_model(tmp_path / "broken")
    (broken / "Format-Serving" / "saved_model.pb").unlink()
    serving = "ram://atomic-pusher-test/serving-broken"
    with pytest.raises(NotFoundError):
        push(broken, serving, tmp_path / "pushed-broken", statistics_uri=_statistics(tmp_path / "stats2"))
    (version,) = tf.io.gfile.listdir(serving)
    final = f"{serving}/{version.rstrip('/')}"
    assert tf.io.gfile.exists(f"{final}/{STATISTICS_DIR}/Split-train/FeatureStats.pb")
    assert tf.io.gfile.exists(f"{final}/variables") and not tf.io.gfile.exists(f"{final}/saved_model.pb")
