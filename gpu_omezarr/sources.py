"""Open image files lazily as arrays for the writer, with what they say about themselves.

``open_source(path)`` understands TIFF / OME-TIFF / BigTIFF (through tifffile's Zarr view:
read region by region, never whole), ``.npy`` (memory-mapped), Zarr arrays and OME-Zarr
images (level 0, to re-pyramid). Axes come back in OME order (t, c, z, y, x); a file stored
in another order is transposed lazily.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .metadata._errors import invalid

OME_ORDER = "tczyx"


@dataclass
class Source:
    """A lazily read image and what its file says: axes in OME order, physical pixel sizes
    and units by axis name, channel names."""

    array: Any
    axes: str
    scale: dict[str, float] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)
    channel_names: list[str] = field(default_factory=list)
    kind: str = "array"
    series_count: int = 1  # images in the file (OME-TIFF series, scenes); this is one
    ome_xml: str | None = None
    closers: list[Any] = field(default_factory=list, repr=False)

    def close(self) -> None:
        for close in self.closers:
            close()

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_source(path: str, axes: str | None = None, series: int | None = None) -> Source:
    """Open ``path`` for reading. ``axes`` (e.g. ``"zyx"``) overrides what the file says;
    it names the axes in the file's own order. ``series``: which image of a multi-series
    TIFF (default the first; ``Source.series_count`` says how many there are)."""
    if not os.path.exists(path):
        invalid("input", path, "no such file or directory")
    lower = path.lower().rstrip("/")
    if lower.endswith((".tif", ".tiff", ".btf", ".tf2", ".tf8")):
        from .tiff import open_tiff

        source = open_tiff(path, series)
    elif lower.endswith(".npy"):
        try:
            array = np.load(path, mmap_mode="r")
        except ValueError as exc:
            invalid("input", path, f"not a readable .npy file ({exc})")
        source = Source(array, _default_axes(array.ndim), kind="npy")
    elif os.path.isdir(path):
        source = _open_zarr(path)
    else:
        invalid("input", path, "not a TIFF, .npy, Zarr array or OME-Zarr image")
    if series and source.series_count == 1:
        invalid("series", series, f"{path} holds one image (series 0)")
    if axes is not None:
        source = _rename_axes(source, axes)
    return source


def _default_axes(ndim: int) -> str:
    if not 2 <= ndim <= 5:
        invalid("input", f"{ndim}-D array", "OME-NGFF images have 2 to 5 axes")
    return OME_ORDER[-ndim:]


def _rename_axes(source: Source, axes: str) -> Source:
    axes = axes.lower()
    if len(axes) != len(source.array.shape):
        invalid("axes", axes, f"the input has {len(source.array.shape)} axes")
    if len(set(axes)) != len(axes) or set(axes) - set(OME_ORDER):
        invalid("axes", axes, f"use each of {OME_ORDER!r} at most once")
    source.array, source.axes = ome_order(source.array, axes)
    return source


def ome_order(array: Any, axes: str) -> tuple[Any, str]:
    """``array`` with axes ``axes`` as a lazy view in OME order."""
    order = "".join(sorted(axes, key=OME_ORDER.index))
    if order == axes:
        return array, axes
    import dask.array as da

    chunks = getattr(array, "chunks", "auto")
    lazy = da.from_array(array, chunks=chunks if isinstance(chunks, tuple) else "auto")
    return lazy.transpose([axes.index(a) for a in order]), order


def _open_zarr(path: str) -> Source:
    import zarr

    try:
        node = zarr.open(path, mode="r")
    except Exception as exc:  # zarr raises several types for "not a zarr node"
        invalid("input", path, f"not a Zarr array or OME-Zarr image ({exc})")
    if isinstance(node, zarr.Array):
        names = getattr(node.metadata, "dimension_names", None)
        axes = "".join(names) if names and all(n in OME_ORDER for n in names) else None
        array, axes = ome_order(node, axes) if axes else (node, _default_axes(node.ndim))
        return Source(array, axes, kind="zarr")
    from .metadata import plain_multiscale, read_ome

    _, blocks = read_ome(node.attrs.asdict())
    multiscales = blocks.get("multiscales")
    if not multiscales:
        invalid("input", path, "a Zarr group without OME-NGFF multiscales")
    ms = plain_multiscale(multiscales[0])  # 0.6: axes of the system the levels map to
    names = [a["name"] for a in ms["axes"]]
    level0 = ms["datasets"][0]
    scale = next(t["scale"] for t in level0["coordinateTransformations"] if t["type"] == "scale")
    units = {a["name"]: a["unit"] for a in ms["axes"] if a.get("unit")}
    channels = [c.get("label", "") for c in blocks.get("omero", {}).get("channels", [])]
    return Source(
        node[level0["path"]],
        "".join(names),
        dict(zip(names, scale, strict=True)),
        units,
        channels,
        kind="ome-zarr",
    )


# Well and field from a file name: "A01_f2.tif", "B12-s1.ome.tif", "C3.tif" (one field).
PLATE_PATTERN = r"(?P<row>[A-Za-z]+)(?P<column>\d+)(?:[_-](?:f|s|field|site)?(?P<field>\d+))?"
TIFF_SUFFIXES = (".tif", ".tiff", ".btf", ".tf2", ".tf8")


def plate_layout(folder: str, pattern: str = PLATE_PATTERN) -> dict[str, list[str]]:
    """The TIFFs of ``folder`` by well: ``{"A/1": [field 0 file, field 1 file], ...}``.

    ``pattern`` is a regular expression with groups ``row`` and ``column`` (and optionally
    ``field``), searched in each file's name; rows are upper-cased, columns lose leading zeros.
    """
    import re

    try:
        regex = re.compile(pattern)
    except re.error as exc:
        invalid("pattern", pattern, f"not a regular expression ({exc})")
    if not {"row", "column"} <= set(regex.groupindex):
        invalid("pattern", pattern, "needs the named groups (?P<row>...) and (?P<column>...)")
    found: dict[str, dict[int, str]] = {}
    names = sorted(n for n in os.listdir(folder) if n.lower().endswith(TIFF_SUFFIXES))
    for name in names:
        match = regex.search(name)
        if match is None:
            invalid("input", os.path.join(folder, name), f"the name does not match {pattern!r}")
        well = f"{match['row'].upper()}/{int(match['column'])}"
        field = int(match.groupdict().get("field") or 0)
        if field in found.setdefault(well, {}):
            invalid("input", name, f"a second file for well {well} field {field}")
        found[well][field] = os.path.join(folder, name)
    if not found:
        invalid("input", folder, "a folder with no TIFF files")
    return {well: [fields[k] for k in sorted(fields)] for well, fields in found.items()}


def is_plate_folder(path: str) -> bool:
    """A directory of TIFFs rather than a Zarr node."""
    if not os.path.isdir(path):
        return False
    if any(os.path.exists(os.path.join(path, m)) for m in ("zarr.json", ".zgroup", ".zarray")):
        return False
    return any(n.lower().endswith(TIFF_SUFFIXES) for n in os.listdir(path))
