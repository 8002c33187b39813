"""A JSON ``{"instances": [...]}`` request turned into a signature's named inputs, as TF Serving's REST API does.

TF Serving's ``:predict`` maps each key of an instance to the signature's
input of that name, converts the JSON value to the input's dtype (a JSON
number, ``25`` or ``25.0``, to a float; a string to bytes) and stacks each
input across the instances. This does the same for ``predict_instances``
(``models.instances_signature``) so a request file can be checked without a
model server, and refuses what cannot become the input: an instance without
one of the inputs, a key the signature does not have, a string where a number
belongs, a list where one value belongs. Each refusal is one line naming the
instance and the input and saying what was expected.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from pipeline.errors import UsageError


class RequestError(UsageError):
    """A JSON request that cannot become the signature's inputs; the message names the input."""


def _describe(value) -> str:
    text = json.dumps(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _number(value, where: str) -> float:
    # bool is an int in Python, not a number in JSON.
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        missing = " (NaN stands for a missing number)" if value is None else ""
        raise RequestError(f"{where}: expected a number, got {_describe(value)}{missing}")
    return float(value)


def _value(value, shape: list, dtype: str, where: str):
    """One instance's value for an input of ``shape`` (without the batch dimension)."""
    if shape:  # a vector input: a list of exactly shape[0] numbers
        if not isinstance(value, list) or len(value) != shape[0]:
            raise RequestError(f"{where}: expected a list of {shape[0]} numbers, got {_describe(value)}")
        return [_number(v, where) for v in value]
    if dtype == "string":
        if not isinstance(value, str):
            raise RequestError(f"{where}: expected a string (\"\" for a missing value), got {_describe(value)}")
        return value
    if isinstance(value, list):
        raise RequestError(f"{where}: expected one number, got a list {_describe(value)}")
    return _number(value, where)


def input_arrays(instances, specs: dict) -> dict[str, np.ndarray]:
    """Input name -> the instances' values stacked (float32 or bytes); ``specs``: input name -> TensorSpec."""
    if not isinstance(instances, list):
        raise RequestError(f"\"instances\" must be a list of objects, got {_describe(instances)}")
    expected = ", ".join(sorted(specs))
    columns: dict[str, list] = {name: [] for name in specs}
    for i, instance in enumerate(instances):
        if not isinstance(instance, dict):
            raise RequestError(f"instance {i}: expected an object with the inputs {expected}, "
                               f"got {_describe(instance)}")
        unknown = sorted(set(instance) - set(specs))
        if unknown:
            raise RequestError(f"instance {i}: unknown input {unknown[0]!r}; the inputs are {expected}")
        for name, spec in specs.items():
            where = f"instance {i}, input {name!r}"
            if name not in instance:
                raise RequestError(f"{where} is missing: every instance carries every input "
                                   "(NaN or \"\" for a missing optional value)")
            columns[name].append(_value(instance[name], list(spec.shape[1:]), spec.dtype.name, where))
    return {name: (np.array([v.encode() for v in values], dtype=object) if specs[name].dtype.name == "string"
                   else np.array(values, dtype=np.float32).reshape([len(values), *spec.shape[1:]]))
            for (name, values), spec in zip(columns.items(), specs.values())}


def read_request(path: Path) -> tuple[list, str | None]:
    """(instances, signature_name or None) of a request file: ``{"instances": [...]}``, as TF Serving takes it."""
    try:
        body = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise RequestError(f"{path}: cannot be read ({exc})") from None
    except json.JSONDecodeError as exc:
        raise RequestError(f"{path}: not JSON ({exc})") from None
    if not isinstance(body, dict) or "instances" not in body:
        raise RequestError(f"{path}: expected an object {{\"instances\": [...]}} (TF Serving's row format)")
    return body["instances"], body.get("signature_name")

