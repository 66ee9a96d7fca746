"""Turning what was read into colours: channels blended additively with their colours and
windows, label outlines, the scale bar."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .font import HEIGHT, draw_text, text_mask

# Default colours by number of channels: grey; green and magenta (told apart by colour-blind
# eyes too); red, green, blue; beyond three, these six again and again.
_DEFAULT_COLORS = {1: ["FFFFFF"], 2: ["00FF00", "FF00FF"], 3: ["FF0000", "00FF00", "0000FF"]}
_CYCLE = ["FF0000", "00FF00", "0000FF", "00FFFF", "FF00FF", "FFFF00"]
PERCENTILES = (0.1, 99.9)  # default window: robust to a few hot or dead pixels
_UNITS = {
    "angstrom": "A",
    "nanometer": "nm",
    "micrometer": "µm",
    "millimeter": "mm",
    "centimeter": "cm",
    "meter": "m",
    "kilometer": "km",
    "picometer": "pm",
    "inch": "in",
    "foot": "ft",
    "yard": "yd",
    "mile": "mi",
}
_SI = ["picometer", "nanometer", "micrometer", "millimeter", "meter", "kilometer"]


def channel_colors(omero: Mapping[str, Any] | None, n: int) -> list[np.ndarray]:
    """Each channel's colour (RGB in 0-1): the ``omero`` colour where it has a valid one."""
    default = _DEFAULT_COLORS.get(n) or [_CYCLE[i % len(_CYCLE)] for i in range(n)]
    entries = _channels(omero, n)
    return [_hex(entries[i].get("color"), default[i]) for i in range(n)]


def shown_channels(omero: Mapping[str, Any] | None, n: int) -> list[int]:
    """The channels ``omero`` marks active (all where none is)."""
    entries = _channels(omero, n)
    active = [i for i in range(n) if entries[i].get("active", True) is not False]
    return active or list(range(n))


def window(omero: Mapping[str, Any] | None, n: int, channel: int, dtype: Any) -> tuple | None:
    """The ``omero`` window (start, end) of ``channel`` (swapped where it is ``inverted``);
    None where it has none, or where it spans the dtype's whole range (what a writer that
    never looked at the data writes, e.g. ``convert``)."""
    entry = _channels(omero, n)[channel].get("window")
    if not isinstance(entry, Mapping):
        return None
    try:
        start, end = float(entry["start"]), float(entry["end"])
    except (KeyError, TypeError, ValueError):
        return None
    if not (math.isfinite(start) and math.isfinite(end)) or start == end:
        return None
    dtype = np.dtype(dtype)
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        if (start, end) == (info.min, info.max):
            return None
    inverted = _channels(omero, n)[channel].get("inverted") is True
    return (end, start) if inverted else (start, end)


def auto_window(values: Sequence[np.ndarray]) -> tuple[float, float]:
    """Robust percentiles of what was read; its minimum and maximum where they coincide."""
    flat = np.concatenate([np.ravel(v) for v in values]) if values else np.zeros(1)
    flat = flat[np.isfinite(flat)]
    if flat.size == 0:
        return 0.0, 1.0
    low, high = (float(p) for p in np.percentile(flat, PERCENTILES))
    if high <= low:
        low, high = float(flat.min()), float(flat.max())
    return (low, high) if high > low else (low, low + 1.0)


def blend(
    planes: Sequence[np.ndarray], colors: Sequence[np.ndarray], windows: Sequence[tuple]
) -> np.ndarray:
    """Channels added up in their colours, each scaled from its window to 0-1; uint8 RGB.
    A window with start above end shows the channel inverted."""
    shape = planes[0].shape if planes else (1, 1)
    rgb = np.zeros((*shape, 3), np.float32)
    for plane, color, (start, end) in zip(planes, colors, windows, strict=True):
        level = np.clip((plane - np.float32(start)) / np.float32(end - start), 0, 1)
        rgb += np.nan_to_num(level)[..., None] * color.astype(np.float32)
    return (np.clip(rgb, 0, 1) * 255 + 0.5).astype(np.uint8)


def draw_outlines(rgb: np.ndarray, labels: np.ndarray, image_label: Mapping | None) -> None:
    """Outline each labelled object on ``rgb``: its pixels that touch (4-connected) another
    value, in the object's ``image-label`` colour, else one picked from its value."""
    padded = np.pad(labels, 1, mode="edge")
    edge = np.zeros(labels.shape, bool)
    for dy, dx in ((0, 1), (2, 1), (1, 0), (1, 2)):
        edge |= padded[dy : dy + labels.shape[0], dx : dx + labels.shape[1]] != labels
    edge &= labels != 0
    values, where = np.unique(labels[edge], return_inverse=True)
    if values.size:
        palette = np.array([_label_color(v, image_label) for v in values.tolist()], np.uint8)
        rgb[edge] = palette[where.ravel()]


def _label_color(value: Any, image_label: Mapping | None) -> tuple[int, int, int]:
    for entry in (image_label or {}).get("colors", []) or []:
        rgba = entry.get("rgba") if isinstance(entry, Mapping) else None
        if entry.get("label-value") == value and isinstance(rgba, list) and len(rgba) >= 3:
            return tuple(int(np.clip(c, 0, 255)) for c in rgba[:3])  # type: ignore[return-value]
    hue = (float(value) * 0.618033988749895) % 1.0  # golden ratio: neighbours differ
    r, g, b = (_hue(hue + shift) for shift in (1 / 3, 0, -1 / 3))
    return int(r * 255), int(g * 255), int(b * 255)


def _hue(h: float) -> float:
    """One RGB component of a saturated colour of hue ``h`` (0-1, wrapping)."""
    return float(np.clip(abs((h % 1.0) * 6 - 3) - 1, 0, 1)) * 0.8 + 0.2


def scale_bar(rgb: np.ndarray, pixel: float, unit: str) -> tuple[float, str] | None:
    """A bar of a round length (1, 2 or 5 times a power of ten, about a fifth of the width)
    at the bottom right of ``rgb``, its length written above it; (length, unit) drawn, or
    None where the picture is too small for one."""
    h, w = rgb.shape[:2]
    if pixel <= 0 or not math.isfinite(pixel) or w < 32 or h < 24:
        return None
    target = w * pixel / 5
    power = 10 ** math.floor(math.log10(target))
    length = max(m * power for m in (1, 2, 5) if m * power <= target)
    bar = round(length / pixel)
    if unit in _SI:  # 2000 micrometer reads better as 2 millimeter
        index = _SI.index(unit)
        while length >= 1000 and index + 1 < len(_SI):
            length, index = length / 1000, index + 1
        unit = _SI[index]
    length = float(f"{length:.3g}")
    text = f"{length:g} {_UNITS.get(unit, unit)}"
    scale = 2 if w >= 400 else 1
    margin, thick = max(3, w // 60), max(2, h // 128)
    x1, y1 = w - margin, h - margin
    rgb[y1 - thick - 1 : y1 + 1, x1 - bar - 1 : x1 + 1] = 0  # a dark rim
    rgb[y1 - thick : y1, x1 - bar : x1] = 255
    width = text_mask(text, scale).shape[1]
    if width + 2 <= w:
        left = min(max(x1 - bar // 2 - width // 2, 1), w - width - 2)
        draw_text(rgb, text, y1 - thick - 3 - HEIGHT * scale, left, scale)
    return length, unit


def _channels(omero: Mapping[str, Any] | None, n: int) -> list[Mapping[str, Any]]:
    channels = (omero or {}).get("channels") if isinstance(omero, Mapping) else None
    if not isinstance(channels, list) or len(channels) != n:
        return [{}] * n
    return [c if isinstance(c, Mapping) else {} for c in channels]


def _hex(text: Any, default: str) -> np.ndarray:
    value = text.lstrip("#") if isinstance(text, str) else ""
    if len(value) not in (6, 8) or any(c not in "0123456789abcdefABCDEF" for c in value):
        value = default
    return np.array([int(value[i : i + 2], 16) / 255 for i in (0, 2, 4)])
