"""The ``labels`` group list and the ``image-label`` block of a label image."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ._errors import invalid, is_number, wrong_type


def add_label_name(labels: Sequence[str] | None, name: str) -> list[str]:
    """The ``labels`` list with ``name`` appended once (never duplicated)."""
    _check_label_name(name)
    current = list(labels or [])
    return current if name in current else [*current, name]


def _check_label_name(name: Any) -> None:
    if not isinstance(name, str):
        wrong_type("name", name, "a string")
    if not name or name in (".", "..") or "/" in name or "\\" in name:
        invalid("name", name, "must be a non-empty name without '/' (one group under labels/)")


def build_image_label(
    colors: Sequence[Mapping[str, Any]] | None = None,
    properties: Sequence[Mapping[str, Any]] | None = None,
    source: Mapping[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """The ``image-label`` block: colors (label-value + rgba 0-255), properties, source."""
    block: dict[str, Any] = dict(extra)
    if colors is not None:
        block["colors"] = _validate_colors(colors)
    if properties is not None:
        block["properties"] = _validate_properties(properties)
    if source is not None:
        if not isinstance(source, Mapping):
            wrong_type("source", source, "a dict such as {'image': '../../'}")
        image = source.get("image")
        if image is not None and not isinstance(image, str):
            wrong_type("source.image", image, "a relative path string")
        block["source"] = dict(source)
    return block


def _label_value(field: str, value: Any, integer: bool) -> None:
    if integer and (not isinstance(value, int) or isinstance(value, bool)):
        wrong_type(field, value, "an integer")
    if not is_number(value):
        wrong_type(field, value, "a number")


def _validate_colors(colors: Any) -> list[dict[str, Any]]:
    if not isinstance(colors, Sequence) or isinstance(colors, str):
        wrong_type("colors", colors, "a list of dicts")
    if not colors:
        invalid("colors", colors, "must not be empty when given")
    seen = set()
    for i, color in enumerate(colors):
        if not isinstance(color, Mapping):
            wrong_type(f"colors[{i}]", color, "a dict")
        if "label-value" not in color:
            invalid(f"colors[{i}]", dict(color), "lacks 'label-value'")
        _label_value(f"colors[{i}].label-value", color["label-value"], integer=False)
        if color["label-value"] in seen:
            invalid(f"colors[{i}].label-value", color["label-value"], "appears twice")
        seen.add(color["label-value"])
        rgba = color.get("rgba")
        if rgba is not None:
            if not isinstance(rgba, Sequence) or len(rgba) != 4:
                invalid(f"colors[{i}].rgba", rgba, "must be 4 integers 0-255")
            for v in rgba:
                if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v <= 255:
                    invalid(f"colors[{i}].rgba", list(rgba), "must be 4 integers 0-255")
    return [dict(c) for c in colors]


def _validate_properties(properties: Any) -> list[dict[str, Any]]:
    if not isinstance(properties, Sequence) or isinstance(properties, str):
        wrong_type("properties", properties, "a list of dicts")
    if not properties:
        invalid("properties", properties, "must not be empty when given")
    for i, prop in enumerate(properties):
        if not isinstance(prop, Mapping):
            wrong_type(f"properties[{i}]", prop, "a dict")
        if "label-value" not in prop:
            invalid(f"properties[{i}]", dict(prop), "lacks 'label-value'")
        _label_value(f"properties[{i}].label-value", prop["label-value"], integer=True)
    return [dict(p) for p in properties]
