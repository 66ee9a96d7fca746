"""``gpu-omezarr convert INPUT OUTPUT``: a TIFF, .npy, Zarr array or OME-Zarr image to an
OME-Zarr pyramid, optionally with a label image."""

from __future__ import annotations

import argparse
import contextlib
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from . import _options, preview

DESCRIPTION = """\
Convert a TIFF / OME-TIFF / BigTIFF, a .npy, a Zarr array or an OME-Zarr image (or a folder
of TIFFs named by well, as a plate) to an OME-Zarr pyramid, optionally with a label image.
A file with several series (OME-TIFF images, scenes) becomes one image per series in the
bioformats2raw layout (OUTPUT/0, OUTPUT/1, ...), or the one chosen with --series.
Exit codes: 2 refused before writing, 3 failed while writing, 130 interrupted (--resume
finishes it)."""


def add_parsers(sub: Any) -> None:
    p = sub.add_parser(
        "convert",
        help="convert a TIFF / OME-TIFF, .npy, Zarr array or OME-Zarr image to OME-Zarr",
        description=DESCRIPTION,
    )
    p.add_argument("input", help="TIFF / OME-TIFF / BigTIFF, .npy, Zarr array or OME-Zarr image")
    p.add_argument("output", help="the OME-Zarr image to write (a directory)")
    p.add_argument(
        "--ngff-version",
        "--version",
        dest="version",
        choices=("0.4", "0.5", "0.6"),
        default="0.5",
        help="OME-NGFF version (default 0.5)",
    )
    p.add_argument("--method", choices=("mean", "nearest", "mode"), default="mean")
    levels = p.add_mutually_exclusive_group()
    levels.add_argument(
        "--scale-factors",
        type=_options.scale_factors,
        default="auto",
        help="'auto' (default: halve until the coarsest level fits one chunk), cumulative "
        "y/x factors '2,4,8', or per axis 'z=1:2:4,y=2:4:8,x=2:4:8'",
    )
    levels.add_argument("--levels", type=int, help="number of levels, y/x halved each time")
    p.add_argument("--chunks", type=_options.ints, help="chunk shape, e.g. 16,256,256")
    p.add_argument("--shards", help="shard shape, e.g. 16,1024,1024, or 'none' (0.5 only)")
    p.add_argument(
        "--codec", default="zstd:1", help="zstd[:level] (default zstd:1), gzip, blosc or none"
    )
    p.add_argument("--backend", choices=("auto", "numpy", "cupy"), default="auto")
    p.add_argument("--axes", help="the input's axes in its own order, e.g. zyx or tczyx")
    p.add_argument(
        "--scale",
        type=_options.floats_per_axis,
        help="pixel size per axis: 'z=2,y=0.5,x=0.5' or '2,0.5,0.5'",
    )
    p.add_argument(
        "--units",
        type=_options.per_axis,
        help="units: 'micrometer' for every space axis, or 'z=micrometer,t=second'",
    )
    p.add_argument("--name", help="image name in the metadata (default: the input's name)")
    p.add_argument(
        "--pattern",
        help="plate folders: regular expression with groups row, column, field that finds "
        "the well in each file name (default: A01_f2.tif, B12-s1.tif, C3.tif...)",
    )
    p.add_argument(
        "--series",
        type=int,
        help="convert only this series of a multi-series file (default: every series)",
    )
    p.add_argument("--labels", help="a label image file (same axes and y/x size as the image)")
    p.add_argument("--label-name", help="name of the label image (default: its file name)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing OUTPUT")
    p.add_argument(
        "--resume",
        action="store_true",
        help="finish an interrupted convert: keep what is stored and verified, write the rest",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar, no summary")
    p.add_argument(
        "--preview", type=preview.png_path, metavar="OUT.png", help="also write a PNG of it"
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..backends import describe, get_backend
    from ..sources import is_plate_folder, open_source
    from .output import check_output

    if os.path.abspath(args.input) == os.path.abspath(args.output):
        raise ValueError(f"output={args.output!r}: must differ from the input")
    if args.levels is not None and args.levels < 1:
        raise ValueError(f"--levels={args.levels}: need at least 1")
    state = check_output(args.output, args.overwrite, args.resume)
    # What an unfinished write left (arrays, no image) holds nothing to lose: written anew.
    args.overwrite = args.overwrite or (state == "unfinished" and not args.resume)
    backend = get_backend(args.backend)
    start = time.perf_counter()
    if is_plate_folder(args.input):
        return _convert_plate(args, backend, start, state)
    source = open_source(args.input, args.axes, args.series)
    if source.series_count > 1 and args.series is None:
        source.close()
        from .series import convert_series

        return convert_series(args, backend, start, state, source.series_count)
    with contextlib.ExitStack() as stack:
        stack.enter_context(source)
        labels = stack.enter_context(open_source(args.labels)) if args.labels else None
        written, nbytes = write_one(args, backend, source, labels, args.output, state)
    seconds = time.perf_counter() - start
    if not args.quiet:
        levels = _count_levels(args.output)
        print(
            f"wrote {args.output}: {' + '.join(written)}, levels: {levels}, "
            f"{nbytes / 2**20:,.1f} MiB in {seconds:.2f} s ({nbytes / 2**20 / seconds:,.0f} "
            f"MiB/s), backend {describe(backend)}, OME-NGFF {args.version}"
        )
    preview.after_convert(args)
    return 0


def write_one(
    args: argparse.Namespace,
    backend: Any,
    source: Any,
    labels: Any,
    output: str,
    state: str | None,
) -> tuple[list[str], int]:
    """One image (and its labels) from ``source`` into ``output``: what was written, and its
    uncompressed bytes. Everything is checked before the first byte is written. ``state``:
    the output's (``output.output_state``), for what a failure leaves; None where the caller
    guards the write itself."""
    from ..api import write_image, write_labels
    from .output import guarded

    shape = tuple(source.array.shape)
    dtype = np.dtype(source.array.dtype)
    kwargs = _image_kwargs(args, source, dtype)
    nbytes = int(np.prod(shape)) * dtype.itemsize
    if labels is not None:
        label_array = _check_labels(args.labels, labels.array, shape)
        nbytes += int(np.prod(label_array.shape)) * np.dtype(label_array.dtype).itemsize
    written = [f"image {shape} {dtype}"]
    guard = guarded(args.input, output, state, nbytes) if state else contextlib.nullcontext()
    with guard:
        write_image(
            source.array,
            output,
            backend=backend,
            progress=None if args.quiet else _bar("image"),
            **kwargs,
        )
        if labels is not None:
            name = args.label_name or Path(args.labels.rstrip("/")).name.split(".")[0]
            write_labels(
                label_array,
                output,
                name,
                method="mode",
                backend=backend,
                storage_options=kwargs["storage_options"],
                overwrite=args.overwrite,
                resume=args.resume,
                progress=None if args.quiet else _bar(f"labels {name}"),
            )
            written.append(f"labels {name!r} {np.dtype(label_array.dtype)}")
    return written, nbytes


def _check_labels(path: str, array: Any, shape: tuple[int, ...]) -> Any:
    """The label image, shaped like the image (leading length-1 axes added), checked."""
    label_array = _like_image(array, len(shape))
    if any(n not in (1, m) for n, m in zip(label_array.shape, shape, strict=True)):
        raise ValueError(
            f"--labels={path!r}: shape {tuple(label_array.shape)} does not match "
            f"the image {shape} (each axis equal, or 1)"
        )
    if np.dtype(label_array.dtype).kind not in "iub":
        raise ValueError(f"--labels={path!r}: dtype {label_array.dtype}; labels must be integers")
    return label_array


def _image_kwargs(args: argparse.Namespace, source: Any, dtype: np.dtype) -> dict[str, Any]:
    zarr_format = 2 if args.version == "0.4" else 3
    storage: dict[str, Any] = {"compressors": _options.codec(args.codec, zarr_format)}
    if args.chunks:
        storage["chunks"] = args.chunks
    if args.shards:
        storage["shards"] = None if args.shards == "none" else _options.ints(args.shards)
    elif zarr_format == 2:
        storage["shards"] = None
    factors = args.scale_factors
    if args.levels is not None:
        factors = tuple(2**i for i in range(1, args.levels))
    scale = _scale(args.scale, source)
    units = _units(args.units, source)
    kwargs: dict[str, Any] = {
        "axes": list(source.axes),
        "scale_factors": factors,
        "method": args.method,
        "version": args.version,
        "storage_options": storage,
        "overwrite": args.overwrite,
        "resume": args.resume,
        "name": args.name or Path(args.input.rstrip("/")).name.split(".")[0],
    }
    if scale:
        kwargs["scale"] = scale
    if units:
        kwargs["axes_units"] = units
    named = len(source.channel_names) == 1 and source.channel_names[0]
    if ("c" in source.axes or named) and dtype.kind in "iuf":
        kwargs["metadata"] = {"omero": _omero(source, dtype)}
    return kwargs


def _scale(option: Any, source: Any) -> Any:
    """``--scale`` over what the file says. By axis name, every space axis needs a value
    from one or the other: a partial spec is refused rather than leave an axis at 1."""
    if not isinstance(option, dict):
        return option if option is not None else (source.scale or None)
    text = ",".join(f"{k}={v:g}" for k, v in option.items())
    unknown = sorted(set(option) - set(source.axes))
    if unknown:
        raise ValueError(f"--scale={text}: no axis {unknown} in the image's axes {source.axes}")
    merged = {**source.scale, **option}
    missing = [a for a in source.axes if a in "zyx" and a not in merged]
    if missing:
        raise ValueError(
            f"--scale={text}: no pixel size for {','.join(missing)} (the file gives none); "
            f"give every space axis of {source.axes}, e.g. --scale "
            + ",".join(f"{a}={merged.get(a, 1.0):g}" for a in source.axes if a in "zyx")
        )
    return [merged.get(a, 1.0) for a in source.axes]


def _units(option: Any, source: Any) -> dict[str, str] | None:
    if option is None:
        return source.units or None
    if isinstance(option, list):
        if len(option) != 1:
            raise ValueError(f"--units={','.join(option)}: one unit, or 'axis=unit' pairs")
        return {a: option[0] for a in source.axes if a in "zyx"}
    return option


def _omero(source: Any, dtype: np.dtype) -> dict[str, Any]:
    """Channel names from the file; windows span the dtype (no pass over the data)."""
    n = source.array.shape[source.axes.index("c")] if "c" in source.axes else 1
    info = np.iinfo(dtype) if dtype.kind in "iu" else None
    low, high = (float(info.min), float(info.max)) if info else (0.0, 1.0)
    colors = ["FF0000", "00FF00", "0000FF", "FF00FF", "00FFFF", "FFFF00", "FFFFFF"]
    names = source.channel_names if len(source.channel_names) == n else []
    return {
        "channels": [
            {
                "label": names[i] if names else f"channel {i}",
                "color": colors[i % len(colors)] if n > 1 else "FFFFFF",
                "window": {"min": low, "max": high, "start": low, "end": high},
                "active": True,
            }
            for i in range(n)
        ]
    }


def _like_image(array: Any, ndim: int) -> Any:
    """A label image with fewer axes than its image gets leading length-1 axes (e.g. c)."""
    if array.ndim == ndim:
        return array
    if array.ndim > ndim:
        raise ValueError(f"--labels: {array.ndim}-D, more axes than the {ndim}-D image")
    import dask.array as da

    lazy = da.from_array(array, chunks="auto")
    return lazy.reshape((1,) * (ndim - array.ndim) + tuple(array.shape))


def _count_levels(path: str) -> int:
    import zarr

    return sum(1 for _ in zarr.open_group(path, mode="r").array_keys())


def _bar(description: str) -> Any:
    from ..progress import Bar

    return Bar(description)


def _convert_plate(args: argparse.Namespace, backend: Any, start: float, state: str) -> int:
    """A folder of TIFFs named by well and field, as one plate."""
    from ..api import write_plate
    from ..backends import describe
    from ..sources import PLATE_PATTERN, open_source, plate_layout
    from .output import guarded

    layout = plate_layout(args.input, args.pattern or PLATE_PATTERN)
    first = next(iter(layout.values()))[0]
    with open_source(first, args.axes) as source:
        dtype = np.dtype(source.array.dtype)
        shape = tuple(source.array.shape)
        kwargs = _image_kwargs(args, source, dtype)
    kwargs.pop("name")
    for files in layout.values():  # every file checked before the first byte is written
        for path in files:
            with open_source(path, args.axes):
                pass

    def reader(path: str) -> Any:
        def read() -> np.ndarray:
            with open_source(path, args.axes) as field:
                return np.asarray(field.array[...])

        return read

    wells = {well: [reader(path) for path in files] for well, files in layout.items()}
    nbytes = sum(len(files) for files in layout.values()) * int(np.prod(shape)) * dtype.itemsize
    with guarded(args.input, args.output, state, nbytes):
        write_plate(wells, args.output, name=args.name, backend=backend, **kwargs)
    if not args.quiet:
        fields = sum(len(files) for files in layout.values())
        print(
            f"wrote {args.output}: plate of {len(layout)} wells, {fields} fields, "
            f"in {time.perf_counter() - start:.2f} s, backend {describe(backend)}, "
            f"OME-NGFF {args.version}"
        )
    preview.after_convert(args)
    return 0
