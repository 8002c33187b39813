"""The MMoE paper's experiment (bench/mmoe_synthetic.py) on a tiny budget, and its findings logic."""

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow  # trains three architectures several times

from conftest import REPO

sys.path.insert(0, str(REPO))
from bench import mmoe_synthetic as bench  # noqa: E402


def _summary(losses):
    """(architecture, correlation) -> loss, in summarize()'s shape."""
    return {key: {"mean": (value, 0.0)} for key, value in losses.items()}


def test_findings_of_the_paper_hold_on_paper_like_numbers():
    # Fig. 4, read off: shared-bottom 0.25 / 0.22 / 0.20, MMoE 0.08 / 0.08 / 0.07, OMoE between.
    paper = {("shared_bottom", 0.5): 0.25, ("shared_bottom", 0.9): 0.22, ("shared_bottom", 1.0): 0.20,
             ("omoe", 0.5): 0.15, ("omoe", 0.9): 0.12, ("omoe", 1.0): 0.10,
             ("mmoe", 0.5): 0.08, ("mmoe", 0.9): 0.08, ("mmoe", 1.0): 0.07}
    assert [ok for _, ok, _ in bench.findings(_summary(paper), (0.5, 0.9, 1.0))] == [True, True, True]


def test_findings_fail_where_the_numbers_say_so():
    flat = {(a, c): 0.1 for a in bench.ARCHITECTURES for c in (0.5, 1.0)}
    flat[("mmoe", 0.5)] = 0.3  # MMoE worse at low correlation, and it moves more than shared-bottom
    claims = bench.findings(_summary(flat), (0.5, 1.0))
    assert [ok for _, ok, _ in claims] == [True, False, False]
    assert "MMoE 0.3000 vs shared-bottom 0.1000" in claims[1][2]


def test_reduced_run_writes_table_results_and_plot(tmp_path):
    out = tmp_path / "bench"
    proc = subprocess.run(
        [sys.executable, "-m", "bench.mmoe_synthetic", "--repeats", "1", "--steps", "20", "--eval-every", "10",
         "--num-examples", "200", "--eval-examples", "100", "--correlations", "0.5", "1.0",
         "--learning-rates", "0.001", "0.01", "--pilot-repeats", "1", "--reference", "--out", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    runs = json.loads((out / "results.json").read_text())["runs"]
    assert {(r["architecture"], r["correlation"]) for r in runs} == {
        (a, c) for a in bench.ARCHITECTURES for c in (0.5, 1.0)}
    # The paper's sizes (Sec. 5.1): 100 -> 113 ReLU shared; 8 experts 100 -> 16; gates 100 -> 8; towers -> 8 -> 1.
    towers = lambda d: 2 * ((d * 8 + 8) + (8 + 1))  # noqa: E731
    expected = {"shared_bottom": 100 * 113 + 113 + towers(113),
                "omoe": 8 * (100 * 16 + 16) + (100 * 8 + 8) + towers(16),
                "mmoe": 8 * (100 * 16 + 16) + 2 * (100 * 8 + 8) + towers(16)}
    assert {r["architecture"]: r["parameters"] for r in runs} == expected
    assert all(r["steps"] == [10, 20] and len(r["eval_loss"]["y1"]) == 2 for r in runs)
    table = (out / "table.md").read_text()
    assert "learning rate for mmoe: " in proc.stdout and "ratio " in table
    # The paired table, recomputed from the saved curves: means, then run-by-run win counts.
    final = {(r["architecture"], r["correlation"]): sum(c[-1] for c in r["eval_loss"].values()) / 2 for r in runs}
    for c in (0.5, 1.0):
        wins = [int(final[(a, c)] < final[(b, c)])
                for a, b in (("omoe", "shared_bottom"), ("mmoe", "shared_bottom"), ("mmoe", "omoe"))]
        assert (f"| {c} | " + " | ".join(f"{final[(a, c)]:.4f}" for a in bench.ARCHITECTURES) + " | "
                + " | ".join(f"{w}/1" for w in wins) + " |") in table
    for architecture, params in expected.items():
        assert f"| {architecture} | {params} |" in table
    assert table.count("hold") == 3
    assert (out / "loss_curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # The table can be redrawn from the saved curves alone, to the same text.
    redrawn = tmp_path / "redrawn"
    assert bench.main(["--from-results", str(out / "results.json"), "--out", str(redrawn)]) == 0
    assert (redrawn / "table.md").read_text() == table


def test_bad_budget_is_refused():
    with pytest.raises(SystemExit):
        bench.parse_args(["--steps", "10", "--eval-every", "100"])
