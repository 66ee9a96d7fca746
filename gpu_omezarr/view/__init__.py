"""A picture of an OME-Zarr image or plate, made where the data is: ``preview`` (an RGB
array), ``render`` (the array and what it shows) and ``save_preview`` (a PNG file).

Only what the picture needs is read: the coarsest level that still fills it, one time
point, one z plane (or the maximum over z, read a slab of chunks at a time), a few megabytes
whatever the size of the store.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import zarr

from ..metadata import read_ome
from .picture import Options, paint, read_image, resolve_windows
from .plate import render_plate
from .png import encode, read_text
from .render import scale_bar

__all__ = ["Preview", "preview", "read_text", "render", "save_preview"]


@dataclass
class Preview:
    """A preview and what it shows.

    Attributes
    ----------
    rgb : numpy.ndarray
        The picture, uint8, (rows, columns, 3).
    arrays : list of str
        Store paths of every array read (image levels, label levels): the level used is the
        first, e.g. ``"s2"``; in a plate, one per well, e.g. ``"A/1/0/s3"``.
    level : int or None
        The image level read (index in its multiscales); None for a plate.
    z : str
        ``"max"`` or ``"plane N"`` (N counted in level 0; ``"middle plane"`` for a plate).
    windows : list of (float, float)
        The window (start, end) of each channel shown (for a plate, its first well's).
    scale_bar : (float, str) or None
        The length and unit of the scale bar drawn, where the x axis has a unit.
    wells : dict
        For a plate: each drawn well's path to its picture's box (top, left, bottom, right).

    A plate has no scale bar (its wells may differ in pixel size).
    """

    rgb: np.ndarray
    arrays: list[str]
    level: int | None
    z: str
    windows: list[tuple[float, float]] = field(default_factory=list)
    scale_bar: tuple[float, str] | None = None
    wells: dict[str, tuple[int, int, int, int]] = field(default_factory=dict)

    def text(self) -> dict[str, str]:
        """What the PNG file says about the picture (its ``tEXt`` entries)."""
        text = {"Software": "gpu-omezarr preview", "Level": ", ".join(self.arrays[:1])}
        text["Z"] = self.z
        if self.scale_bar:
            text["Scale bar"] = f"{self.scale_bar[0]:g} {self.scale_bar[1]}"
        if self.windows:
            text["Windows"] = "; ".join(f"{a:g}-{b:g}" for a, b in self.windows)
        return text


def render(
    group: zarr.Group | str | Any,
    size: int = 512,
    *,
    z: str | int = "mid",
    t: int = 0,
    level: str | int = "auto",
    labels: str = "all",
) -> Preview:
    """A picture of the image, plate or well at ``group``, at most ``size`` pixels a side.

    Parameters
    ----------
    group : zarr.Group, str or zarr Store
        The image (or plate, or well: its first field).
    size : int
        The picture's longer side, in pixels (smaller images are enlarged to it); a plate's
        grid fits in ``size`` x ``size``.
    z : "mid", "max" or int
        The middle z plane, the maximum over z, or plane N (of level 0).
    t : int
        The time point.
    level : "auto", int or str
        The level to read: "auto" is the coarsest one with at least the picture's pixels.
    labels : str
        "all" label images outlined, "none", or one label image's name.

    Channels are blended additively in their ``omero`` colours and windows; where a channel
    has none, defaults (grey; green and magenta; red, green, blue; ...) and the 0.1 and 99.9
    percentiles of what was read. A scale bar is drawn where the x axis has a unit. Label
    images are read at the same z plane (with ``z="max"``: their maximum over z).
    """
    if not isinstance(size, int) or size < 8:
        raise ValueError(f"size={size!r}: the picture needs at least 8 pixels a side")
    options = Options(z, t, level, labels)
    node = _open(group)
    blocks = read_ome(node.attrs.asdict())[1]
    zname = {"max": "max", "mid": "middle plane"}.get(str(options.z), f"plane {options.z}")
    if "plate" in blocks:
        rgb, pictures, windows, boxes = render_plate(node, size, options)
        arrays = [a for p in pictures for a in p.arrays]
        return Preview(rgb, arrays, None, zname, windows[0] if windows else [], None, boxes)
    if "well" in blocks and "multiscales" not in blocks:
        node = _well_field(node, blocks["well"])
    picture = read_image(node, (size, size), options)
    if options.z == "mid":
        zname = f"plane {picture.image.size('z') // 2}"
    (windows,) = resolve_windows([picture])
    rgb = paint(picture, windows)
    pixel = picture.pixel()
    bar = scale_bar(rgb, *pixel) if pixel else None
    return Preview(rgb, picture.arrays, picture.level, zname, windows, bar)


def preview(group: zarr.Group | str | Any, size: int = 512, **options: Any) -> np.ndarray:
    """The picture ``render`` makes (uint8 RGB, rows x columns x 3); same parameters."""
    return render(group, size, **options).rgb


def save_preview(
    group: zarr.Group | str | Any, path: str | os.PathLike, size: int = 512, **options: Any
) -> Preview:
    """Write ``render``'s picture to ``path`` as a PNG (what it shows in its ``tEXt``
    entries: level read, z, scale bar length, windows); returns the ``Preview``."""
    made = render(group, size, **options)
    data = encode(made.rgb, made.text())
    with open(path, "wb") as f:
        f.write(data)
    return made


def _open(group: zarr.Group | str | Any) -> zarr.Group:
    if isinstance(group, zarr.Group):
        return group
    if isinstance(group, str | os.PathLike) and "://" not in str(group):
        if not os.path.exists(group):
            raise ValueError(f"{os.fspath(group)!r}: no such file or directory")
        group = os.fspath(group)
    try:
        node = zarr.open(group, mode="r")
    except (FileNotFoundError, zarr.errors.NodeNotFoundError) as exc:
        raise ValueError(f"{group!r}: not a Zarr store ({exc})") from None
    if not isinstance(node, zarr.Group):
        raise ValueError(f"{group!r}: a Zarr array, not an OME-Zarr image or plate")
    return node


def _well_field(well: zarr.Group, block: dict[str, Any]) -> zarr.Group:
    images = block.get("images") or []
    if not images or images[0].get("path") not in well:
        raise ValueError(f"/{well.path}: the well has no field of view to show")
    return well[images[0]["path"]]
