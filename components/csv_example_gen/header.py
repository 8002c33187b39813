"""A CSV header line as column names: pure Python, shared by ExampleGen and the data checks.

Tolerates what real files have: a UTF-8 byte-order mark, CRLF line ends,
spaces after the delimiter (``a, b``) and quoted names (``"a,b"``).
"""

from __future__ import annotations

import csv
from typing import Iterator

BOM = "\ufeff"


def parse_header(line: str) -> list[str]:
    """``'\\ufeffage, education-num\\r\\n'`` -> ``['age', 'education-num']``."""
    row = next(csv.reader([line.removeprefix(BOM).rstrip("\r\n")], skipinitialspace=True), [])
    return [name.strip() for name in row]


def strip_cells(cells: list) -> list:
    """Cells without the spaces around them (``b' 39'`` -> ``b'39'``), so ``a, b`` types like ``a,b``."""
    return [cell.strip() if cell is not None else cell for cell in cells]


def read_rows(f) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, column -> cell) for each row of an open text file, keyed as ``parse_header`` names them.

    Cells lose the spaces around them; a short row has '' for the columns it lacks.
    """
    header = parse_header(f.readline())
    reader = csv.reader(f, skipinitialspace=True)
    for row in reader:
        if not row:
            continue
        yield reader.line_num + 1, {name: (row[i].strip() if i < len(row) else "")
                                    for i, name in enumerate(header)}
