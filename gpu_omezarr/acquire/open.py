"""``open_stream``: a stream's arguments checked and planned into one ``Write``, as
``write_image``'s (and, with ``label=``, ``write_labels``') are."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .. import metadata as meta
from ..backends import Backend, check_method, get_backend
from ..describe import (
    channels,
    check_labels,
    check_source,
    child,
    multiscale_block,
    progress_callback,
    refuse_existing,
    split_metadata,
)
from ..groups import GroupLike, resolve_group_format
from ..job import Pyramid, Write
from ..metadata._errors import invalid, wrong_type
from ..plan import DEFAULT_SCALE_FACTORS, Placement, plan_levels
from .frames import FrameStream
from .publish import PLAN_LENGTH


def open_stream(
    group: GroupLike,
    frame_shape: Sequence[int],
    dtype: Any,
    *,
    axes: meta.axes.AxesLike | None = None,
    length: int | None = None,
    scale_factors: Any = DEFAULT_SCALE_FACTORS,
    method: str = "mean",
    scale: Any = None,
    axes_units: Mapping[str, str] | None = None,
    translation: Any = None,
    storage_options: Any = None,
    version: str | None = None,
    fmt: Any = None,
    backend: str | Backend = "auto",
    name: str | None = None,
    label: str | None = None,
    label_metadata: Mapping[str, Any] | None = None,
    progress: Any = None,
    overwrite: bool = False,
    resume: bool = False,
    threads: int | None = None,
    **metadata: Any,
) -> FrameStream:
    """Open an OME-Zarr image to be written frame by frame along its first axis.

    Parameters
    ----------
    group : zarr.Group, str or Store
        Where the image goes (for a ``label``, the image whose label it is).
    frame_shape : sequence of int
        One frame: the axes after the first (1 to 4 of them).
    dtype : numpy dtype
        The frames' dtype (frames of another dtype are refused, not cast).
    axes : str or list, optional
        All axes, the streamed one first (``"tyx"``, ``"zyx"``, ``"tczyx"``...).
    length : int, optional
        Frames to come, when known: the levels are planned (chunks clamped) as
        ``write_image`` plans them for the whole, and appending past it is refused. None:
        the first axis grows as frames arrive.
    scale_factors, method, scale, axes_units, translation, storage_options, version, fmt,
    backend, name, progress, metadata
        As :func:`~gpu_omezarr.write_image`. The factors along the first axis may be > 1
        (z planes of a z/y/x pyramid): a tile holds as many frames as the coarsest level
        needs. ``scale_factors="auto"`` needs a ``length``.
    label, label_metadata : optional
        Stream a label image ``group/labels/label`` (integers; ``method="mode"`` as for
        :func:`~gpu_omezarr.write_labels`), listed in ``labels`` once its first tile is
        published. An image and its label are two streams appended side by side.
    overwrite : bool
        Replace an image already there (its metadata withdrawn first).
    resume : bool
        Continue a stream that was interrupted (or closed): after the frames level 0
        holds, with the same settings (refused otherwise).
    threads : int, optional
        Encoder threads (default: one per core).

    Returns
    -------
    FrameStream
        ``append(frames)``, ``close()``; a context manager.
    """
    frame = _frame_shape(frame_shape)
    planned = PLAN_LENGTH if length is None else _length(length)
    if length is None and scale_factors == "auto":
        invalid("scale_factors", "auto", "needs a known length: give length= or the factors")
    shape = (planned, *frame)
    probe = np.empty((1, *frame), dtype)  # checks dtype and rank as write_image checks them
    check_source(probe, "frames")
    dtype = probe.dtype
    if label is not None:
        check_labels(probe, "dtype")
        meta.add_label_name(None, label)
    check_method(method, dtype)
    existing, fmt = resolve_group_format(group, fmt, version)
    axes_list = meta.build_axes(axes, axes_units, ndim=len(shape))
    placement = Placement(scale, translation, method != "nearest")
    levels = plan_levels(
        shape, axes_list, scale_factors, storage_options, fmt.zarr_format, placement
    )
    backend_obj = get_backend(backend)
    extra, blocks = split_metadata(metadata, channels(axes_list, shape))
    multiscale = multiscale_block(levels, axes_list, name or label, method, backend_obj, extra)
    blocks["multiscales"] = [multiscale]
    if label is not None:
        blocks["image-label"] = meta.build_image_label(
            source={"image": "../../"}, **dict(label_metadata or {})
        )
        existing, _ = resolve_group_format(child(child(group, "labels"), label), fmt)
    refuse_existing(existing, group, overwrite or resume)
    pyramid = Pyramid((), dtype, tuple(levels), axes_list, method, backend_obj, storage_options)
    write = Write(
        group,
        fmt,
        pyramid,
        blocks,
        label=label,
        overwrite=overwrite,
        resume=resume,
        progress=progress_callback(progress),
    )
    return FrameStream(write, frame, threads)


def _frame_shape(frame_shape: Any) -> tuple[int, ...]:
    if isinstance(frame_shape, str) or not isinstance(frame_shape, Sequence):
        wrong_type("frame_shape", frame_shape, "a list of integers: one frame's shape")
    for n in frame_shape:
        if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
            invalid("frame_shape", list(frame_shape), "needs integers >= 1")
    return tuple(int(n) for n in frame_shape)


def _length(length: Any) -> int:
    if isinstance(length, bool) or not isinstance(length, int | np.integer) or length < 1:
        invalid("length", length, "needs an integer >= 1, or None (grows as frames arrive)")
    return int(length)
