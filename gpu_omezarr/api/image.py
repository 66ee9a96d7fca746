"""Images: ``write_image`` (a pyramid computed from level 0) and ``write_multiscale`` (every
level given), with ome-zarr-py's parameters, plus ``backend=`` and ``version=``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .. import metadata as meta
from ..backends import Backend, check_method, get_backend
from ..compat_args import ome_zarr_method, scaler_factors
from ..describe import (
    channels,
    check_source,
    given_pyramid,
    multiscale_block,
    progress_callback,
    refuse_existing,
    split_metadata,
)
from ..groups import GroupLike, resolve_group_format
from ..groups import read_blocks as read_blocks  # kept importable from here, for scripts
from ..job import Pyramid, Write
from ..plan import DEFAULT_SCALE_FACTORS, Placement, plan_levels


def write_image(
    image: Any,
    group: GroupLike,
    scale_factors: Any = DEFAULT_SCALE_FACTORS,
    name: str | None = None,
    method: Any = "mean",
    scaler: Any = None,
    fmt: Any = None,
    axes: meta.axes.AxesLike | None = None,
    coordinate_transformations: Sequence[Sequence[Mapping[str, Any]]] | None = None,
    storage_options: Any = None,
    compute: bool = True,
    scale: Any = None,
    axes_units: Mapping[str, str] | None = None,
    *,
    backend: str | Backend = "auto",
    progress: Any = None,
    version: str | None = None,
    translation: Any = None,
    write_translation: bool = True,
    overwrite: bool = False,
    resume: bool = False,
    **metadata: Any,
) -> list:
    """Write ``image`` as an OME-Zarr multiscale pyramid in ``group``, in one streaming pass.

    Parameters
    ----------
    image : array-like, shape (..., y, x), 2 to 5 axes
        numpy, CuPy, dask, zarr, or anything with ``shape``, ``dtype`` and slicing.
    group : zarr.Group or str
        Target group, path or fsspec URL.
    scale_factors : sequence of int, sequence of dict, or "auto"
        Integers: cumulative y/x factors per level (z halved too once near isotropic);
        dicts: cumulative factors by axis name; ``"auto"``: halve until one chunk.
    name : str, optional
        The multiscale's name (default: the group's).
    method : {"mean", "nearest", "mode"} or ome-zarr-py's ``Methods``
        ``Methods.LOCAL_MEAN`` is ``"mean"``, ``Methods.NEAREST`` ``"nearest"``; the
        interpolating ``RESIZE`` / ``ZOOM`` are refused, naming these.
    scaler : ome-zarr-py's ``Scaler``, optional
        Its ``method``, ``downscale`` and ``max_layer`` (y/x factors), as ome-zarr-py.
    fmt, version : OME-NGFF version (Format object or "0.4" / "0.5"); default 0.5.
    axes, axes_units, scale, translation : axes and physical pixel size / origin of level 0.
    coordinate_transformations : list of list of dict, optional
        One list per level, written as given instead of the computed scale / translation.
    storage_options : dict or list of dict (one per level; extra ones unused)
        ``chunks``, ``shards`` (v3; an int for every axis, or the last axes, the leading
        ones whole), ``compressors``; other keys go to ``zarr.create_array``.
    compute : bool
        False: return ``[dask.delayed]``, the write as a graph of region tasks (arrays, then
        regions of level 0 with the levels they hold whole, then coarser levels, then the
        metadata) for any dask scheduler. Nothing is written until it is computed.
    backend : "auto", "numpy", "cupy" or a Backend
    progress : callable(Progress), True for a text bar, or None
        Called once per stored unit (chunk or shard), from the encoder threads. With
        ``compute=False`` or a dask.distributed client, units stored in this process are
        reported (threaded scheduler, in-process cluster); workers in other processes
        report nothing (use ``distributed.progress`` there).
    write_translation : bool
        False writes scales only (ome-zarr-py's convention).
    overwrite : bool
        Replace an image already in ``group``.
    resume : bool
        Finish a write that was interrupted: units already stored and reading back equal to
        what this write computes are kept, the rest written; the result is byte-identical to
        an uninterrupted write. Refused if the arrays were made with other settings.

    Returns
    -------
    list
        ``[]`` when ``compute``, else ``[dask.delayed.Delayed]``.
    """
    shape, dtype = check_source(image, "image")
    method = ome_zarr_method(method, scaler, "mean")
    check_method(method, dtype)
    existing, fmt = resolve_group_format(group, fmt, version)
    axes_list = meta.build_axes(axes, axes_units, ndim=len(shape))
    scale_factors = scaler_factors(scaler, axes_list, scale_factors)
    placement = Placement(scale, translation, method != "nearest", write_translation)
    levels = plan_levels(
        shape, axes_list, scale_factors, storage_options, fmt.zarr_format, placement
    )
    backend_obj = get_backend(backend)
    extra, blocks = split_metadata(metadata, channels(axes_list, shape))
    blocks["multiscales"] = [
        multiscale_block(
            levels, axes_list, name, method, backend_obj, extra, fmt, coordinate_transformations
        )
    ]
    refuse_existing(existing, group, overwrite or resume)
    pyramid = Pyramid(
        (image,), dtype, tuple(levels), axes_list, method, backend_obj, storage_options
    )
    on_unit = progress_callback(progress)
    write = Write(group, fmt, pyramid, blocks, overwrite=overwrite, resume=resume, progress=on_unit)
    return write.execute(compute)


def write_multiscale(
    pyramid: Sequence[Any],
    group: GroupLike,
    fmt: Any = None,
    axes: meta.axes.AxesLike | None = None,
    coordinate_transformations: Sequence[Sequence[Mapping[str, Any]]] | None = None,
    storage_options: Any = None,
    name: str | None = None,
    compute: bool = True,
    scale: Any = None,
    axes_units: Mapping[str, str] | None = None,
    *,
    version: str | None = None,
    overwrite: bool = False,
    progress: Any = None,
    **metadata: Any,
) -> list:
    """Write a pyramid whose levels the caller computed (largest first).

    Scales come from ``coordinate_transformations`` when given, else from ``scale`` times
    the shape ratio to level 0 (integer factors where the shapes are those of block
    downsampling, as ome-zarr-py writes them otherwise). No translation is invented.
    ``compute=False`` returns ``[dask.delayed]``: each level's region tasks, then the
    metadata (as :func:`write_image`'s graph).
    """
    existing, fmt = resolve_group_format(group, fmt, version)
    options = {
        "axes_units": axes_units,
        "scale": scale,
        "coordinate_transformations": coordinate_transformations,
        "storage_options": storage_options,
        "name": name,
    }
    given, blocks = given_pyramid(pyramid, fmt, axes, options, metadata)
    refuse_existing(existing, group, overwrite)
    on_unit = progress_callback(progress)
    return Write(group, fmt, given, blocks, overwrite=overwrite, progress=on_unit).execute(compute)
