"""Warm start: save a model's weights by layer and variable name; start a new model from them.

Keras in, Keras out: no TFX here. The Trainer saves ``WEIGHTS_FILE`` next to
the SavedModel in its Model artifact and, given a base model
(``training.warm_start``), copies into the new network every variable whose
layer, name and shape match.

Categorical inputs: Transform's vocabularies are ordered by frequency, so an
index can mean another token in the next run's vocabulary (a token that grew
more frequent moves up). Rows are therefore copied by token, never by index:
the file holds each categorical input's vocabulary (from the transform graph
the model was trained with), and the index layout is the one of
``models.features.ModelInput`` (0 = missing, then the vocabulary, then the
OOV buckets). This applies to an embedding's rows and, for a one-hot input,
to the rows of the Dense kernels that read the concatenated inputs. A token
new to this run keeps its fresh initialisation.

A different architecture or other inputs: training starts from scratch.
"""

from __future__ import annotations

import io
import json
import os
from dataclasses import asdict, dataclass
from typing import Callable, Optional

import numpy as np
import tensorflow as tf
import tf_keras

from models.ensemble import MemberCopies

WEIGHTS_FILE = "keras_weights.npz"  # beside Format-Serving in the Trainer's Model artifact
_META = "__meta__"
INPUTS_LAYER = "inputs"  # models.blocks: the Concatenate of every encoded input

# Input name -> (its vocabulary's tokens, its number of OOV buckets).
Vocabularies = dict[str, tuple[list[bytes], int]]


@dataclass(frozen=True)
class WarmStart:
    """What the Trainer started from; ``models.trainer_outputs.WARM_START_FILE`` holds it."""

    warm_start: str  # "from" (a base model's weights) or "scratch"
    base_model: Optional[str]
    matched: int  # layers with weights whose every variable was copied
    total: int  # layers with weights
    reason: str

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2) + "\n"


def weights_path(serving_model_dir: str) -> str:
    """The weights file of the Model artifact whose SavedModel is ``serving_model_dir``."""
    return os.path.join(os.path.dirname(serving_model_dir.rstrip("/")), WEIGHTS_FILE)


def _variables(model: tf_keras.Model) -> dict[str, dict[str, tf.Variable]]:
    """Layer name -> variable name (without scope and ``:0``) -> variable, for layers with weights."""
    out = {}
    for layer in model.layers:
        names = {}
        for i, variable in enumerate(layer.weights):
            name = variable.name.split("/")[-1].split(":")[0]
            names[name if name not in names else f"{name}_{i}"] = variable
        if names:
            out[layer.name] = names
    return out


def _encoded_inputs(model: tf_keras.Model) -> tuple[Optional[str], list[tuple[str, int]]]:
    """(the layer whose output the first Dense layers read, (input name, width) of each block of it)."""
    names = sorted(model.input_names)
    layer_names = {layer.name for layer in model.layers}
    if INPUTS_LAYER in layer_names:
        concat = model.get_layer(INPUTS_LAYER)
        return INPUTS_LAYER, [(name, int(t.shape[-1])) for name, t in zip(names, concat.input)]
    # One input, not concatenated: its encoding (models.blocks._encode), or the input itself.
    for feed in (f"{names[0]}_one_hot", f"{names[0]}_flat", f"{names[0]}_periodic",
                 f"{names[0]}_piecewise_linear", names[0]):
        if feed in layer_names:
            return feed, [(names[0], int(model.get_layer(feed).output.shape[-1]))]
    return None, []


def save(model: tf_keras.Model, path: str, architecture: str, vocabularies: Vocabularies) -> None:
    """Every variable of ``model`` by layer and name, with what it takes to map its rows later."""
    arrays = {f"{layer}/{name}": v.numpy() for layer, vs in _variables(model).items() for name, v in vs.items()}
    meta = {"architecture": architecture, "inputs": sorted(model.input_names),
            "segments": _encoded_inputs(model)[1],
            "vocabularies": {name: {"tokens": [t.decode("utf-8", "surrogateescape") for t in tokens],
                                    "oov": oov} for name, (tokens, oov) in vocabularies.items()}}
    arrays[_META] = np.array(json.dumps(meta))
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    with tf.io.gfile.GFile(path, "wb") as f:
        f.write(buffer.getvalue())


def load(path: str) -> tuple[dict[str, np.ndarray], dict]:
    """(variable arrays by ``layer/name``, the metadata ``save`` wrote)."""
    with tf.io.gfile.GFile(path, "rb") as f:
        data = np.load(io.BytesIO(f.read()), allow_pickle=False)
        arrays = {key: data[key] for key in data.files}
    return arrays, json.loads(str(arrays.pop(_META)))


def _index_map(new: tuple[list[bytes], int], old: dict) -> np.ndarray:
    """For each index of the new input, the old index of the same token (or OOV bucket); -1: none."""
    tokens, oov = new
    old_position = {t.encode("utf-8", "surrogateescape"): i for i, t in enumerate(old["tokens"])}
    old_size = len(old["tokens"])
    rows = [0]  # missing
    rows += [1 + old_position[t] if t in old_position else -1 for t in tokens]
    rows += [1 + old_size + b if b < old["oov"] else -1 for b in range(oov)]
    return np.array(rows)


def _row_maps(model: tf_keras.Model, vocabularies: Vocabularies, meta: dict) -> dict[str, np.ndarray]:
    """Layer name -> for each row of its first variable, the row of the saved one to copy (-1: none)."""
    index_maps = {name: _index_map(vocab, meta["vocabularies"][name])
                  for name, vocab in vocabularies.items() if name in meta["vocabularies"]}
    maps = {f"{name}_embedding": rows for name, rows in index_maps.items()}
    feed, segments = _encoded_inputs(model)
    old_offsets, offset = {}, 0
    for name, width in meta["segments"]:
        old_offsets[name], offset = (offset, width), offset + width
    layout = []
    for name, width in segments:
        start, old_width = old_offsets.get(name, (None, None))
        if start is None:
            layout += [-1] * width
        elif name in index_maps and width == len(index_maps[name]):  # one-hot: rows by token
            layout += [start + i if i >= 0 else -1 for i in index_maps[name]]
        elif old_width == width:
            layout += list(range(start, start + width))
        else:
            layout += [-1] * width
    # The layers reading the encoded inputs: Dense kernels, and an ensemble's input scales (rows by
    # input position too), then the Dense kernels reading the ensemble's copies.
    feeds = [feed]
    for layer in model.layers:
        if feed and _reads(layer, feeds) and isinstance(layer, (tf_keras.layers.Dense, MemberCopies)):
            maps[layer.name] = np.array(layout)
            if isinstance(layer, MemberCopies):
                feeds.append(layer.name)
    return maps


def _reads(layer, feeds: list[str]) -> bool:
    """Whether ``layer``'s one input is the output of a layer named in ``feeds``."""
    inbound = getattr(layer, "_inbound_nodes", [])
    sources = [source.name for source in tf.nest.flatten(inbound[0].inbound_layers)] if inbound else []
    return len(sources) == 1 and sources[0] in feeds


def _fits(variable: tf.Variable, saved: Optional[np.ndarray], rows: Optional[np.ndarray]) -> bool:
    if saved is None:
        return False
    if rows is None:
        return tuple(variable.shape) == saved.shape
    return (tuple(variable.shape[1:]) == saved.shape[1:] and len(rows) == variable.shape[0]
            and rows.max(initial=-1) < saved.shape[0])


def _copy(variable: tf.Variable, saved: np.ndarray, rows: Optional[np.ndarray]) -> None:
    """Copies ``saved`` into ``variable``; by ``rows`` when given (a row without a source keeps its value)."""
    if rows is None:
        variable.assign(saved)
        return
    value = variable.numpy()
    kept = rows >= 0
    value[kept] = saved[rows[kept]]
    variable.assign(value)


def start_from(model: tf_keras.Model, weights_file: str, architecture: str,
               vocabularies: Vocabularies, base_model: Optional[str] = None) -> WarmStart:
    """Copies the saved weights that fit into ``model``; says what it did.

    ``vocabularies``: this run's categorical inputs (input name -> tokens, OOV
    buckets). From scratch (nothing copied) when the file is missing, the
    architecture or the inputs differ, or no layer fits.
    """
    base = base_model or weights_file

    def scratch(reason: str, total: int = 0) -> WarmStart:
        return WarmStart("scratch", base, 0, total, reason)

    variables = _variables(model)
    if not tf.io.gfile.exists(weights_file):
        return scratch(f"the base model has no {WEIGHTS_FILE}", len(variables))
    arrays, meta = load(weights_file)
    if meta["architecture"] != architecture:
        return scratch(f"the architecture changed ({meta['architecture']} -> {architecture})", len(variables))
    if meta["inputs"] != sorted(model.input_names):
        return scratch(f"the inputs changed ({', '.join(meta['inputs'])} -> "
                       f"{', '.join(sorted(model.input_names))})", len(variables))
    maps = _row_maps(model, vocabularies, meta)
    # A row map applies to a layer's first variable (its kernel or embedding table) only.
    fits = {layer: all(_fits(v, arrays.get(f"{layer}/{name}"), maps.get(layer) if i == 0 else None)
                       for i, (name, v) in enumerate(named.items()))
            for layer, named in variables.items()}
    matched = [layer for layer, fit in fits.items() if fit]
    if not matched:
        return scratch("no layer of the base model fits this one", len(variables))
    for layer in matched:
        for i, (name, variable) in enumerate(variables[layer].items()):
            _copy(variable, arrays[f"{layer}/{name}"], maps.get(layer) if i == 0 else None)
    reason = ("every layer matched" if len(matched) == len(variables)
              else f"{len(matched)} of {len(variables)} layers matched")
    return WarmStart("from", base, len(matched), len(variables), reason)


def vocabularies(categorical: dict[str, tuple[str, int]],
                 vocabulary_by_name: Callable[[str], list[bytes]]) -> Vocabularies:
    """Input name -> (tokens, OOV buckets), from input name -> (vocabulary file name, OOV buckets)."""
    return {name: (list(vocabulary_by_name(file)), oov) for name, (file, oov) in categorical.items()}
