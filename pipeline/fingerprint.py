"""A fingerprint of the code a component runs, for TFX's cache.

TFX caches a component by its inputs and parameters; code named by a dotted
path (``preprocessing_fn=``, ``run_fn=``) or a Python function component is
neither, so its fingerprint is added to the component's parameters: editing
that code reruns it. Each component gets the fingerprint of its own entry
module (``pipeline.definition``): editing the Trainer's code does not rerun
Transform.

The files are found from the modules themselves: the named modules, and every
module of this project they import (at any depth, including imports inside
functions, absolute or relative), with the ``__init__.py`` of each package on
the way. So code split over more modules is followed as long as it is
imported by name (not through ``importlib`` with a computed name). Nothing
here imports those modules (only their parent packages, to locate them).
A module a component imports but never runs (a schema's unrelated parts, a
function-level import in a method it never calls) can be left out by name
(``exclude``); what only it imports is then left out too.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
from pathlib import Path
from typing import Iterable, Optional

PROJECT_PACKAGES = ("config", "models", "pipeline", "components")


def _source(module: str) -> Optional[Path]:
    if module.split(".")[0] not in PROJECT_PACKAGES:
        return None
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, AttributeError, ValueError):
        return None
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        return None
    return Path(spec.origin)


def _absolute(node: ast.ImportFrom, importer: str, is_package: bool) -> str:
    """The absolute module a ``from ... import`` names (``from .x import y`` in ``models.a`` -> ``models.x``)."""
    if not node.level:
        return node.module or ""
    package = importer.split(".") if is_package else importer.split(".")[:-1]
    base = package[:len(package) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _imported_names(path: Path, importer: str) -> set[str]:
    """Every absolute module name an import in ``importer``'s file refers to (``from package import module`` too)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = _absolute(node, importer, path.name == "__init__.py")
            if not module:
                continue
            names.add(module)
            source = _source(module)
            if source is not None and source.name == "__init__.py":  # names in a package may be modules
                names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def module_files(modules: Iterable[str], exclude: Iterable[str] = ()) -> dict[str, Path]:
    """Module name -> source file of ``modules``, their packages and the project modules they import
    (not following ``exclude``)."""
    found: dict[str, Path] = {}
    excluded = set(exclude)
    pending = list(modules)
    while pending:
        name = pending.pop()
        if name in found or name in excluded:
            continue
        path = _source(name)
        if path is None:
            continue
        found[name] = path
        parts = name.split(".")
        pending.extend(".".join(parts[:i]) for i in range(1, len(parts)))  # the packages' __init__.py
        pending.extend(_imported_names(path, name))
    return found


def code_fingerprint(*modules: str, exclude: Iterable[str] = ()) -> str:
    """16 hex digits over the relative paths and contents of ``module_files(modules, exclude)``."""
    files = module_files(modules, exclude)
    digest = hashlib.sha256()
    for name in sorted(files):
        path = files[name]
        root = path.parents[len(name.split(".")) - (0 if path.name == "__init__.py" else 1)]
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]
