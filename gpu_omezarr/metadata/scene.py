"""OME-NGFF 0.6 scenes: several images placed in one coordinate system (stitching,
registration results): the ``scene`` block of their parent group."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ._errors import invalid, require_number, wrong_type
from .axes import validate_axes
from .coordinates import INTRINSIC

Placement = Mapping[str, Any]  # {"translation": [...]}, {"scale": [...]}, both, or a transform


def _transform(path: str, placement: Placement, ndim: int) -> dict[str, Any]:
    field = f"placements[{path!r}]"
    if not isinstance(placement, Mapping):
        wrong_type(field, placement, "a dict such as {'translation': [0, 348]}")
    if "type" in placement:  # a 0.6 transformation given whole (affine, rotation...)
        return dict(placement)
    unknown = set(placement) - {"scale", "translation"}
    if unknown or not placement:
        invalid(field, dict(placement), "give 'scale' and/or 'translation', or a 'type'")
    steps = []
    for kind in ("scale", "translation"):
        if kind not in placement:
            continue
        values = placement[kind]
        if not isinstance(values, Sequence) or isinstance(values, str) or len(values) != ndim:
            invalid(f"{field}.{kind}", values, f"must be {ndim} numbers (one per axis)")
        for j, v in enumerate(values):
            require_number(f"{field}.{kind}[{j}]", v)
            if kind == "scale" and v <= 0:
                invalid(f"{field}.scale[{j}]", v, "scale values must be positive")
        steps.append({"type": kind, kind: [float(v) for v in values]})
    return steps[0] if len(steps) == 1 else {"type": "sequence", "transformations": steps}


def build_scene(
    placements: Mapping[str, Placement],
    axes: Sequence[Mapping[str, Any]],
    *,
    name: str = "world",
    image_system: str = INTRINSIC,
) -> dict[str, Any]:
    """The ``scene`` block: one system ``name`` with ``axes``, and for each image (by its
    path below the scene group) the transformation from its ``image_system`` into it."""
    validate_axes(axes)
    if not isinstance(placements, Mapping) or not placements:
        invalid("placements", placements, "must be a non-empty dict of image path to placement")
    if not isinstance(name, str) or not name:
        invalid("name", name, "must be a non-empty string")
    transforms = []
    for path, placement in placements.items():
        if not isinstance(path, str) or not path or path.startswith("/"):
            invalid("placements", path, "keys must be relative image paths such as 'tile_0'")
        transform = _transform(path, placement, len(axes))
        transform["input"] = {"path": path, "name": image_system}
        transform["output"] = {"name": name}
        transforms.append(transform)
    return {
        "coordinateSystems": [{"name": name, "axes": [dict(a) for a in axes]}],
        "coordinateTransformations": transforms,
    }
