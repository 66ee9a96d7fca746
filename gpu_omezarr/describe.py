"""From the public functions' arguments to what a write is: the checks made before anything
is written, and the OME blocks of an image planned by :mod:`.plan`.

Every function raises ``ValueError`` / ``TypeError`` naming the argument at fault.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import zarr

from . import metadata as meta
from .backends import Backend, check_method, get_backend
from .groups import GroupLike, MissingGroup, read_blocks, resolve_group_format
from .job import Pyramid
from .metadata._errors import MissingKeyError, invalid, wrong_type
from .plan import DEFAULT_SCALE_FACTORS, Level, Placement, level_options, plan_levels
from .progress import Bar, ProgressCallback


def check_source(image: Any, field: str) -> tuple[tuple[int, ...], np.dtype]:
    """``(shape, dtype)`` of an image to write: any array with shape, dtype and slicing."""
    shape = getattr(image, "shape", None)
    dtype = getattr(image, "dtype", None)
    if shape is None or dtype is None or not hasattr(image, "__getitem__"):
        wrong_type(
            field, image, "an array with shape, dtype and slicing (numpy, CuPy, dask, zarr...)"
        )
    shape = tuple(int(n) for n in shape)
    if not 2 <= len(shape) <= 5:
        invalid(f"{field}.shape", shape, "OME-NGFF images have 2 to 5 axes")
    if 0 in shape:
        invalid(f"{field}.shape", shape, "the image is empty")
    return shape, np.dtype(dtype)


def check_labels(labels: Any, field: str = "labels") -> None:
    dtype = np.dtype(getattr(labels, "dtype", object))
    if dtype.kind not in "iub":
        invalid(f"{field}.dtype", str(dtype), "label images must be integers or bool")


def refuse_existing(existing: zarr.Group | None, group: GroupLike, overwrite: bool) -> None:
    """An image already in ``group`` is replaced only when asked to."""
    if existing is None or overwrite:
        return
    if "multiscales" in read_blocks(existing) or any(
        k.startswith("s") for k in existing.array_keys()
    ):
        invalid(
            "group",
            group if isinstance(group, str) else existing.name,
            "already holds an image; pass overwrite=True to replace it",
        )


def progress_callback(progress: Any) -> ProgressCallback | None:
    """``progress=``: None or False (none), True (a text bar), or a callable."""
    if progress is None or progress is False:
        return None
    if progress is True:
        return Bar()
    if not callable(progress):
        wrong_type("progress", progress, "a callable, True or None")
    return progress


def multiscale_block(
    levels: Sequence[Level],
    axes: list[dict],
    name: str | None,
    method: str | None,
    backend: Backend | None,
    extra: Mapping[str, Any],
    fmt: meta.Format | None = None,
    transformations: Any = None,
) -> dict[str, Any]:
    """The ``multiscales`` entry of a pyramid computed with ``method`` on ``backend`` (the
    method and our version in its ``metadata``, with ``extra``), for ``fmt``; each level's
    ``transformations`` as given, else its planned scale and translation."""
    from . import __version__

    if transformations is not None:
        datasets = _given_datasets(levels, transformations)
    else:
        scales, shifts = [lv.scale for lv in levels], [lv.translation for lv in levels]
        datasets = meta.build_datasets(scales, shifts)
    info: dict[str, Any] = {}
    if method is not None:
        info = {"method": f"gpu_omezarr.{method}", "version": __version__}
        if backend is not None:
            info["backend"] = backend.name
    info.update(extra)
    return meta.build_multiscale(
        axes, datasets, name=name, type=method, metadata=info or None, fmt=fmt
    )


def split_metadata(metadata: dict[str, Any], n_channels: int | None) -> tuple[dict, dict]:
    """``**metadata`` of a writer: its ``metadata=`` dict less ``omero``, and the ``omero``
    block (validated for ``n_channels``); any other keyword is refused."""
    extra = dict(metadata.pop("metadata", None) or {})
    if metadata:
        invalid("metadata", sorted(metadata), "unknown keyword arguments")
    omero = take_omero(extra, n_channels)
    return extra, ({"omero": omero} if omero is not None else {})


def take_omero(extra: dict[str, Any], n_channels: int | None = None) -> dict[str, Any] | None:
    """The validated ``omero`` block popped from a ``metadata=`` dict (None without one);
    ``{"omero": None}`` is refused (a ``KeyError`` too, as ome-zarr-py)."""
    if "omero" in extra and extra["omero"] is None:
        raise MissingKeyError(
            "metadata={'omero': None}: If `'omero'` is present, value cannot be `None`."
        )
    omero = extra.pop("omero", None)
    return None if omero is None else meta.validate_omero(omero, n_channels)


def channels(axes: list[dict], shape: Sequence[int]) -> int | None:
    """The length of the channel axis, None without one."""
    for a, n in zip(axes, shape, strict=True):
        if a.get("type") == "channel":
            return n
    return None


def given_pyramid(
    pyramid: Sequence[Any],
    fmt: meta.Format,
    axes: Any,
    options: Mapping[str, Any],
    metadata: dict[str, Any],
) -> tuple[Pyramid, dict[str, Any]]:
    """A pyramid given level by level (checked first) and its OME blocks.

    ``options``: the writer's ``axes_units``, ``scale``, ``coordinate_transformations``,
    ``storage_options`` and ``name``.
    """
    if isinstance(pyramid, str) or not isinstance(pyramid, Sequence) or not pyramid:
        wrong_type("pyramid", pyramid, "a non-empty list of arrays, largest first")
    shapes = []
    for i, level in enumerate(pyramid):
        shape, dtype = check_source(level, f"pyramid[{i}]")
        if dtype != np.dtype(pyramid[0].dtype) or len(shape) != len(shapes[0] if shapes else shape):
            invalid(
                f"pyramid[{i}]", f"{shape} {dtype}", "levels must share dtype and number of axes"
            )
        if shapes and any(n > p for n, p in zip(shape, shapes[-1], strict=True)):
            invalid(f"pyramid[{i}].shape", shape, "levels must go from large to small")
        shapes.append(shape)
    check_method("nearest", dtype)
    axes_list = meta.build_axes(axes, options.get("axes_units"), ndim=len(shapes[0]))
    storage_options = options.get("storage_options")

    def plan(shape: tuple[int, ...], i: int, level_scale: Any) -> Level:
        options_i = level_options(storage_options, i)
        placement = Placement(level_scale, centred=False, translated=False)
        return plan_levels(shape, axes_list, [], options_i, fmt.zarr_format, placement)[0]

    base = plan(shapes[0], 0, options.get("scale"))
    levels = []
    for i, shape in enumerate(shapes):
        ratios = []
        for n0, n in zip(shapes[0], shape, strict=True):
            f = round(n0 / n)
            ratios.append(f if -(-n0 // f) == n else n0 / n)
        scale_i = tuple(s * r for s, r in zip(base.scale, ratios, strict=True))
        levels.append(replace(plan(shape, i, None), path=f"s{i}", scale=scale_i, translation=None))
    datasets = _given_datasets(levels, options.get("coordinate_transformations"))
    extra, blocks = split_metadata(metadata, channels(axes_list, shapes[0]))
    blocks["multiscales"] = [
        meta.build_multiscale(
            axes_list, datasets, name=options.get("name"), metadata=extra or None, fmt=fmt
        )
    ]
    given = Pyramid(
        tuple(pyramid), dtype, tuple(levels), axes_list, None, get_backend("numpy"), storage_options
    )
    return given, blocks


def _given_datasets(levels: Sequence[Level], transformations: Any) -> list[dict[str, Any]]:
    """Each level's dataset: its given transformations, else its scale."""
    if transformations is None:
        return meta.build_datasets([lv.scale for lv in levels])
    if isinstance(transformations, str | Mapping) or not isinstance(transformations, Sequence):
        wrong_type("coordinate_transformations", transformations, "one list per level")
    if len(transformations) != len(levels):
        invalid(
            "coordinate_transformations",
            f"{len(transformations)} lists",
            f"need one per level ({len(levels)})",
        )
    return [
        {"path": lv.path, "coordinateTransformations": list(ct)}
        for lv, ct in zip(levels, transformations, strict=True)
    ]


def parent_image(group: GroupLike) -> dict[str, Any] | None:
    """The multiscale of the image in ``group`` (a label's parent), None without one."""
    existing, _ = resolve_group_format(group)
    if existing is None:
        return None
    multiscales = read_blocks(existing).get("multiscales")
    return meta.plain_multiscale(multiscales[0]) if multiscales else None


def label_defaults(
    parent: dict[str, Any] | None, axes: Any, scale_factors: Any, scale: Any, ndim: int
) -> tuple[Any, Any, Any]:
    """Axes, factors and scale of the parent image, so a label has as many levels as it.

    Taken by axis name: a label without the parent's channel axis (``zyx`` labels of a
    ``czyx`` image) gets the parent's values for its own axes.
    """
    if parent is None:
        return axes, (DEFAULT_SCALE_FACTORS if scale_factors is None else scale_factors), scale
    names = [a["name"] for a in parent["axes"]]
    scales = [d["coordinateTransformations"][0]["scale"] for d in parent["datasets"]]
    if axes is None:
        axes = parent["axes"] if len(names) == ndim or not ndim else names[-ndim:]
    own = set(meta.axis_names(meta.build_axes(axes, None, ndim=ndim or None)))
    if scale is None:
        scale = {n: s for n, s in zip(names, scales[0], strict=True) if n in own}
    if scale_factors is None:
        scale_factors = [
            {n: round(s / s0) for n, s, s0 in zip(names, level, scales[0], strict=True) if n in own}
            for level in scales[1:]
        ]
    return axes, scale_factors, scale


def child(group: GroupLike, name: str) -> GroupLike:
    """``group``'s child ``name``: a path, an existing group, or a ``MissingGroup``."""
    if isinstance(group, MissingGroup):
        return MissingGroup(f"{group}/{name}")
    if isinstance(group, str):
        return group.rstrip("/") + "/" + name
    if not isinstance(group, zarr.Group):  # a Store: its root group, if it has one yet
        existing, _ = resolve_group_format(group)
        if existing is None:
            return MissingGroup(f"/{name}")
        group = existing
    try:
        return group[name]
    except KeyError:
        return MissingGroup(f"{group.name.rstrip('/')}/{name}")
