"""Label images: ``write_labels`` (mode downsampling by default) and
``write_multiscale_labels`` (every level given), written as ``group/labels/NAME`` and listed
in ``labels`` once complete, with ome-zarr-py's parameters plus ``backend=`` and ``version=``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .. import metadata as meta
from ..backends import Backend, check_method, get_backend
from ..compat_args import ome_zarr_method, scaler_factors
from ..describe import (
    check_labels,
    check_source,
    child,
    given_pyramid,
    label_defaults,
    multiscale_block,
    parent_image,
    progress_callback,
    refuse_existing,
    split_metadata,
)
from ..groups import GroupLike, resolve_group_format
from ..job import Pyramid, Write
from ..plan import Placement, plan_levels


def write_labels(
    labels: Any,
    group: GroupLike,
    name: str = "labels",
    scaler: Any = None,
    scale_factors: Any = None,
    method: Any = "mode",
    fmt: Any = None,
    axes: meta.axes.AxesLike | None = None,
    coordinate_transformations: Sequence[Sequence[Mapping[str, Any]]] | None = None,
    storage_options: Any = None,
    label_metadata: Mapping[str, Any] | None = None,
    scale: Any = None,
    axes_units: Mapping[str, str] | None = None,
    compute: bool = True,
    *,
    backend: str | Backend = "auto",
    progress: Any = None,
    version: str | None = None,
    overwrite: bool = False,
    resume: bool = False,
    **metadata: Any,
) -> list:
    """Write a label image as ``group/labels/name`` (mode downsampling by default).

    Without ``scale_factors`` it gets the parent image's levels, axes and scale, by axis
    name (``zyx`` labels of a ``czyx`` image take its z, y and x). The ``labels`` list
    names it once; ``image-label`` gets ``label_metadata`` (colors, properties) and
    ``source.image = "../../"``. ``scaler`` / ``method``: as :func:`write_image`'s;
    ``coordinate_transformations``: one list per level, written as given.
    """
    check_labels(labels)
    meta.add_label_name(None, name)
    image_label = meta.build_image_label(source={"image": "../../"}, **dict(label_metadata or {}))
    shape, dtype = check_source(labels, "labels")
    method = ome_zarr_method(method, scaler, "mode")
    parent = parent_image(group)
    axes, scale_factors, scale = label_defaults(parent, axes, scale_factors, scale, len(shape))
    _, fmt = resolve_group_format(group, fmt, version)
    label_path = child(child(group, "labels"), name)
    label_existing, _ = resolve_group_format(label_path, fmt)
    check_method(method, dtype)
    axes_list = meta.build_axes(axes, axes_units, ndim=len(shape))
    scale_factors = scaler_factors(scaler, axes_list, scale_factors)
    placement = Placement(scale, centred=method != "nearest")
    levels = plan_levels(
        shape, axes_list, scale_factors, storage_options, fmt.zarr_format, placement
    )
    backend_obj = get_backend(backend)
    extra, _ = split_metadata(metadata, None)
    blocks = {
        "multiscales": [
            multiscale_block(
                levels, axes_list, name, method, backend_obj, extra, fmt, coordinate_transformations
            )
        ],
        "image-label": image_label,
    }
    refuse_existing(label_existing, label_path, overwrite or resume)
    pyramid = Pyramid(
        (labels,), dtype, tuple(levels), axes_list, method, backend_obj, storage_options
    )
    report = progress_callback(progress)
    write = Write(
        group, fmt, pyramid, blocks, label=name, overwrite=overwrite, resume=resume, progress=report
    )
    return write.execute(compute)


def write_multiscale_labels(
    pyramid: Sequence[Any],
    group: GroupLike,
    name: str = "labels",
    fmt: Any = None,
    axes: meta.axes.AxesLike | None = None,
    coordinate_transformations: Sequence[Sequence[Mapping[str, Any]]] | None = None,
    storage_options: Any = None,
    label_metadata: Mapping[str, Any] | None = None,
    scale: Any = None,
    axes_units: Mapping[str, str] | None = None,
    compute: bool = True,
    *,
    version: str | None = None,
    overwrite: bool = False,
    progress: Any = None,
    **metadata: Any,
) -> list:
    """Write a label pyramid the caller computed as ``group/labels/name``.

    Axes and level 0's scale default to the parent image's; the levels keep their own
    values (nothing is downsampled). Listed in ``labels`` once its metadata is written.
    """
    if isinstance(pyramid, Sequence) and not isinstance(pyramid, str):
        for i, level in enumerate(pyramid):
            check_labels(level, f"pyramid[{i}]")
    meta.add_label_name(None, name)
    image_label = meta.build_image_label(source={"image": "../../"}, **dict(label_metadata or {}))
    levels = pyramid if isinstance(pyramid, Sequence) and not isinstance(pyramid, str) else ()
    ndim = len(getattr(levels[0], "shape", ())) if levels else 0  # 0: checked below
    axes, _, scale = label_defaults(parent_image(group), axes, [], scale, ndim)
    _, fmt = resolve_group_format(group, fmt, version)
    label_path = child(child(group, "labels"), name)
    label_existing, _ = resolve_group_format(label_path, fmt)
    options = {
        "scale": scale,
        "axes_units": axes_units,
        "coordinate_transformations": coordinate_transformations,
        "storage_options": storage_options,
        "name": name,
    }
    given, blocks = given_pyramid(pyramid, fmt, axes, options, metadata)
    blocks["image-label"] = image_label
    refuse_existing(label_existing, label_path, overwrite)
    on_unit = progress_callback(progress)
    write = Write(group, fmt, given, blocks, label=name, overwrite=overwrite, progress=on_unit)
    return write.execute(compute)
