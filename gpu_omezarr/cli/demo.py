"""``gpu-omezarr demo OUTPUT``: a generated 3-D image (blobs on a smooth background) and its
label image, written as an OME-Zarr pyramid: the quickest way to see the writer work."""

from __future__ import annotations

import argparse
import time
from typing import Any


def add_parsers(sub: Any) -> None:
    p = sub.add_parser("demo", help="write a generated 3-D image with labels", description=__doc__)
    p.add_argument("output")
    p.add_argument("--size", type=int, default=512, help="y and x size (default 512)")
    p.add_argument("--depth", type=int, default=64, help="z size (default 64)")
    p.add_argument(
        "--ngff-version", "--version", dest="version", choices=("0.4", "0.5", "0.6"), default="0.5"
    )
    p.add_argument("--backend", choices=("auto", "numpy", "cupy"), default="auto")
    p.add_argument("--overwrite", action="store_true")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..api import write_image, write_labels
    from ..backends import describe, get_backend
    from ..demo import blobs
    from ..progress import Bar

    if args.size < 1 or args.depth < 1:
        raise ValueError(f"--size={args.size} --depth={args.depth}: sizes must be positive")
    backend = get_backend(args.backend)
    shape = (args.depth, args.size, args.size)
    image, labels = blobs(shape)
    start = time.perf_counter()
    options = {"shards": None} if args.version == "0.4" else None
    write_image(
        image,
        args.output,
        axes="zyx",
        scale=[2.0, 0.5, 0.5],
        version=args.version,
        axes_units={a: "micrometer" for a in "zyx"},
        backend=backend,
        storage_options=options,
        overwrite=args.overwrite,
        progress=None if args.quiet else Bar("image"),
        name="blobs",
        metadata={
            "omero": {
                "channels": [
                    {
                        "label": "blobs",
                        "color": "00FF00",
                        "window": {"min": 0, "max": 65535, "start": 0, "end": 2500},
                    }
                ]
            }
        },
    )
    write_labels(
        labels,
        args.output,
        "blobs",
        backend=backend,
        storage_options=options,
        overwrite=args.overwrite,
        progress=None if args.quiet else Bar("labels"),
    )
    seconds = time.perf_counter() - start
    mib = (image.nbytes + labels.nbytes) / 2**20
    if not args.quiet:
        print(
            f"wrote {args.output}: image {shape} uint16 + labels uint32, {mib:,.0f} MiB in "
            f"{seconds:.2f} s ({mib / seconds:,.0f} MiB/s), backend {describe(backend)}, "
            f"OME-NGFF {args.version}"
        )
    return 0
