"""Axes: names, types and units (OME-NGFF 0.4 and 0.5 share the rules)."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

from ._errors import invalid, wrong_type

# The units the specification lists (UDUNITS-2 names); others are allowed but SHOULD NOT be used.
_SI_PREFIXES = (
    "", "yocto", "zepto", "atto", "femto", "pico", "nano", "micro", "milli", "centi", "deci",
    "deca", "hecto", "kilo", "mega", "giga", "tera", "peta", "exa", "zetta", "yotta",
)  # fmt: skip
SPACE_UNITS = frozenset(f"{p}meter" for p in _SI_PREFIXES) | {
    "angstrom", "foot", "inch", "mile", "parsec", "yard"
}  # fmt: skip
TIME_UNITS = frozenset(f"{p}second" for p in _SI_PREFIXES) | {"minute", "hour", "day"}

# RFC-4 anatomical orientation of a space axis: {"type": "anatomical", "value": ...}.
_DIRECTIONS = (
    ("left", "right"), ("anterior", "posterior"), ("inferior", "superior"),
    ("dorsal", "ventral"), ("dorsal", "palmar"), ("dorsal", "plantar"), ("rostral", "caudal"),
    ("cranial", "caudal"), ("proximal", "distal"), ("superficial", "deep"),
    ("apical", "basal"), ("apex", "base"),
)  # fmt: skip
ORIENTATIONS = frozenset(f"{a}-to-{b}" for pair in _DIRECTIONS for a, b in (pair, pair[::-1]))

KNOWN_TYPES = {"x": "space", "y": "space", "z": "space", "c": "channel", "t": "time"}
SPEC_TYPES = ("space", "time", "channel")

AxesLike = str | Sequence[str | Mapping[str, Any]]


def default_axes(ndim: int) -> list[str]:
    """Axes guessed where no other reading is possible (as ome-zarr-py does): 2-D and 5-D."""
    if ndim == 2:
        return ["y", "x"]
    if ndim == 5:
        return ["t", "c", "z", "y", "x"]
    invalid("axes", None, f"must be given for {ndim}-D data (only 2-D and 5-D can be guessed)")


def build_axes(
    axes: AxesLike | None,
    axes_units: Mapping[str, str] | None = None,
    ndim: int | None = None,
) -> list[dict[str, str]]:
    """Axis dicts from names (``"tczyx"``, ``["z", "y", "x"]``) or dicts, validated.

    Known names get their type (x, y, z: space; c: channel; t: time). ``axes_units`` maps
    axis names to units. Raises ``ValueError`` naming the offending field.
    """
    if axes is None:
        if ndim is None:
            invalid("axes", axes, "must be given")
        axes = default_axes(ndim)
    if isinstance(axes, str):
        axes = list(axes)
    if not isinstance(axes, Sequence):
        wrong_type("axes", axes, "a string or a list of names or dicts")
    result: list[dict[str, str]] = []
    for i, axis in enumerate(axes):
        if isinstance(axis, str):
            entry = {"name": axis}
            if axis in KNOWN_TYPES:
                entry["type"] = KNOWN_TYPES[axis]
        elif isinstance(axis, Mapping):
            entry = dict(axis)
        else:
            wrong_type(f"axes[{i}]", axis, "a name or a dict")
        result.append(entry)
    if axes_units:
        names = [a.get("name") for a in result]
        for name, unit in axes_units.items():
            if name not in names:
                invalid("axes_units", dict(axes_units), f"names axis {name!r}, not in {names}")
            result[names.index(name)]["unit"] = unit
    if ndim is not None and len(result) != ndim:
        invalid(
            "axes", [a.get("name") for a in result], f"has {len(result)} entries, data is {ndim}-D"
        )
    validate_axes(result)
    return result


def validate_axes(axes: Sequence[Mapping[str, Any]]) -> None:
    """Check the specification's rules on a list of axis dicts."""
    if not 2 <= len(axes) <= 5:
        invalid("axes", list(axes), f"must have 2 to 5 entries, has {len(axes)}")
    names = []
    for i, axis in enumerate(axes):
        name = axis.get("name")
        if not isinstance(name, str) or not name:
            invalid(f"axes[{i}].name", name, "must be a non-empty string")
        names.append(name)
        kind = axis.get("type")
        if kind is not None and not isinstance(kind, str):
            wrong_type(f"axes[{i}].type", kind, "a string")
        unit = axis.get("unit")
        if unit is not None:
            if not isinstance(unit, str):
                wrong_type(f"axes[{i}].unit", unit, "a string")
            known = {"space": SPACE_UNITS, "time": TIME_UNITS}.get(kind)
            if known is not None and unit not in known:
                warnings.warn(
                    f"axes[{i}].unit={unit!r} is not a {kind} unit of the OME-NGFF specification",
                    UserWarning,
                    stacklevel=3,
                )
        if "orientation" in axis:
            _check_orientation(i, axis)
    if len(set(names)) != len(names):
        invalid("axes", names, "names must be unique")
    types = [a.get("type") for a in axes]
    n_space = types.count("space")
    if not 2 <= n_space <= 3:
        invalid("axes", names, f"must have 2 or 3 axes of type 'space', has {n_space}")
    if types.count("time") > 1:
        invalid("axes", names, "at most one axis may be of type 'time'")
    others = [t for t in types if t not in ("space", "time")]
    if len(others) > 1:
        invalid("axes", names, "at most one axis may be of type 'channel' or a custom type")
    if "time" in types and types.index("time") != 0:
        invalid("axes", names, "the 'time' axis must come first")
    first_space = types.index("space")
    if any(t != "space" for t in types[first_space:]):
        invalid("axes", names, "the space axes must come last (after time, channel and custom)")


def _check_orientation(i: int, axis: Mapping[str, Any]) -> None:
    orientation = axis["orientation"]
    field = f"axes[{i}].orientation"
    if axis.get("type") != "space":
        invalid(field, orientation, "only space axes have an anatomical orientation")
    if not isinstance(orientation, Mapping) or orientation.get("type") != "anatomical":
        invalid(field, orientation, "must be {'type': 'anatomical', 'value': ...}")
    if orientation.get("value") not in ORIENTATIONS:
        invalid(f"{field}.value", orientation.get("value"), "not an RFC-4 orientation")


def axis_names(axes: Sequence[Mapping[str, Any]]) -> list[str]:
    return [a["name"] for a in axes]
