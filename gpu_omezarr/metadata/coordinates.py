"""OME-NGFF 0.6 (RFC-5): coordinate systems and transformations with an input and an output.

The builders make a multiscale entry in the 0.4/0.5 shape (``axes``; per dataset a ``scale``
and perhaps a ``translation``); :func:`to_coordinate_systems` turns it into 0.6: one
``intrinsic`` coordinate system holding the axes, and per dataset one transformation from
its array (``input: {"path": ...}``) to that system: a ``scale``, or a ``sequence`` of the
scale then the translation, as the specification's example writes it. :func:`plain_multiscale`
reads either shape back as the 0.4/0.5 one, for code that only needs axes, scales and
translations. :func:`validate_multiscale_06` checks the rules no 0.6 schema states.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from ._errors import invalid, require_number, wrong_type
from .axes import validate_axes

INTRINSIC = "intrinsic"  # the name the specification's example and ngff-zarr use
WORLD = "world"  # where a multiscale-level transformation (0.4/0.5's) leads
_VECTOR = ("scale", "translation")


def _scale_then_translation(
    steps: Sequence[Mapping[str, Any]], extra: Mapping[str, Any]
) -> dict[str, Any]:
    """One 0.6 transformation for 0.4/0.5's ``[scale]`` or ``[scale, translation]``."""
    if len(steps) == 1:
        return {**copy.deepcopy(dict(steps[0])), **extra}
    inner = [copy.deepcopy(dict(step)) for step in steps]
    return {"type": "sequence", **extra, "transformations": inner}


def to_coordinate_systems(entry: Mapping[str, Any]) -> dict[str, Any]:
    """A 0.4/0.5-shaped multiscale entry (already validated) in the 0.6 shape."""
    result: dict[str, Any] = {}
    axes = [dict(a) for a in entry["axes"]]
    systems = [{"name": INTRINSIC, "axes": axes}]
    for key, value in entry.items():
        if key == "axes":
            result["coordinateSystems"] = systems
        elif key == "datasets":
            result["datasets"] = [
                {
                    **{k: v for k, v in d.items() if k != "coordinateTransformations"},
                    "coordinateTransformations": [
                        _scale_then_translation(
                            d["coordinateTransformations"],
                            {"input": {"path": d["path"]}, "output": {"name": INTRINSIC}},
                        )
                    ],
                }
                for d in value
            ]
        elif key == "coordinateTransformations":
            systems.insert(0, {"name": WORLD, "axes": copy.deepcopy(axes)})
            ends = {"input": {"name": INTRINSIC}, "output": {"name": WORLD}}
            result[key] = [_scale_then_translation(value, ends)]
        else:
            result[key] = copy.deepcopy(value)
    return result


def _as_scale_translation(
    transform: Mapping[str, Any], ndim: int
) -> tuple[list[float], list[float] | None] | None:
    """``(scale, translation)`` of an identity, scale, translation or a sequence of them;
    None for anything else (affine, rotation, parameters stored in arrays...)."""
    kind = transform.get("type")
    if kind == "identity":
        return [1] * ndim, None
    if kind in _VECTOR and isinstance(transform.get(kind), list):
        values = list(transform[kind])
        return (values, None) if kind == "scale" else ([1] * len(values), values)
    if kind != "sequence" or not isinstance(transform.get("transformations"), list):
        return None
    scale: list[float] = [1] * ndim
    shift: list[float] | None = None
    for step in transform["transformations"]:
        found = _as_scale_translation(step, ndim) if isinstance(step, Mapping) else None
        if found is None or len(found[0]) != ndim:
            return None
        s, t = found
        # x -> s * (scale * x + shift) + t
        shift = [a * (b or 0) for a, b in zip(s, shift or [0] * ndim, strict=True)]
        shift = [a + b for a, b in zip(shift, t or [0] * ndim, strict=True)]
        scale = [a * b for a, b in zip(s, scale, strict=True)]
    return scale, shift


def _steps(scale: list[float], shift: list[float] | None) -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = [{"type": "scale", "scale": scale}]
    if shift is not None:
        steps.append({"type": "translation", "translation": shift})
    return steps


def dataset_system(entry: Mapping[str, Any]) -> dict[str, Any]:
    """The coordinate system the first dataset's transformation leads to (0.6 entry)."""
    systems = {s.get("name"): s for s in entry.get("coordinateSystems", [])}
    transform = entry["datasets"][0]["coordinateTransformations"][0]
    output = transform.get("output")
    name = output.get("name") if isinstance(output, Mapping) else output
    if name not in systems:
        invalid("datasets[0].coordinateTransformations[0].output", output, "not a declared system")
    return systems[name]


def plain_multiscale(entry: Mapping[str, Any]) -> dict[str, Any]:
    """The multiscale entry in the 0.4/0.5 shape (``axes``, datasets with ``[scale,
    translation]``) whichever version wrote it. Raises ``ValueError`` for a 0.6 dataset whose
    transformation is no scale/translation (no such dataset is valid 0.6)."""
    if "coordinateSystems" not in entry:
        return dict(entry)
    axes = dataset_system(entry)["axes"]
    result = {k: v for k, v in entry.items() if k not in ("coordinateSystems", "datasets")}
    result.pop("coordinateTransformations", None)
    result["axes"] = copy.deepcopy(axes)
    datasets = []
    for i, dataset in enumerate(entry["datasets"]):
        found = _as_scale_translation(dataset["coordinateTransformations"][0], len(axes))
        if found is None:
            invalid(f"datasets[{i}].coordinateTransformations", dataset, "not a scale/translation")
        rest = {k: v for k, v in dataset.items() if k != "coordinateTransformations"}
        datasets.append({**rest, "coordinateTransformations": _steps(*found)})
    result["datasets"] = datasets
    top = entry.get("coordinateTransformations")
    if isinstance(top, list) and len(top) == 1 and isinstance(top[0], Mapping):
        found = _as_scale_translation(top[0], len(axes))
        if found is not None:
            result["coordinateTransformations"] = _steps(*found)
    return result


def _reference(field: str, value: Any, key: str) -> str:
    if not isinstance(value, Mapping):
        wrong_type(field, value, f"an object such as {{{key!r}: ...}}")
    name = value.get(key)
    if not isinstance(name, str) or not name:
        invalid(field, dict(value), f"must name a {key!r}")
    return name


def _check_dims(field: str, transform: Mapping[str, Any], ndim: int) -> None:
    """Each vector parameter (``scale``, ``translation``, also inside a sequence) has one
    value per axis of the system it maps to."""
    kind = transform.get("type")
    if kind in _VECTOR and kind in transform:
        values = transform[kind]
        if not isinstance(values, list):
            wrong_type(f"{field}.{kind}", values, "a list of numbers")
        if len(values) != ndim:
            invalid(f"{field}.{kind}", values, f"must have {ndim} values (one per axis)")
        for j, v in enumerate(values):
            require_number(f"{field}.{kind}[{j}]", v)
    for j, step in enumerate(transform.get("transformations") or []):
        if isinstance(step, Mapping):
            _check_dims(f"{field}.transformations[{j}]", step, ndim)


def _validate_system_axes(axes: list) -> None:
    """0.4/0.5's axis rules, or for a system of array axes (0.6 allows two or more axes of
    type ``array`` in place of the space axes) unique names alone."""
    types = [a.get("type") if isinstance(a, Mapping) else None for a in axes]
    if "space" in types or types.count("array") < 2:
        validate_axes(axes)
        return
    names = [a.get("name") for a in axes]
    if not all(isinstance(n, str) and n for n in names) or len(set(names)) != len(names):
        invalid("axes", names, "names must be unique non-empty strings")


def validate_multiscale_06(entry: Mapping[str, Any]) -> None:
    """The 0.6 rules that no schema states: systems named once and their axes valid; each
    dataset maps from its own array to one declared system, the same for every level, with
    as many values as that system has axes; multiscale-level transformations join declared
    systems."""
    systems = entry.get("coordinateSystems")
    if not isinstance(systems, list) or not systems:
        invalid("coordinateSystems", systems, "must be a non-empty list")
    axes_of: dict[str, list] = {}
    for i, system in enumerate(systems):
        if not isinstance(system, Mapping):
            wrong_type(f"coordinateSystems[{i}]", system, "a dict")
        name = system.get("name")
        if not isinstance(name, str) or not name:
            invalid(f"coordinateSystems[{i}].name", name, "must be a non-empty string")
        if name in axes_of:
            invalid(f"coordinateSystems[{i}].name", name, "names must be unique")
        axes_of[name] = list(system.get("axes") or [])
    datasets = entry.get("datasets")
    if not isinstance(datasets, list) or not datasets:
        invalid("datasets", datasets, "must be a non-empty list")
    outputs = set()
    for i, dataset in enumerate(datasets):
        field = f"datasets[{i}].coordinateTransformations"
        transforms = dataset.get("coordinateTransformations")
        if not isinstance(transforms, list) or len(transforms) != 1:
            invalid(field, transforms, "must hold exactly one transformation")
        transform = transforms[0]
        path = _reference(f"{field}[0].input", transform.get("input"), "path")
        if path != dataset.get("path"):
            invalid(
                f"{field}[0].input", path, f"must be the dataset's path {dataset.get('path')!r}"
            )
        output = _reference(f"{field}[0].output", transform.get("output"), "name")
        if output not in axes_of:
            invalid(f"{field}[0].output", output, f"is no declared system ({sorted(axes_of)})")
        outputs.add(output)
        _check_dims(f"{field}[0]", transform, len(axes_of[output]))
    if len(outputs) > 1:
        invalid("datasets", sorted(outputs), "every level must map to the same system")
    _validate_system_axes(axes_of[outputs.pop()])
    for i, transform in enumerate(entry.get("coordinateTransformations") or []):
        field = f"coordinateTransformations[{i}]"
        if not isinstance(transform, Mapping):
            wrong_type(field, transform, "a dict")
        names = []
        for end in ("input", "output"):
            name = _reference(f"{field}.{end}", transform.get(end), "name")
            if name not in axes_of:
                invalid(f"{field}.{end}", name, f"is no declared system ({sorted(axes_of)})")
            names.append(name)
        if len(axes_of[names[0]]) == len(axes_of[names[1]]):
            _check_dims(field, transform, len(axes_of[names[1]]))
