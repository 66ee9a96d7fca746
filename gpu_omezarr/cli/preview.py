"""``gpu-omezarr preview STORE OUT.png``: a picture of an image or plate, read from the
coarsest level that fills it (a few megabytes read, whatever the size of the store)."""

from __future__ import annotations

import argparse
import os
from typing import Any


def add_parsers(sub: Any) -> None:
    p = sub.add_parser(
        "preview", help="write a PNG picture of an OME-Zarr image or plate", description=__doc__
    )
    p.add_argument("store", help="an OME-Zarr image, plate or well")
    p.add_argument("output", type=png_path, help="the PNG file to write")
    add_options(p)
    p.add_argument("--quiet", action="store_true", help="no summary line")
    p.set_defaults(run=run)


def add_options(p: argparse.ArgumentParser) -> None:
    """The picture's options."""
    p.add_argument("--size", type=int, default=512, help="longer side in pixels (default 512)")
    p.add_argument("--z", default="mid", help="'mid' (default), 'max' (projection) or a plane")
    p.add_argument("--t", type=int, default=0, help="time point (default 0)")
    p.add_argument("--level", default="auto", help="'auto' (coarsest that fills) or a level")
    p.add_argument("--labels", default="all", help="'all' (default), 'none' or a label name")


def png_path(text: str) -> str:
    """An output PNG path whose folder exists, checked before anything is read or written."""
    folder = os.path.dirname(os.path.abspath(text))
    if not os.path.isdir(folder):
        raise argparse.ArgumentTypeError(f"{text!r}: folder {folder!r} does not exist")
    if os.path.isdir(text):
        raise argparse.ArgumentTypeError(f"{text!r} is a directory")
    return text


def write(store: str, output: str, args: argparse.Namespace) -> str:
    """Write the preview of ``store`` to ``output`` with the options in ``args``; a line
    saying what it shows."""
    from ..view import save_preview

    made = save_preview(
        store, output, args.size, z=args.z, t=args.t, level=args.level, labels=args.labels
    )
    rows, columns = made.rgb.shape[:2]
    what = f"from {made.arrays[0]}" if made.arrays else "(no field read)"
    bar = f", scale bar {made.scale_bar[0]:g} {made.scale_bar[1]}" if made.scale_bar else ""
    return f"wrote {output}: {columns} x {rows} px {what}, z {made.z}{bar}"


def run(args: argparse.Namespace) -> int:
    line = write(args.store, args.output, args)
    if not args.quiet:
        print(line)
    return 0


def after_convert(args: argparse.Namespace) -> None:
    """``convert --preview OUT.png``: the default picture of what was written."""
    if args.preview:
        defaults = argparse.Namespace(size=512, z="mid", t=0, level="auto", labels="all")
        line = write(args.output, args.preview, defaults)
        if not args.quiet:
            print(line)
