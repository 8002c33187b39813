"""tf.train.Example records from numpy columns, many at once. Pure numpy.

Gives byte for byte what ``tf.train.Example.SerializeToString(deterministic=True)``
gives for the same features (map entries sorted by name), without building a
protobuf object per example: the records are assembled in one numpy byte
matrix per run of consecutive rows whose fields have the same lengths. Only a
varint-coded int64 and a string's length vary, so ids in order and strings
of one length give a few runs a call; values whose lengths change from row
to row are still right, only slower (a matrix a row).

Wire format (protobuf): Example{features = 1: Features{feature = 1: map<string,
Feature>}}; a map entry is {key = 1, value = 2}; Feature's ``bytes_list`` is
field 1, ``float_list`` 2, ``int64_list`` 3, each a list in its field 1
(packed for floats and int64s).
"""

from __future__ import annotations

from typing import Mapping, Optional, Sequence

import numpy as np

_BYTES_LIST, _FLOAT_LIST, _INT64_LIST = 1, 2, 3


def _tag(field: int) -> int:
    return field << 3 | 2  # length-delimited


def varint(value: int) -> bytes:
    """One unsigned varint (a negative int64 is coded as its 64-bit two's complement, 10 bytes)."""
    value &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def varint_lengths(values: np.ndarray) -> np.ndarray:
    """Bytes each value's varint takes (1 to 10)."""
    v = np.asarray(values).astype(np.int64).view(np.uint64)
    length = np.ones(v.shape, dtype=np.int64)
    for k in range(1, 10):
        length += v >= np.uint64(1 << (7 * k))
    return length


def _varints(values: np.ndarray, length: int) -> np.ndarray:
    """[n, length] uint8: the varints of ``values``, which all take ``length`` bytes."""
    v = np.asarray(values).astype(np.int64).view(np.uint64)
    out = np.empty((len(v), length), dtype=np.uint8)
    for k in range(length):
        byte = (v >> np.uint64(7 * k)) & np.uint64(0x7F)
        out[:, k] = byte | np.uint64(0x80 if k < length - 1 else 0)
    return out


def _const(data: bytes, rows: int) -> np.ndarray:
    return np.broadcast_to(np.frombuffer(data, dtype=np.uint8), (rows, len(data)))


def _delimited(field: int, body: list[np.ndarray], rows: int) -> list[np.ndarray]:
    """Field ``field`` holding ``body`` (columns of equal width in every row)."""
    width = sum(part.shape[1] for part in body)
    return [_const(bytes([_tag(field)]) + varint(width), rows), *body]


def _float_feature(values: np.ndarray) -> list[np.ndarray]:
    rows, count = values.shape
    data = np.ascontiguousarray(values, dtype="<f4").view(np.uint8).reshape(rows, 4 * count)
    packed = _delimited(1, [data], rows) if count else []
    return _delimited(_FLOAT_LIST, packed, rows)


def _int64_feature(values: np.ndarray, length: int) -> list[np.ndarray]:
    rows = len(values)
    return _delimited(_INT64_LIST, _delimited(1, [_varints(values, length)], rows), rows)


def _bytes_feature(table: np.ndarray, codes: np.ndarray) -> list[np.ndarray]:
    rows = len(codes)  # one value: written even when empty (not packed)
    return _delimited(_BYTES_LIST, _delimited(1, [table[codes]], rows), rows)


def int64_feature_bytes(value: int) -> bytes:
    """One Feature holding one int64, serialized (what ExampleGen hashes to split on that feature)."""
    inner = varint(value)
    inner = bytes([_tag(1)]) + varint(len(inner)) + inner
    return bytes([_tag(_INT64_LIST)]) + varint(len(inner)) + inner


def encode_examples(int64s: Optional[Mapping[str, np.ndarray]] = None,
                    floats: Optional[Mapping[str, np.ndarray]] = None,
                    strings: Optional[Mapping[str, np.ndarray]] = None,
                    present: Optional[Mapping[str, np.ndarray]] = None,
                    without_values: Sequence[str] = ()) -> list[bytes]:
    """Serialized tf.Examples, one per row.

    ``int64s``: name -> [n] integers, one value a feature; ``floats``: name ->
    [n] or [n, k] values, k a feature (as float32); ``strings``: name -> [n]
    str, one value a feature (UTF-8). Names must differ across the three.
    ``present``: name -> [n] bools; where False the row's feature has an empty
    value list of its kind (as TFX's CSV reader writes an empty cell).
    ``without_values``: features written with no value list at all in every row
    (TFX's CSV reader's column without a single value).
    """
    int64s, floats, strings, present = int64s or {}, floats or {}, strings or {}, present or {}
    columns = {**{k: ("int64", np.asarray(v)) for k, v in int64s.items()},
               **{k: ("float", np.asarray(v, dtype=np.float32)) for k, v in floats.items()},
               **{k: ("string", np.asarray(v)) for k, v in strings.items()}}
    valued = len(columns)
    columns.update({k: ("none", None) for k in without_values})
    if len(columns) != len(int64s) + len(floats) + len(strings) + len(without_values):
        raise ValueError("a feature name is given twice")
    present = {k: np.asarray(v, dtype=bool) for k, v in present.items()}
    if set(present) - set(columns):
        raise ValueError(f"present given for unknown features: {sorted(set(present) - set(columns))}")
    rows = {len(v) for kind, v in columns.values() if kind != "none"} | {len(v) for v in present.values()}
    if len(rows) > 1 or (not rows and columns):
        raise ValueError(f"columns of different lengths: {sorted(rows)}" if rows else "no column has rows")
    n = rows.pop() if rows else 0
    if n == 0 or not valued and not without_values:
        return []
    names = sorted(columns, key=lambda name: name.encode())  # deterministic map order

    # Per row, the widths that vary: an int64's varint, a string's bytes, whether a value is there.
    widths, strings_coded = [], {}
    for name in names:
        kind, values = columns[name]
        mask = present.get(name)
        if kind == "int64":
            widths.append(varint_lengths(values) * (1 if mask is None else mask))
        elif kind == "string":
            strings_coded[name] = _string_table(values)
            widths.append(strings_coded[name][2] * (1 if mask is None else mask))
        if mask is not None:
            widths.append(mask.astype(np.int64))
    widths = np.stack(widths, axis=1) if widths else np.zeros((n, 0), dtype=np.int64)
    if not np.any(widths[1:] != widths[:-1]):  # one width for every row (the synthetic data): one block
        return _encode_rows(names, columns, strings_coded, present, slice(0, n), n)
    # Rows grouped by their widths (a stable sort), each group encoded as one block, then put back in order:
    # text of varying length would otherwise make a block of every few rows.
    order = np.lexsort(widths.T[::-1])
    records: list[bytes] = [b""] * n
    for start, stop in _runs(widths[order]):
        rows = order[start:stop]
        for row, record in zip(rows.tolist(),
                               _encode_rows(names, columns, strings_coded, present, rows, stop - start)):
            records[row] = record
    return records


def _runs(widths: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) of each run of rows whose varying widths are all equal."""
    changes = np.flatnonzero(np.any(widths[1:] != widths[:-1], axis=1)) + 1
    bounds = [0, *changes.tolist(), len(widths)]
    return list(zip(bounds[:-1], bounds[1:]))


def _string_table(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(UTF-8 of each distinct value as rows of a zero-padded byte table, each row's code, each row's length)."""
    values = np.ascontiguousarray(values)
    if values.dtype.kind == "U" and values.dtype.itemsize in (4, 8):  # short strings: unique on integers
        as_int = values.view(np.uint32 if values.dtype.itemsize == 4 else np.uint64)
        unique_ints, codes = np.unique(as_int, return_inverse=True)
        unique = unique_ints.view(values.dtype)
    else:
        unique, codes = np.unique(values, return_inverse=True)
    encoded = [str(u).encode() for u in unique]
    lengths = np.array([len(e) for e in encoded], dtype=np.int64)
    table = np.zeros((len(encoded), max(lengths, default=0)), dtype=np.uint8)
    for i, e in enumerate(encoded):
        table[i, :len(e)] = np.frombuffer(e, dtype=np.uint8)
    codes = codes.reshape(-1)
    return table, codes, lengths[codes]


_EMPTY_LIST = {"int64": _INT64_LIST, "float": _FLOAT_LIST, "string": _BYTES_LIST}


def _encode_rows(names: list[str], columns: dict, strings_coded: dict, present: dict, rows, m: int
                 ) -> list[bytes]:
    """Records of the ``m`` rows ``rows`` (a slice or row numbers), whose varying widths are all equal."""
    entries = []
    for name in names:
        kind, values = columns[name]
        mask = present.get(name)
        if kind == "none":
            feature = []
        elif mask is not None and not mask[rows][0]:  # no value in these rows: the kind's empty list
            feature = _delimited(_EMPTY_LIST[kind], [], m)
        elif kind == "int64":
            block = values[rows]
            feature = _int64_feature(block, int(varint_lengths(block[:1])[0]))
        elif kind == "float":
            feature = _float_feature(values[rows].reshape(m, -1))
        else:
            table, codes, lengths = strings_coded[name]
            feature = _bytes_feature(table[:, :lengths[rows][0]], codes[rows])
        key = name.encode()
        entry = [_const(bytes([_tag(1)]) + varint(len(key)) + key, m), *_delimited(2, feature, m)]
        entries += _delimited(1, entry, m)
    matrix = np.concatenate(_delimited(1, entries, m), axis=1)
    width, blob = matrix.shape[1], matrix.tobytes()
    return [blob[i:i + width] for i in range(0, len(blob), width)]
