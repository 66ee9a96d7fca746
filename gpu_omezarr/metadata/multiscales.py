"""Multiscales (datasets and their coordinate transformations) and omero rendering settings."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from ._errors import MissingKeyError, invalid, require_number, wrong_type
from .axes import validate_axes
from .coordinates import to_coordinate_systems
from .format import Format

METHODS = ("mean", "nearest", "mode")


def level_transformations(
    scale: Sequence[float], translation: Sequence[float] | None = None
) -> list[dict[str, Any]]:
    """``[{"type": "scale", ...}, {"type": "translation", ...}]`` for one dataset."""
    transforms: list[dict[str, Any]] = [
        {"type": "scale", "scale": [_json_number(v) for v in scale]}
    ]
    if translation is not None:
        transforms.append(
            {"type": "translation", "translation": [_json_number(v) for v in translation]}
        )
    return transforms


def _json_number(value: float) -> float | int:
    # Keep integers integral so the JSON reads as people wrote it.
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else float(value)


def validate_transformations(transforms: Any, ndim: int | None, field: str) -> None:
    """Exactly one ``scale`` first (positive, finite, length ``ndim``), then at most one
    ``translation`` of the same length."""
    if not isinstance(transforms, Sequence) or isinstance(transforms, str):
        wrong_type(field, transforms, "a list of transformations")
    if not transforms:
        invalid(field, transforms, "must contain a 'scale' transformation")
    kinds = [t.get("type") if isinstance(t, Mapping) else None for t in transforms]
    if kinds[0] != "scale":
        invalid(field, transforms, "the first transformation must be of type 'scale'")
    if kinds.count("scale") != 1:
        invalid(field, transforms, "must contain exactly one 'scale'")
    if kinds.count("translation") > 1 or len(transforms) > 1 + kinds.count("translation"):
        invalid(field, transforms, "after the scale, only one 'translation' is allowed")
    for i, (kind, transform) in enumerate(zip(kinds, transforms, strict=True)):
        values = transform.get(kind)
        where = f"{field}[{i}].{kind}"
        if "path" in transform:
            invalid(where, transform, "transformations given by 'path' are not supported")
        if not isinstance(values, Sequence) or isinstance(values, str):
            wrong_type(where, values, "a list of numbers")
        if ndim is not None and len(values) != ndim:
            invalid(where, list(values), f"must have {ndim} values (one per axis)")
        for j, v in enumerate(values):
            require_number(f"{where}[{j}]", v)
            if kind == "scale" and v <= 0:
                invalid(f"{where}[{j}]", v, "scale values must be positive")


def build_datasets(
    scales: Sequence[Sequence[float]],
    translations: Sequence[Sequence[float] | None] | None = None,
    paths: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """Datasets ``s0..sN`` (or ``paths``), fine to coarse, each with its transformations."""
    paths = list(paths) if paths is not None else [f"s{i}" for i in range(len(scales))]
    translations = list(translations) if translations is not None else [None] * len(scales)
    return [
        {"path": path, "coordinateTransformations": level_transformations(scale, shift)}
        for path, scale, shift in zip(paths, scales, translations, strict=True)
    ]


def validate_datasets(datasets: Any, ndim: int | None) -> list[dict[str, Any]]:
    if not isinstance(datasets, Sequence) or isinstance(datasets, str):
        wrong_type("datasets", datasets, "a list of dicts")
    if not datasets:
        invalid("datasets", datasets, "must not be empty")
    paths = []
    previous_scale = None
    for i, dataset in enumerate(datasets):
        if not isinstance(dataset, Mapping):
            wrong_type(f"datasets[{i}]", dataset, "a dict")
        path = dataset.get("path")
        if not isinstance(path, str) or not path:
            invalid(f"datasets[{i}].path", path, "must be a non-empty string")
        paths.append(path)
        transforms = dataset.get("coordinateTransformations")
        validate_transformations(transforms, ndim, f"datasets[{i}].coordinateTransformations")
        scale = transforms[0]["scale"]
        if previous_scale is not None and any(
            s < p for s, p in zip(scale, previous_scale, strict=True)
        ):
            invalid(f"datasets[{i}].scale", scale, "levels must go from fine to coarse")
        previous_scale = scale
    if len(set(paths)) != len(paths):
        invalid("datasets.path", paths, "paths must be unique")
    return [dict(d) for d in datasets]


def build_multiscale(
    axes: Sequence[Mapping[str, Any]],
    datasets: Sequence[Mapping[str, Any]],
    *,
    name: str | None = None,
    type: str | None = None,  # noqa: A002 - the specification's field name
    metadata: Mapping[str, Any] | None = None,
    coordinate_transformations: Sequence[Mapping[str, Any]] | None = None,
    fmt: Format | None = None,
) -> dict[str, Any]:
    """One entry of ``multiscales`` (no version key: :mod:`.attrs` places it).

    ``datasets`` and ``coordinate_transformations`` are given as for 0.4/0.5 (a ``scale``,
    then perhaps a ``translation``); for a 0.6 ``fmt`` the entry is written with coordinate
    systems (:func:`.coordinates.to_coordinate_systems`).
    """
    validate_axes(axes)
    ndim = len(axes)
    entry: dict[str, Any] = {"datasets": validate_datasets(datasets, ndim)}
    if name is not None:
        if not isinstance(name, str):
            wrong_type("name", name, "a string")
        entry["name"] = name
    if metadata:
        if not isinstance(metadata, Mapping):
            wrong_type("metadata", metadata, "a dict")
        entry["metadata"] = dict(metadata)
    entry["axes"] = [dict(a) for a in axes]
    if type is not None:
        if not isinstance(type, str):
            wrong_type("type", type, "a string")
        entry["type"] = type
    if coordinate_transformations is not None:
        validate_transformations(coordinate_transformations, ndim, "coordinateTransformations")
        entry["coordinateTransformations"] = [dict(t) for t in coordinate_transformations]
    if fmt is not None and fmt.has_coordinate_systems:
        return to_coordinate_systems(entry)
    return entry


_HEX6 = re.compile(r"^[0-9A-Fa-f]{6}$")
WINDOW_KEYS = ("min", "max", "start", "end")


def build_omero(
    channels: Sequence[Mapping[str, Any]],
    rdefs: Mapping[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """The ``omero`` block: channels (label, color ``RRGGBB``, window, active) and rdefs."""
    return validate_omero(
        {"channels": list(channels), **({"rdefs": rdefs} if rdefs else {}), **extra}
    )


def validate_omero(omero: Any, n_channels: int | None = None) -> dict[str, Any]:
    if not isinstance(omero, Mapping):
        wrong_type("omero", omero, "a dict")
    channels = omero.get("channels")
    if not isinstance(channels, Sequence) or isinstance(channels, str):
        wrong_type("omero.channels", channels, "a list of dicts")
    if n_channels is not None and len(channels) != n_channels:
        invalid("omero.channels", f"{len(channels)} channels", f"the image has {n_channels}")
    for i, channel in enumerate(channels):
        field = f"omero.channels[{i}]"
        if not isinstance(channel, Mapping):
            wrong_type(field, channel, "a dict")
        color = channel.get("color")
        if color is not None and (not isinstance(color, str) or not _HEX6.match(color)):
            invalid(f"{field}.color", color, "must be 6 hexadecimal digits, e.g. 'FF00FF'")
        label = channel.get("label")
        if label is not None and not isinstance(label, str):
            wrong_type(f"{field}.label", label, "a string")
        active = channel.get("active")
        if active is not None and not isinstance(active, bool):
            wrong_type(f"{field}.active", active, "a bool")
        window = channel.get("window")
        if window is not None:
            if not isinstance(window, Mapping):
                wrong_type(f"{field}.window", window, "a dict")
            for key in WINDOW_KEYS:
                if key not in window:  # a KeyError too, as ome-zarr-py raises
                    raise MissingKeyError(f"{field}.window={dict(window)!r}: lacks {key!r}")
                require_number(f"{field}.window.{key}", window[key])
            if window["min"] > window["max"]:
                invalid(f"{field}.window", dict(window), "min must not exceed max")
    rdefs = omero.get("rdefs")
    if rdefs is not None:
        if not isinstance(rdefs, Mapping):
            wrong_type("omero.rdefs", rdefs, "a dict")
        for key in ("defaultT", "defaultZ"):
            if key in rdefs and (not isinstance(rdefs[key], int) or rdefs[key] < 0):
                invalid(f"omero.rdefs.{key}", rdefs[key], "must be a non-negative integer")
        model = rdefs.get("model")
        if model is not None and model not in ("color", "greyscale"):
            invalid("omero.rdefs.model", model, "must be 'color' or 'greyscale'")
    return {k: v for k, v in omero.items()}
