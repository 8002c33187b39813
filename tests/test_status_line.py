"""The live status line: plain lines without control characters off a terminal, redrawn on one."""

from __future__ import annotations

import io
import logging
import re

from models.trainer_outputs import TRAINER_PROGRESS
from pipeline.cli.console import ComponentProgress
from pipeline.cli.status_line import StatusLine, format_seconds

CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")  # anything but newline


class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _record(message: str, *args) -> logging.LogRecord:
    return logging.LogRecord("absl", logging.INFO, __file__, 1, message, args, None)


def _trainer_run(progress: ComponentProgress, clock: FakeClock) -> None:
    """The log records of a Trainer run of 2,000 steps, 60 s in all."""
    progress.emit(_record("Component %s is running.", "Trainer"))
    for step in (1, 500, 1000, 1500):
        clock.now += 15
        progress.emit(_record(TRAINER_PROGRESS, step, 2000, 1.0 / step))
        progress.line.tick()
    progress.emit(_record("Component %s is finished.", "Trainer"))


def test_not_a_terminal_plain_lines_then_the_final_line():
    out, clock = io.StringIO(), FakeClock()
    progress = ComponentProgress(out, is_terminal=False)
    progress.line = StatusLine(out, is_terminal=False, clock=clock, plain_every=30)
    _trainer_run(progress, clock)
    text = out.getvalue()
    assert not CONTROL.search(text)
    lines = text.splitlines()
    # Progress at most every 30 s: at 30 s (step 500) and 60 s (step 1,500), then the final line.
    assert lines[:2] == ["  Trainer                          running 30 s, step 500/2,000, loss 0.002, ETA 45 s",
                         "  Trainer                          running 1 min 00 s, step 1,500/2,000, loss 0.0006667, "
                         "ETA 15 s"]
    assert re.fullmatch(r"  Trainer\s+ran\s+\d+\.\d s", lines[2])
    assert len(lines) == 3


def test_terminal_redraws_in_place_and_the_final_line_replaces_it():
    out, clock = io.StringIO(), FakeClock()
    progress = ComponentProgress(out, is_terminal=True)
    progress.line = StatusLine(out, is_terminal=True, clock=clock)
    _trainer_run(progress, clock)
    text = out.getvalue()
    assert "\x1b" not in text  # no escape sequences, only carriage returns
    drawn = text.split("\r")
    assert "step 1,500/2,000" in drawn[-2] and "ETA 15 s" in drawn[-2]
    final = drawn[-1]
    assert final.endswith("\n") and final.count("\n") == 1
    assert final.rstrip("\n").rstrip().endswith(" s") and " ran " in final
    # Padded so that nothing of the longer status line shows after it.
    assert len(final.rstrip("\n")) >= len(drawn[-2])


def test_components_without_progress_show_elapsed_time_only():
    out, clock = io.StringIO(), FakeClock()
    line = StatusLine(out, is_terminal=False, clock=clock, plain_every=30)
    line.start("Evaluator")
    clock.now += 125
    line.tick()
    line.finish("  Evaluator                        ran       125.0 s")
    assert out.getvalue().splitlines() == ["  Evaluator                        running 2 min 05 s",
                                           "  Evaluator                        ran       125.0 s"]


def test_format_seconds():
    assert [format_seconds(s) for s in (0.4, 59, 61, 3600 + 120)] == ["0 s", "59 s", "1 min 01 s", "1 h 02 min"]
