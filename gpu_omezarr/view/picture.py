"""One image's picture: its channels and label images read at the picture's pixels
(``Picture``), then coloured (``paint``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import zarr

from ..metadata import read_ome
from . import render
from .read import Image, fit, open_image, pick_level, plane, read_picture, where


@dataclass(frozen=True)
class Options:
    """What to show: ``z`` ("mid", "max" or a plane of level 0), time point ``t``, ``level``
    ("auto", an index or a path) and ``labels`` ("all", "none" or a label image's name)."""

    z: str | int = "mid"
    t: int = 0
    level: str | int = "auto"
    labels: str = "all"

    def __post_init__(self) -> None:
        z = self.z
        if isinstance(z, str) and z.isdigit():
            object.__setattr__(self, "z", z := int(z))
        if not (z in ("mid", "max") or (isinstance(z, int) and z >= 0)):
            raise ValueError(f"z={z!r}: use 'mid', 'max' or a plane number (0, 1, ...)")
        if not isinstance(self.t, int) or self.t < 0:
            raise ValueError(f"t={self.t!r}: use a time point number (0, 1, ...)")
        level = self.level
        if isinstance(level, str) and level.isdigit():
            object.__setattr__(self, "level", int(level))
        if not isinstance(self.labels, str):
            raise ValueError(f"labels={self.labels!r}: use 'all', 'none' or a label name")


@dataclass
class Picture:
    """What was read of one image, at the picture's pixels."""

    image: Image
    level: int
    planes: list[np.ndarray]  # float32 (rows, columns), one per channel shown
    channels: list[int]  # which channels those are
    labels: list[tuple[np.ndarray, dict[str, Any]]]  # label values, their image-label block
    arrays: list[str] = field(default_factory=list)  # store paths of the arrays read

    @property
    def omero(self) -> Any:
        return self.image.blocks.get("omero")

    @property
    def n_channels(self) -> int:
        return self.image.size("c")

    def pixel(self) -> tuple[float, str] | None:
        """The physical width of a picture pixel and its unit, where the x axis has one."""
        x = self.image.roles["x"]
        unit = self.image.units[x]
        if not isinstance(unit, str) or not unit:
            return None
        level0 = self.image.levels[0]
        return level0.shape[x] * level0.scale[x] / self.planes[0].shape[1], unit

    def windows(self) -> list[tuple[float, float] | None]:
        """The ``omero`` window of each channel shown (None where it has none to use)."""
        dtype = self.image.levels[self.level].array.dtype
        return [render.window(self.omero, self.n_channels, c, dtype) for c in self.channels]


def read_image(
    group: zarr.Group, box: tuple[int, int], options: Options, strict: bool = True
) -> Picture:
    """``group``'s image fitted in ``box`` (rows, columns), with its label images; a label
    image named in ``options`` that is missing is an error where ``strict``."""
    image = open_image(group)
    shape = fit(image, box)
    index = pick_level(image, shape, options.level)
    level = image.levels[index]
    fixed = _fixed(image, image, index, options)
    channels = render.shown_channels(image.blocks.get("omero"), image.size("c"))
    planes = []
    for channel in channels:
        if "c" in image.roles:
            fixed[image.roles["c"]] = channel
        planes.append(read_picture(level, image, fixed, shape))
    picture = Picture(image, index, planes, channels, [], [level.array.path])
    for name in _label_names(group, options.labels, strict):
        labels = open_image(group["labels"][name])
        at = pick_level(labels, shape)
        values = read_picture(
            labels.levels[at], labels, _fixed(labels, image, at, options), shape, nearest=True
        )
        picture.labels.append((values, labels.blocks.get("image-label") or {}))
        picture.arrays.append(labels.levels[at].array.path)
    return picture


def paint(picture: Picture, windows: list[tuple[float, float]]) -> np.ndarray:
    """``picture`` in colour (uint8 RGB), its label images outlined on top."""
    colors = render.channel_colors(picture.omero, picture.n_channels)
    rgb = render.blend(picture.planes, [colors[c] for c in picture.channels], windows)
    for values, image_label in picture.labels:
        render.draw_outlines(rgb, values, image_label)
    return rgb


def resolve_windows(pictures: list[Picture]) -> list[list[tuple[float, float]]]:
    """Each picture's windows: its ``omero`` ones, else percentiles of the values read of that
    channel in every picture without an ``omero`` window for it (so the wells of a plate are
    shown alike)."""
    pooled: dict[int, list[np.ndarray]] = {}
    for picture in pictures:
        shown = zip(picture.channels, picture.planes, picture.windows(), strict=True)
        for channel, values, win in shown:
            if win is None:
                pooled.setdefault(channel, []).append(values)
    auto = {channel: render.auto_window(planes) for channel, planes in pooled.items()}
    return [
        [win or auto[c] for c, win in zip(p.channels, p.windows(), strict=True)] for p in pictures
    ]


def _fixed(image: Image, reference: Image, index: int, options: Options) -> dict[int, int]:
    """The index read of each axis of ``image``'s level ``index`` that is not shown whole:
    the time point and z plane asked for (counted in ``reference``'s level 0); no z where
    the maximum over z is asked for."""
    fixed: dict[int, int] = {}
    shape = image.levels[index].shape
    for role, asked in (("t", options.t), ("z", options.z)):
        n = reference.size(role)
        if asked == "max" and role == "z":
            continue
        at = n // 2 if asked == "mid" else int(asked)
        if not 0 <= at < n:
            raise ValueError(
                f"{role}={asked!r}: {where(reference.group)} has {n} {role} position(s) (0-{n - 1})"
            )
        if role in image.roles:
            full = plane(at, n, image.size(role))  # from the reference's planes to this image's
            fixed[image.roles[role]] = plane(full, image.size(role), shape[image.roles[role]])
    return fixed


def _label_names(group: zarr.Group, asked: str, strict: bool) -> list[str]:
    if asked == "none":
        return []
    names: list[str] = []
    if "labels" in group:
        _, blocks = read_ome(group["labels"].attrs.asdict())
        names = [n for n in blocks.get("labels", []) if n in group["labels"]]
    if asked == "all":
        return names
    if asked not in names:
        if strict:
            raise ValueError(f"labels={asked!r}: {where(group)} has label images {names}")
        return []
    return [asked]
