"""Command line: ``gpu-omezarr demo OUTPUT`` writes a generated 3-D image with labels."""

from __future__ import annotations

import argparse
import sys
import time


def _demo(args: argparse.Namespace) -> int:
    from .api import write_image, write_labels
    from .backends import get_backend
    from .demo import blobs

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
        progress=not args.quiet,
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
    )
    seconds = time.perf_counter() - start
    mib = (image.nbytes + labels.nbytes) / 2**20
    print(
        f"\nwrote {args.output}: image {shape} uint16 + labels uint32, {mib:,.0f} MiB in "
        f"{seconds:.2f} s ({mib / seconds:,.0f} MiB/s), backend {backend.name}, "
        f"OME-NGFF {args.version}"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="gpu-omezarr", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="write a generated 3-D image with labels")
    demo.add_argument("output")
    demo.add_argument("--size", type=int, default=512, help="y and x size (default 512)")
    demo.add_argument("--depth", type=int, default=64, help="z size (default 64)")
    demo.add_argument("--version", choices=("0.4", "0.5"), default="0.5")
    demo.add_argument("--backend", choices=("auto", "numpy", "cupy"), default="auto")
    demo.add_argument("--overwrite", action="store_true")
    demo.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    try:
        return _demo(args)
    except (ValueError, TypeError, RuntimeError) as exc:
        print(f"gpu-omezarr: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
