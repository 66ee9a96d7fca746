"""Checking a group's attributes against the released OME-NGFF JSON schemas (0.6 here).

The schemas ship with the package (``schemas/0.6``) and every ``$ref`` resolves locally.
``jsonschema`` is optional: :func:`available` says whether it is installed.
"""

from __future__ import annotations

import functools
import importlib.util
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

FOLDER = Path(__file__).resolve().parent / "schemas"
SCHEMA_VERSIONS = ("0.6",)
# Which schema checks which OME block; a group with none of them gets the generic one.
_BY_KEY = {
    "multiscales": "image",
    "image-label": "label",
    "plate": "plate",
    "well": "well",
    "scene": "scene",
    "bioformats2raw.layout": "bf2raw",
    "series": "ome",
}
_STRICT = ("image", "label", "plate", "well")


def available() -> bool:
    """True when ``jsonschema`` (and ``referencing``) can be imported."""
    return all(importlib.util.find_spec(m) is not None for m in ("jsonschema", "referencing"))


@functools.cache
def _registry(version: str) -> Any:
    import referencing
    import referencing.jsonschema

    resources = []
    for path in sorted((FOLDER / version).glob("*.schema")):
        schema = json.loads(path.read_text())
        resources.append(
            (schema["$id"], referencing.jsonschema.DRAFT202012.create_resource(schema))
        )
    return referencing.Registry().with_resources(resources)


def schema_names(ome: Mapping[str, Any], strict: bool = False) -> list[str]:
    """The schemas that apply to a group whose ``attributes["ome"]`` is ``ome`` (none for a
    ``labels`` group: 0.6 has no schema for one)."""
    names = [name for key, name in _BY_KEY.items() if key in ome]
    if not names and "labels" not in ome:
        names = ["ome_zarr"]
    return [f"strict_{n}" if strict and n in _STRICT else n for n in names]


def check(attributes: Mapping[str, Any], version: str, strict: bool = False) -> list[str]:
    """Problems (empty: valid) of ``attributes`` (the whole ``attributes`` object of a
    ``zarr.json``) against the ``version`` schemas; ``strict`` adds the SHOULDs."""
    import jsonschema

    registry = _registry(version)
    ome = attributes.get("ome")
    problems = []
    for name in schema_names(ome if isinstance(ome, Mapping) else {}, strict) or ():
        schema = json.loads((FOLDER / version / f"{name}.schema").read_text())
        validator = jsonschema.Draft202012Validator(schema, registry=registry)
        error = jsonschema.exceptions.best_match(validator.iter_errors(dict(attributes)))
        if error is not None:
            where = "/".join(str(p) for p in error.absolute_path) or "(top)"
            problems.append(f"{name}.schema: at {where}: {error.message[:300]}")
    return problems
