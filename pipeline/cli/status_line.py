"""A live status line for the running component: elapsed time, and the Trainer's step, loss and ETA.

On a terminal the line is redrawn in place (carriage return, padded with
spaces) and replaced by the component's final line when it finishes. When
the output is not a terminal (a CI log, a pipe) it prints plain lines without
control characters: a progress line at most every ``plain_every`` seconds,
then the final line.

Pure logic: the clock and the output stream are given, and ``tick()`` is
what a timer thread calls, so it is tested without TFX and without waiting.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Callable, Optional, TextIO


@dataclass
class TrainerProgress:
    step: int
    total: int
    loss: float
    at: float  # clock time of the report
    first_at: float  # clock time of the first report (training under way)
    first_step: int


def format_seconds(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


class StatusLine:
    def __init__(self, out: TextIO, is_terminal: Optional[bool] = None,
                 clock: Callable[[], float] = time.monotonic, plain_every: float = 30.0):
        self.out = out
        self.is_terminal = out.isatty() if is_terminal is None else is_terminal
        self.clock = clock
        self.plain_every = plain_every
        self.component: Optional[str] = None
        self.started = 0.0
        self.trainer: Optional[TrainerProgress] = None
        self._last_plain = 0.0
        self._width = 0  # of the line drawn in place, to blank it out
        self._lock = threading.Lock()

    # Events ---------------------------------------------------------------
    def start(self, component: str) -> None:
        with self._lock:
            self.component, self.started, self.trainer = component, self.clock(), None
            self._last_plain = self.started

    def trainer_progress(self, step: int, total: int, loss: float) -> None:
        with self._lock:
            now = self.clock()
            if self.trainer is None:
                self.trainer = TrainerProgress(step, total, loss, now, now, step)
            else:
                self.trainer.step, self.trainer.total, self.trainer.loss, self.trainer.at = step, total, loss, now
        self.tick()

    def finish(self, line: str) -> None:
        """Replaces the status line with the component's final line."""
        with self._lock:
            self.component = None
            self._write_final(line)

    def end(self) -> None:
        """Ends a line drawn in place (before an error message, say)."""
        with self._lock:
            if self.is_terminal and self._width:
                self.out.write("\n")
                self.out.flush()
                self._width = 0

    def tick(self) -> None:
        """Redraws the line (terminal) or prints a plain progress line when one is due."""
        with self._lock:
            if self.component is None:
                return
            now = self.clock()
            text = self.describe(now)
            if self.is_terminal:
                self._draw(text)
            elif now - self._last_plain >= self.plain_every:
                self._last_plain = now
                print(text, file=self.out, flush=True)

    # Text -----------------------------------------------------------------
    def describe(self, now: float) -> str:
        parts = [f"  {self.component:<32} running {format_seconds(now - self.started)}"]
        t = self.trainer
        if t is not None:
            parts.append(f"step {t.step:,}/{t.total:,}, loss {t.loss:.4g}")
            eta = self.eta(t)
            if eta is not None:
                parts.append(f"ETA {format_seconds(eta)}")
        return ", ".join(parts)

    @staticmethod
    def eta(t: TrainerProgress) -> Optional[float]:
        done = t.step - t.first_step
        if done <= 0 or t.at <= t.first_at:
            return None
        return (t.total - t.step) * (t.at - t.first_at) / done

    # Output ---------------------------------------------------------------
    def _draw(self, text: str) -> None:
        padding = " " * max(0, self._width - len(text))
        self.out.write("\r" + text + padding)
        self.out.flush()
        self._width = len(text)

    def _write_final(self, line: str) -> None:
        if self.is_terminal and self._width:
            self.out.write("\r" + line + " " * max(0, self._width - len(line)) + "\n")
            self._width = 0
        else:
            self.out.write(line + "\n")
        self.out.flush()


class Ticker:
    """Calls ``status.tick()`` every ``interval`` seconds on a daemon thread until stopped."""

    def __init__(self, status: StatusLine, interval: float):
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(status, interval), daemon=True)

    def _run(self, status: StatusLine, interval: float) -> None:
        while not self._stop.wait(interval):
            status.tick()

    def __enter__(self) -> "Ticker":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
