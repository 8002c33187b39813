"""All-or-nothing writes: a failed or interrupted write never leaves a half-written output."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Union


def write_atomically(target: Path, content: Union[str, dict[str, str]]) -> None:
    """Writes ``content`` to ``target``: a text file, or a folder of files (name -> text).

    Everything is written beside ``target`` first and then moved into place
    with one rename; a folder that exists is swapped out whole, then removed.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(content)
            os.replace(tmp, target)
        except BaseException:
            os.unlink(tmp)
            raise
        return
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        for name, text in content.items():
            (staging / name).write_text(text, encoding="utf-8")
        if target.exists():  # an earlier version: swap, then drop the old one
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}-old-", dir=target.parent))
            os.replace(target, old / target.name)
            os.replace(staging, target)
            shutil.rmtree(old)
        else:
            os.replace(staging, target)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
