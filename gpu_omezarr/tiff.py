"""TIFF / OME-TIFF / BigTIFF opened lazily through tifffile's Zarr view, checked first.

A damaged file is refused before anything is written, with one line naming it: tifffile's
warnings about the file (an invalid page offset, OME-XML that does not parse) are errors
here, and the planes the series declares must all be in the file (a truncated copy keeps its
header and loses its last planes). Metadata come from OME-XML, ImageJ's description or the
TIFF resolution tags.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import re
import warnings as python_warnings
from collections.abc import Iterator
from typing import Any

from .metadata._errors import invalid
from .reader import read_threads
from .sources import Source, ome_order

# tifffile's axis letters: S (samples, e.g. RGB) and E (lambda) are channels; I and Q (pages
# with no declared meaning) are read as z, the usual stack, or t when z is taken: --axes
# overrides.
TIFF_AXES = {"T": "t", "C": "c", "S": "c", "E": "c", "Z": "z", "Y": "y", "X": "x"}
TIFF_SEQUENCE = "IQ"
OME_UNITS = {  # OME-XML unit symbols to OME-NGFF unit names
    "Å": "angstrom",
    "nm": "nanometer",
    "µm": "micrometer",
    "um": "micrometer",
    "mm": "millimeter",
    "cm": "centimeter",
    "m": "meter",
    "s": "second",
    "ms": "millisecond",
}
IMAGEJ_UNITS = {"micron": "micrometer", "\\u00B5m": "micrometer", **OME_UNITS}
# tifffile's complaints that lose no pixel and no axis (secondary metadata, text encodings):
# shown as warnings. Every other one is an error: the file is damaged or read in part.
HARMLESS = re.compile(
    r"coercing invalid ASCII|STK Datetime|fluoview|not writing extratag|subfiletype|"
    r"estimating ByteCounts"
)
# TIFF ResolutionUnit: micrometres per unit (1, NONE, declares no physical size).
RESOLUTION_UNITS = {2: 25400.0, 3: 10000.0}


class _Collect(logging.Handler):
    """Keeps the warnings tifffile logs (it logs a damaged file instead of raising)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextlib.contextmanager
def _tifffile_warnings() -> Iterator[list[str]]:
    logger = logging.getLogger("tifffile")
    handler = _Collect()
    logger.addHandler(handler)
    try:
        yield handler.messages
    finally:
        logger.removeHandler(handler)


def open_tiff(path: str, series: int | None = None) -> Source:
    """Series ``series`` (default 0) of the TIFF at ``path``, checked whole first.

    ``Source.series_count`` says how many series (OME-XML images, scenes) the file holds,
    so that a caller can convert every one or refuse to drop any.
    """
    import tifffile

    with _tifffile_warnings() as warnings:
        try:
            tif = tifffile.TiffFile(path)
        except (tifffile.TiffFileError, OSError, ValueError) as exc:
            invalid("input", path, f"not a readable TIFF ({exc})")
        try:
            source = _open_series(tif, path, series, warnings)
        except BaseException:
            tif.close()
            raise
    source.closers.append(tif.close)
    return source


def _open_series(tif: Any, path: str, index: int | None, warnings: list[str]) -> Source:
    import zarr

    try:
        all_series = list(tif.series)
        planes = len(tif.pages)  # walks every IFD: a cut one is logged here
    except Exception as exc:  # tifffile raises many types on damaged structures
        invalid("input", path, f"damaged TIFF ({type(exc).__name__}: {exc})")
    if not all_series:
        invalid("input", path, "damaged TIFF: no image in it" + _first(warnings))
    if index is not None and not 0 <= index < len(all_series):
        invalid("series", index, f"{path} holds series 0 to {len(all_series) - 1}")
    series = all_series[index or 0]
    declared = sum(_planes(s) for s in all_series)
    for message in [m for m in warnings if HARMLESS.search(m)]:
        warnings.remove(message)
        python_warnings.warn(f"{path}: tifffile: {_plain(message)}", stacklevel=2)
    if warnings:
        counts = f": declares {declared} planes, {planes} readable" if declared > planes else ""
        invalid("input", path, f"damaged or truncated TIFF{counts}{_first(warnings)}")
    _check_extent(series, path)
    try:
        # maxworkers > 1: tifffile decodes each tile on a thread of its own, so zarr's
        # concurrent chunk reads decode a region's tiles in parallel
        store = series.aszarr(level=0, maxworkers=read_threads())
        array = zarr.open_array(store, mode="r")
    except Exception as exc:
        invalid("input", path, f"damaged TIFF ({type(exc).__name__}: {exc})")
    axes = _tiff_axes(series.axes, path)
    lazy, order = ome_order(array, axes)
    source = Source(lazy, order, kind="ome-tiff" if tif.is_ome else "tiff")
    source.series_count = len(all_series)
    source.closers.append(store.close)
    if tif.is_ome:
        source.ome_xml = tif.ome_metadata
        _ome_xml(tif.ome_metadata, index or 0, source, path)
    elif tif.is_imagej:
        _imagej(tif, source)
    else:
        _resolution(series.keyframe, source)
    return source


def _first(warnings: list[str]) -> str:
    """tifffile's first complaint."""
    return f" (tifffile: {_plain(warnings[0])})" if warnings else ""


def _plain(message: str) -> str:
    """A tifffile message without the object it names ("<tifffile.TiffPages @8> ...")."""
    return re.sub(r"^<[^>]*> ", "", message)


def _planes(series: Any) -> int:
    """Planes (y/x images, all samples) the series declares."""
    page = series.keyframe
    return math.prod(series.shape) // max(1, math.prod(page.shape))


def _check_extent(series: Any, path: str) -> None:
    """Every byte of level 0 the series points at lies inside the file."""
    size = os.path.getsize(path)
    if series.dataoffset is not None:  # contiguous: one block from the first plane on
        end = series.dataoffset + series.nbytes
        if end > size:
            readable = max(0, size - series.dataoffset) * _planes(series) // series.nbytes
            invalid(
                "input",
                path,
                f"truncated TIFF: {readable} of {_planes(series)} planes readable "
                f"(the data ends at byte {end:,}, the file has {size:,})",
            )
        return
    pages = series.pages
    for i, page in enumerate(pages):
        if page is None:
            invalid("input", path, f"damaged TIFF: plane {i} of {len(pages)} is missing")
        ends = [o + n for o, n in zip(page.dataoffsets, page.databytecounts, strict=True) if n]
        if ends and max(ends) > size:
            invalid(
                "input",
                path,
                f"truncated TIFF: {i} of {len(pages)} planes readable (plane {i}'s data "
                f"ends at byte {max(ends):,}, the file has {size:,})",
            )


def _tiff_axes(axes: str, path: str) -> str:
    names: list[str] = []
    for letter in axes:
        if letter in TIFF_SEQUENCE:
            free = [a for a in "zt" if a.upper() not in axes and a not in names]
            if not free:
                invalid("input", path, f"TIFF axes {axes!r}: too many page axes; pass --axes")
            names.append(free[0])
        elif letter in TIFF_AXES:
            names.append(TIFF_AXES[letter])
        else:
            invalid("input", path, f"TIFF axes {axes!r}: no OME-NGFF axis for {letter!r}")
    if len(set(names)) != len(names):
        invalid("input", path, f"TIFF axes {axes!r} map to repeated OME axes {''.join(names)}")
    if not 2 <= len(names) <= 5:
        invalid("input", path, f"TIFF axes {axes!r}: OME-NGFF images have 2 to 5 axes")
    return "".join(names)


def _ome_xml(xml: str, index: int, source: Source, path: str) -> None:
    """Pixel sizes, units and channel names of image ``index`` of the OME-XML."""
    import tifffile

    try:
        ome = tifffile.xml2dict(xml)["OME"]
        images = ome["Image"] if isinstance(ome["Image"], list) else [ome["Image"]]
        pixels = images[index]["Pixels"]
    except Exception as exc:  # tifffile read it as OME: this is rare, and never silent
        invalid("input", path, f"damaged OME-XML ({type(exc).__name__}: {exc})")
    for axis in "zyx":
        size = pixels.get(f"PhysicalSize{axis.upper()}")
        if size and axis in source.axes:
            source.scale[axis] = float(size)
            unit = pixels.get(f"PhysicalSize{axis.upper()}Unit", "µm")
            source.units[axis] = OME_UNITS.get(unit, "micrometer")
    if pixels.get("TimeIncrement") and "t" in source.axes:
        source.scale["t"] = float(pixels["TimeIncrement"])
        source.units["t"] = OME_UNITS.get(pixels.get("TimeIncrementUnit", "s"), "second")
    channels = pixels.get("Channel", [])
    channels = channels if isinstance(channels, list) else [channels]
    names = [str(c.get("Name", "")) for c in channels]
    source.channel_names = names if any(names) else []


def _imagej(tif: Any, source: Source) -> None:
    meta = tif.imagej_metadata or {}
    unit = IMAGEJ_UNITS.get(str(meta.get("unit", "")))
    page = tif.pages.first
    for axis, tag in (("x", "XResolution"), ("y", "YResolution")):
        if tag not in page.tags:
            continue
        num, den = page.tags[tag].value
        if num and axis in source.axes:
            source.scale[axis] = den / num
            if unit:
                source.units[axis] = unit
    if meta.get("spacing") and "z" in source.axes:
        source.scale["z"] = float(meta["spacing"])
        if unit:
            source.units["z"] = unit
    source.channel_names = _imagej_channels(meta.get("Labels"), int(meta.get("channels", 1)))


def _imagej_channels(labels: Any, channels: int) -> list[str]:
    """Channel names from ImageJ's slice labels: one per channel, or one per plane with
    channels varying fastest and each channel's label the same on every plane."""
    if not labels or channels < 1 or len(labels) % channels:
        return []
    labels = [str(x) for x in labels]
    names = labels[:channels]
    if any(label != names[i % channels] for i, label in enumerate(labels)):
        return []  # per-plane labels ("z 3/30"), no channel names
    return names


def _resolution(page: Any, source: Source) -> None:
    """A plain TIFF's XResolution / YResolution (pixels per inch or cm) as micrometres."""
    try:
        unit = int(page.tags["ResolutionUnit"].value) if "ResolutionUnit" in page.tags else 2
    except (TypeError, ValueError):
        return
    per_unit = RESOLUTION_UNITS.get(unit)
    if per_unit is None:
        return
    for axis, tag in (("x", "XResolution"), ("y", "YResolution")):
        if tag not in page.tags or axis not in source.axes:
            continue
        num, den = page.tags[tag].value
        if num and den and num != den:  # 1/1 is what writers put when they know nothing
            source.scale[axis] = per_unit * den / num
            source.units[axis] = "micrometer"
