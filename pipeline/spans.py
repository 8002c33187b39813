"""Spans on disk: which spans a ``{SPAN}`` path holds, and which of them a run's window reads.

A data path such as ``daily/span-{SPAN}/rides.csv`` names one file set per
span (TFX's placeholder; ``{VERSION}`` optionally names versions of a span, the
highest of which is read). The window is the newest ``window_spans`` spans
present, gaps skipped: spans 1, 2, 4 and a window of 3 read [1, 2, 4].

Pure Python (glob and re): what TFX's ExampleGen driver will find, known before
the run, for the checks and the runner's ingestion of the window's older spans.
"""

from __future__ import annotations

import glob
import os
import re
from typing import Iterable

# TFX's placeholders, with the optional zero-padding width: {SPAN}, {SPAN:2}, {VERSION}.
_SPEC = re.compile(r"\{(SPAN|VERSION)(?::(\d+))?\}")


def has_span(pattern: str) -> bool:
    return any(m.group(1) == "SPAN" for m in _SPEC.finditer(pattern))


def span_glob(pattern: str) -> str:
    """``pattern`` with each placeholder as ``*``: a glob matching every span's (and version's) files."""
    return _SPEC.sub("*", pattern)


def _regex(pattern: str) -> re.Pattern:
    """A regex matching what ``pattern`` matches, capturing span and version."""
    parts, end = [], 0
    for m in _SPEC.finditer(pattern):
        parts.append(_glob_regex(pattern[end:m.start()]))
        digits = r"\d+" if m.group(2) is None else rf"\d{{{m.group(2)}}}"
        parts.append(f"(?P<{m.group(1).lower()}>{digits})")
        end = m.end()
    parts.append(_glob_regex(pattern[end:]))
    return re.compile("".join(parts) + r"\Z")


def _glob_regex(text: str) -> str:
    return "".join("[^/]*" if c == "*" else "[^/]" if c == "?" else re.escape(c) for c in text)


def spans_on_disk(pattern: str) -> dict[int, list[str]]:
    """Span -> its files (the highest version's, sorted), for every span ``pattern`` matches on disk."""
    regex = _regex(pattern)
    found: dict[int, dict[int, list[str]]] = {}
    for path in glob.glob(span_glob(pattern)):
        m = regex.match(path)
        if m and os.path.isfile(path):
            version = int(m.groupdict().get("version") or 0)
            found.setdefault(int(m.group("span")), {}).setdefault(version, []).append(path)
    return {span: sorted(versions[max(versions)]) for span, versions in sorted(found.items())}


def empty_span_folders(pattern: str) -> dict[int, str]:
    """Span -> its folder, for span folders (``{SPAN}`` in a folder name) holding no matching file."""
    head, _, _ = pattern.partition("{SPAN")
    if os.sep not in pattern[len(head):]:
        return {}  # {SPAN} names files, not folders
    folder_pattern = pattern[:pattern.index(os.sep, len(head))]
    regex = _regex(folder_pattern)
    files = [f for f in glob.glob(span_glob(pattern)) if os.path.isfile(f)]
    empty = {}
    for folder in glob.glob(span_glob(folder_pattern)):
        m = regex.match(folder)
        if m and os.path.isdir(folder) and not any(f.startswith(folder + os.sep) for f in files):
            empty[int(m.group("span"))] = folder
    return dict(sorted(empty.items()))


def window(spans: Iterable[int], window_spans: int) -> list[int]:
    """The newest ``window_spans`` spans present, ascending."""
    return sorted(set(spans))[-window_spans:]


def describe_spans(spans: list[int]) -> str:
    """``span 5``, ``spans 3-5``, or with a gap ``spans 1, 2, 4 (span 3 absent)``."""
    spans = sorted(spans)
    if len(spans) == 1:
        return f"span {spans[0]}"
    absent = sorted(set(range(spans[0], spans[-1] + 1)) - set(spans))
    if not absent:
        return f"spans {spans[0]}-{spans[-1]}"
    gap = ", ".join(map(str, absent))
    return f"spans {', '.join(map(str, spans))} (span{'s' if len(absent) > 1 else ''} {gap} absent)"
