"""A file with several series (OME-TIFF images, scenes): one image per series, in the
bioformats2raw layout that OME-NGFF gives for several images of one file.

``OUTPUT/0``, ``OUTPUT/1``... are the images; ``OUTPUT/OME`` lists them (``series``) and keeps
the file's OME-XML as ``METADATA.ome.xml``; the root's ``bioformats2raw.layout`` is written
last, once every series is stored.
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

import numpy as np
import zarr

LAYOUT = 3  # bioformats2raw.layout version of this layout


def convert_series(
    args: argparse.Namespace, backend: Any, start: float, state: str, count: int
) -> int:
    """Every series of ``args.input`` into ``args.output``; every one is opened and checked
    before the first is written."""
    from ..backends import describe
    from ..sources import open_source
    from .convert import write_one
    from .output import guarded

    if args.labels:
        raise ValueError(
            f"--labels: {args.input} holds {count} series; pass --series N to choose the image "
            "the labels belong to"
        )
    sources = [open_source(args.input, args.axes, series=i) for i in range(count)]
    try:
        nbytes = sum(int(np.prod(s.array.shape)) * s.array.dtype.itemsize for s in sources)
        zarr_format = 2 if args.version == "0.4" else 3
        with guarded(args.input, args.output, state, nbytes):
            zarr.open_group(args.output, mode="a", zarr_format=zarr_format)
            for i, source in enumerate(sources):
                write_one(args, backend, source, None, f"{args.output}/{i}", None)
            _write_layout(args.output, args.version, zarr_format, count, sources[0].ome_xml)
    finally:
        for source in sources:
            source.close()
    if not args.quiet:
        seconds = time.perf_counter() - start
        print(
            f"wrote {args.output}: {count} series (bioformats2raw layout: {args.output}/0 .. "
            f"/{count - 1}), {nbytes / 2**20:,.1f} MiB in {seconds:.2f} s, backend "
            f"{describe(backend)}, OME-NGFF {args.version}"
        )
    return 0


def _write_layout(
    output: str, version: str, zarr_format: int, count: int, ome_xml: str | None
) -> None:
    series = [str(i) for i in range(count)]
    ome = zarr.open_group(f"{output}/OME", mode="a", zarr_format=zarr_format)
    if zarr_format == 2:
        ome.attrs.put({"series": series})
    else:
        ome.attrs.put({"ome": {"version": version, "series": series}})
    if ome_xml:
        with open(os.path.join(output, "OME", "METADATA.ome.xml"), "w", encoding="utf-8") as f:
            f.write(ome_xml)
    root = zarr.open_group(output, mode="a", zarr_format=zarr_format)
    layout: dict[str, Any] = {"bioformats2raw.layout": LAYOUT}
    root.attrs.put(layout if zarr_format == 2 else {"ome": {"version": version, **layout}})
