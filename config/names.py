"""Column names as the file has them, and the internal names derived from them.

The configuration names columns exactly as the file's header does (hyphens,
spaces, dots and all). Transform outputs, vocabulary files and Keras inputs
and layers need names made of letters, digits and underscores: every other
character becomes ``_``, and a name starting with a digit gets a leading
``_``. Two columns the pipeline reads that get the same internal name are a
configuration error (``colliding_columns``).

Pure Python: no TensorFlow.
"""

from __future__ import annotations

import re
from typing import Iterable

_UNSAFE = re.compile(r"[^A-Za-z0-9_]")


def internal_name(column: str) -> str:
    """``'education-num'`` -> ``'education_num'``; ``'2nd value'`` -> ``'_2nd_value'``."""
    name = _UNSAFE.sub("_", column)
    return f"_{name}" if not name or name[0].isdigit() else name


def colliding_columns(columns: Iterable[str]) -> list[tuple[str, ...]]:
    """Groups of distinct columns that share an internal name, each sorted; [] when none do."""
    groups: dict[str, set[str]] = {}
    for column in columns:
        groups.setdefault(internal_name(column), set()).add(column)
    return sorted(tuple(sorted(g)) for g in groups.values() if len(g) > 1)


def describe_collision(group: tuple[str, ...]) -> str:
    """One sentence naming the columns, their shared internal name and the fix."""
    shown = " and ".join(repr(c) for c in group)
    return (f"columns {shown} both become the internal name {internal_name(group[0])!r} "
            "(characters other than letters, digits and _ are replaced by _); rename one of them "
            "in the file's header and in the configuration")
