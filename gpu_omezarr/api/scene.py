"""``write_scene``: several images and where they lie in one coordinate system (OME-NGFF 0.6)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .. import metadata as meta
from ..groups import GroupLike, open_group, resolve_group_format, write_blocks
from ..metadata._errors import invalid, wrong_type
from .image import write_image


def write_scene(
    images: Mapping[str, Any],
    group: GroupLike,
    placements: Mapping[str, meta.scene.Placement],
    *,
    axes: Any = None,
    axes_units: Mapping[str, str] | None = None,
    name: str = "world",
    **image_options: Any,
) -> None:
    """Write each image of ``images`` (``{"tile_0": array, ...}``) as an OME-NGFF 0.6 image at
    ``group/PATH``, then the group's ``scene``: each image's ``intrinsic`` system placed in
    the system ``name`` by ``placements[PATH]`` (``{"translation": [0, 348]}``, a ``scale``,
    both, or any 0.6 transformation dict). The scene's axes are the images' space axes.

    Everything is checked before the first image is written; the scene metadata is written
    last, so a reader never sees a scene naming unfinished images.
    """
    if not isinstance(images, Mapping) or not images:
        wrong_type("images", images, "a non-empty dict of path to array")
    if set(images) != set(placements):
        invalid("placements", sorted(placements), f"must place exactly the images {sorted(images)}")
    if image_options.get("version", "0.6") != "0.6" or "fmt" in image_options:
        invalid("version", image_options.get("version"), "scenes are OME-NGFF 0.6")
    image_options.pop("version", None)
    first = next(iter(images.values()))
    axes_list = meta.build_axes(axes, axes_units, ndim=len(first.shape))
    space = [a for a in axes_list if a.get("type") == "space"]
    scene = meta.build_scene(placements, space, name=name)
    existing, fmt = resolve_group_format(group, version="0.6")
    for path, image in images.items():
        target = f"{group.rstrip('/')}/{path}" if isinstance(group, str) else None
        if target is None:
            wrong_type("group", group, "a path or URL string (the scene's images are below it)")
        write_image(image, target, axes=axes_list, version="0.6", **image_options)
    write_blocks(open_group(group, fmt, existing), fmt, {"scene": scene})
