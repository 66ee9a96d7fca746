"""What a preview reads: the coarsest level that still fills the picture, one time point, one
z plane or the maximum over z, read in strips of bounded size and brought to the picture's
pixels strip by strip, so that a preview of a terabyte store reads a few megabytes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import zarr

from ..metadata import read_ome
from ..reader import region_reader

BUDGET = 64 * 2**20  # bytes of stored values per read, at most (about)
_KINDS = {"t": "time", "c": "channel", "z": "space", "y": "space", "x": "space"}


@dataclass(frozen=True)
class Level:
    """One dataset of a multiscale image: its array and its physical pixel size per axis."""

    path: str
    array: zarr.Array
    scale: tuple[float, ...]

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.array.shape)


@dataclass(frozen=True)
class Image:
    """A multiscale image (or label image) group, read off its metadata."""

    group: zarr.Group
    names: list[str]
    units: list[str | None]
    roles: dict[str, int]  # "y", "x" always; "z", "t", "c" where the image has them
    levels: list[Level]
    blocks: dict[str, Any]

    def size(self, role: str) -> int:
        """Length of the ``role`` axis at full resolution (1 where there is none)."""
        return self.levels[0].shape[self.roles[role]] if role in self.roles else 1


def where(group: zarr.Group) -> str:
    return "/" + group.path if group.path else str(group.store)


def open_image(group: zarr.Group) -> Image:
    """``group``'s first multiscale image; a clear ValueError where it is not one."""
    _, blocks = read_ome(group.attrs.asdict())
    if not blocks.get("multiscales"):
        raise ValueError(f"{where(group)}: not an OME-Zarr image (no multiscales metadata)")
    ms = blocks["multiscales"][0]
    axes = [{"name": a} if isinstance(a, str) else a for a in ms.get("axes", [])]
    names = [str(a.get("name")) for a in axes]
    kinds = [a.get("type") or _KINDS.get(n) for a, n in zip(axes, names, strict=True)]
    space = [i for i, kind in enumerate(kinds) if kind == "space"]
    if len(space) < 2:
        raise ValueError(f"{where(group)}: axes {names} lack the two space axes of a picture")
    roles = {"y": space[-2], "x": space[-1]}
    if len(space) > 2:
        roles["z"] = space[-3]
    for role, kind in (("t", "time"), ("c", "channel")):
        if kind in kinds:
            roles[role] = kinds.index(kind)
    outer = _scale(ms.get("coordinateTransformations"), len(axes))
    levels = []
    for dataset in ms.get("datasets", []):
        try:
            array = group[dataset["path"]]
        except KeyError:
            raise ValueError(f"{where(group)}: level {dataset['path']!r} is missing") from None
        if not isinstance(array, zarr.Array) or array.ndim != len(axes):
            raise ValueError(
                f"{where(group)}: level {dataset['path']!r} is not a {len(axes)}-D array"
            )
        own = _scale(dataset.get("coordinateTransformations"), len(axes))
        scale = tuple(a * b for a, b in zip(own, outer, strict=True))
        levels.append(Level(dataset["path"], array, scale))
    if not levels:
        raise ValueError(f"{where(group)}: the multiscales list no levels")
    units = [a.get("unit") for a in axes]
    return Image(group, names, units, roles, levels, blocks)


def _scale(transforms: Any, ndim: int) -> tuple[float, ...]:
    for transform in transforms or []:
        if transform.get("type") == "scale" and len(transform.get("scale", [])) == ndim:
            return tuple(float(s) if s and s > 0 else 1.0 for s in transform["scale"])
    return (1.0,) * ndim


def fit(image: Image, box: tuple[int, int]) -> tuple[int, int]:
    """The picture's (rows, columns): the image's physical extent in y and x, scaled to fit
    in ``box``, touching it on one side."""
    level = image.levels[0]
    y, x = image.roles["y"], image.roles["x"]
    height, width = level.shape[y] * level.scale[y], level.shape[x] * level.scale[x]
    if height <= 0 or width <= 0:
        return (max(1, min(box[0], level.shape[y])), max(1, min(box[1], level.shape[x])))
    factor = min(box[0] / height, box[1] / width)
    return (max(1, round(height * factor)), max(1, round(width * factor)))


def pick_level(image: Image, picture: tuple[int, int], level: int | str = "auto") -> int:
    """The coarsest level with at least the picture's rows and columns (level 0 where none
    has), or the level asked for (its index or path)."""
    y, x = image.roles["y"], image.roles["x"]
    if level != "auto":
        paths = [lv.path for lv in image.levels]
        if isinstance(level, str) and level in paths:
            return paths.index(level)
        if isinstance(level, int) and 0 <= level < len(paths):
            return level
        raise ValueError(f"level={level!r}: {where(image.group)} has levels {paths} (0-based)")
    for index in range(len(image.levels) - 1, -1, -1):
        shape = image.levels[index].shape
        if shape[y] >= picture[0] and shape[x] >= picture[1]:
            return index
    return 0


def plane(index: int, full: int, here: int) -> int:
    """The plane of a level with ``here`` planes that covers plane ``index`` of ``full``."""
    return min(here - 1, index * here // max(full, 1))


def read_picture(
    level: Level,
    image: Image,
    fixed: dict[int, int],
    picture: tuple[int, int],
    nearest: bool = False,
) -> np.ndarray:
    """One channel of ``level`` at the picture's pixels: axes in ``fixed`` ({axis: index})
    read at that index, a z axis not in it as its maximum, other axes at 0.

    Values are the mean of the level's pixels under each picture pixel (float32), or with
    ``nearest`` the pixel at its centre (labels, in their own dtype).
    """
    y, x = image.roles["y"], image.roles["x"]
    shape = level.shape
    z = image.roles.get("z")
    project = z is not None and z not in fixed and shape[z] > 1
    depth = max(1, level.array.chunks[z]) if project else 1
    row_bytes = shape[x] * np.dtype(level.array.dtype).itemsize
    depth = max(1, min(depth, BUDGET // max(row_bytes, 1)))
    rows = _bins(shape[y], picture[0], nearest)
    cols = _bins(shape[x], picture[1], nearest)
    per_row = -(-shape[y] // picture[0])  # stored rows under one picture row, at most
    step = max(1, BUDGET // max(row_bytes * depth * per_row, 1))
    reader = region_reader(level.array)
    out = np.empty(picture, level.array.dtype if nearest else np.float32)
    for r0 in range(0, picture[0], step):
        r1 = min(r0 + step, picture[0])
        s0, s1 = _span(rows, r0, r1, shape[y], nearest)
        strip = None
        for z0 in range(0, shape[z], depth) if project else (0,):
            region = [slice(fixed.get(i, 0), fixed.get(i, 0) + 1) for i in range(len(shape))]
            region[y], region[x] = slice(s0, s1), slice(0, shape[x])
            if project:
                region[z] = slice(z0, min(z0 + depth, shape[z]))
            block = np.asarray(reader[tuple(region)])
            block = np.moveaxis(block, (y, x), (-2, -1)).reshape(-1, s1 - s0, shape[x]).max(0)
            strip = block if strip is None else np.maximum(strip, block)
        assert strip is not None
        out[r0:r1] = _resample(strip, rows[r0:r1] - s0, cols, nearest)
    return out


def _bins(n: int, m: int, nearest: bool) -> np.ndarray:
    """For each of ``m`` picture pixels: the first of ``n`` stored pixels under it, or with
    ``nearest`` the one at its centre."""
    i = np.arange(m, dtype=np.int64)
    return (2 * i + 1) * n // (2 * m) if nearest else i * n // m


def _span(bins: np.ndarray, r0: int, r1: int, n: int, nearest: bool) -> tuple[int, int]:
    """The stored rows picture rows ``r0:r1`` need."""
    if nearest:
        return int(bins[r0]), int(bins[r1 - 1]) + 1
    stop = n if r1 == len(bins) else max(int(bins[r1]), int(bins[r1 - 1]) + 1)
    return int(bins[r0]), stop


def _resample(strip: np.ndarray, rows: np.ndarray, cols: np.ndarray, nearest: bool) -> np.ndarray:
    if nearest:
        return strip[rows][:, cols]
    values = strip.astype(np.float32)
    for axis, starts in ((0, rows), (1, cols)):
        sums = np.add.reduceat(values, starts, axis=axis)
        counts = np.diff(np.append(starts, values.shape[axis])).clip(1)
        values = sums / counts.reshape((-1, 1) if axis == 0 else (1, -1)).astype(np.float32)
    return values
