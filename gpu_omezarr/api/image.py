"""Images and labels: ``write_image``, ``write_multiscale``, ``write_labels``,
``write_multiscale_labels`` with ome-zarr-py's parameters, plus ``backend=`` and ``version=``."""

from __future__ import annotations

import contextlib
import glob
import math
import os
import shutil
import sys
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numcodecs
import numpy as np
import zarr

from .. import metadata as meta
from ..backends import Backend, check_method, get_backend
from ..groups import (
    GroupLike,
    MissingGroup,
    open_group,
    read_blocks,
    require_group,
    resolve_group_format,
    updating,
    write_blocks,
)
from ..metadata._errors import invalid, wrong_type
from ..plan import DEFAULT_SCALE_FACTORS, Level, plan_levels
from ..progress import Bar, ProgressCallback, Tracker
from ..storage import abandoned, remove_debris, writer_tag
from ..stream import write_levels
from ..writer import chunk_writers

DEFAULT_ZSTD_LEVEL = 1  # bench/results: level 1 encodes ~1.6x faster than 3 for ~3% more bytes
PASS_THROUGH = ("chunks", "shards", "compressors", "compressor")


def _check_source(image: Any, field: str) -> tuple[tuple[int, ...], np.dtype]:
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


def _compressors(options: Mapping[str, Any], fmt: meta.Format) -> Any:
    if "compressors" in options:
        return options["compressors"]
    if "compressor" in options:
        return options["compressor"]
    if fmt.zarr_format == 2:
        return numcodecs.Zstd(level=DEFAULT_ZSTD_LEVEL)
    return zarr.codecs.ZstdCodec(level=DEFAULT_ZSTD_LEVEL)


def _level_options(storage_options: Any, i: int) -> Mapping[str, Any]:
    if storage_options is None:
        return {}
    if isinstance(storage_options, Mapping):
        return storage_options
    return storage_options[i] if len(storage_options) > 1 else storage_options[0]


def _refuse_existing(existing: zarr.Group | None, group: GroupLike, overwrite: bool) -> None:
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


def _array_specs(
    levels: Sequence[Level],
    dtype: np.dtype,
    fmt: meta.Format,
    names: list[str],
    storage_options: Any,
) -> list[dict[str, Any]]:
    """``zarr.create_array`` arguments for every level."""
    specs = []
    for i, level in enumerate(levels):
        options = _level_options(storage_options, i)
        extra = {k: v for k, v in options.items() if k not in PASS_THROUGH}
        kwargs: dict[str, Any] = {"fill_value": 0, **extra}
        if fmt.zarr_format == 2:
            kwargs["chunk_key_encoding"] = {"name": "v2", "separator": "/"}
        else:
            kwargs["dimension_names"] = names
        specs.append(
            {
                "name": level.path,
                "shape": level.shape,
                "dtype": dtype,
                "chunks": level.chunks,
                "shards": level.shards,
                "compressors": _compressors(options, fmt),
                **kwargs,
            }
        )
    return specs


def _check_resumable(target: zarr.Group, specs: Sequence[dict[str, Any]]) -> None:
    """Refuse to resume into arrays an earlier write made with other settings."""
    for spec in specs:
        if spec["name"] not in target:
            continue
        found = target[spec["name"]]
        probe = zarr.create_array(
            zarr.storage.MemoryStore(), zarr_format=target.metadata.zarr_format, **spec
        )
        if not isinstance(found, zarr.Array) or found.metadata != probe.metadata:
            invalid(
                "resume",
                True,
                f"{spec['name']} was not written with these settings (shape, dtype, chunks, "
                "shards, codecs); write again with overwrite=True",
            )


def _progress(progress: Any) -> ProgressCallback | None:
    if progress is None or progress is False:
        return None
    if progress is True:
        return Bar()
    if not callable(progress):
        wrong_type("progress", progress, "a callable, True or None")
    return progress


def _multiscale_block(
    levels: Sequence[Level],
    axes: list[dict],
    name: str | None,
    method: str | None,
    backend: Backend | None,
    extra: Mapping[str, Any],
    fmt: meta.Format | None = None,
) -> dict[str, Any]:
    from .. import __version__

    datasets = meta.build_datasets([lv.scale for lv in levels], [lv.translation for lv in levels])
    info: dict[str, Any] = {}
    if method is not None:
        info = {"method": f"gpu_omezarr.{method}", "version": __version__}
        if backend is not None:
            info["backend"] = backend.name
    info.update(extra)
    return meta.build_multiscale(
        axes, datasets, name=name, type=method, metadata=info or None, fmt=fmt
    )


def _write(
    group: GroupLike,
    existing: zarr.Group | None,
    fmt: meta.Format,
    sources: Sequence[Any],
    levels: Sequence[Level],
    axes: list[dict],
    method: str | None,
    backend: Backend,
    storage_options: Any,
    progress: ProgressCallback | None,
    blocks: dict[str, Any],
    overwrite: bool,
    resume: bool = False,
) -> zarr.Group:
    """Arrays first, OME metadata last. ``sources`` is level 0 alone (streamed pyramid) or
    every level (given by the caller)."""
    target, staging, arrays = _prepare(
        group, existing, fmt, sources[0].dtype, levels, axes, storage_options, overwrite, resume
    )
    try:
        _stream(sources, levels, arrays, method, backend, progress, resume)
    except BaseException:
        _abandon(staging)
        raise
    return _finish(target, staging, fmt, levels, blocks)


def _prepare(
    group: GroupLike,
    existing: zarr.Group | None,
    fmt: meta.Format,
    dtype: Any,
    levels: Sequence[Level],
    axes: list[dict],
    storage_options: Any,
    overwrite: bool,
    resume: bool,
) -> tuple[zarr.Group, zarr.Group | None, list[zarr.Array]]:
    """The target group, where the arrays go first (a staging group when replacing an
    image on a local filesystem) and the arrays, created (or reopened to resume)."""
    target = open_group(group, fmt, existing)
    specs = _array_specs(levels, np.dtype(dtype), fmt, meta.axis_names(axes), storage_options)
    if resume:
        _check_resumable(target, specs)
    replacing = (overwrite or resume) and "multiscales" in read_blocks(target)
    staging = _staging(target, fmt) if replacing and not resume else None
    if replacing and staging is None:
        _withdraw_image(target, fmt)  # no reader may take a half-rewritten image for one
    home = target if staging is None else staging
    arrays = [
        home[spec["name"]]
        if resume and spec["name"] in home
        else home.create_array(overwrite=True, **spec)
        for spec in specs
    ]
    if resume and isinstance(home.store, zarr.storage.LocalStore):
        for array in arrays:  # once, here: region tasks on a cluster must not race for it
            remove_debris(_local_path(array))
    return target, staging, arrays


def _abandon(staging: zarr.Group | None) -> None:
    if staging is not None:
        shutil.rmtree(_local_path(staging), ignore_errors=True)


def _finish(
    target: zarr.Group,
    staging: zarr.Group | None,
    fmt: meta.Format,
    levels: Sequence[Level],
    blocks: dict[str, Any],
    *after: Any,
) -> zarr.Group:
    """Swap a staged image in, then write the OME metadata: the last step of every write."""
    if staging is not None:
        _swap_in(target, staging, fmt, [lv.path for lv in levels])
    for multiscale in blocks.get("multiscales", []):
        multiscale.setdefault("name", target.name)  # as ome-zarr-py: the group's name
    write_blocks(target, fmt, blocks)
    return target


def _graph(
    group: GroupLike,
    existing: zarr.Group | None,
    fmt: meta.Format,
    sources: Sequence[Any],
    levels: Sequence[Level],
    axes: list[dict],
    method: str | None,
    backend: Backend,
    storage_options: Any,
    blocks: dict[str, Any],
    overwrite: bool,
    resume: bool,
    progress: ProgressCallback | None,
) -> Any:
    """The write as a dask graph of region tasks (``compute=False``): arrays created first,
    then every region, then the coarse levels, then the metadata. ``sources`` as
    :func:`_write`'s: level 0 alone, or every level (each then written by its own tasks)."""
    import dask

    dtype = sources[0].dtype
    prepared = dask.delayed(_prepare, pure=False, nout=3)(
        group, existing, fmt, dtype, levels, axes, storage_options, overwrite, resume
    )
    target, staging, arrays = prepared
    tracker = _tracker(progress, levels, dtype)
    tasks = _region_tasks(sources, levels, arrays, method, backend, resume, tracker)
    finish = dask.delayed(_finish, pure=False)(target, staging, fmt, levels, blocks, *tasks)
    return dask.delayed(_closed, pure=False)(finish, tracker)


def _closed(result: Any, tracker: Tracker) -> Any:
    tracker.close()  # the progress bar goes once the metadata is written
    return result


def _tracker(progress: ProgressCallback | None, levels: Sequence[Level], dtype: Any) -> Tracker:
    """Counts every level's stored units for ``progress``."""
    itemsize = np.dtype(dtype).itemsize
    units = [
        math.prod(-(-n // u) for n, u in zip(lv.shape, lv.shards or lv.chunks, strict=True))
        for lv in levels
    ]
    return Tracker(progress, units, [math.prod(lv.shape) * itemsize for lv in levels])


def _stream(
    sources: Sequence[Any],
    levels: Sequence[Level],
    arrays: Sequence[zarr.Array],
    method: str | None,
    backend: Backend,
    progress: ProgressCallback | None,
    resume: bool,
) -> None:
    """Every level's data into ``arrays``: streamed from level 0, or each level given."""
    tracker = _tracker(progress, levels, sources[0].dtype)
    client = _active_client()
    if client is not None:  # region tasks on the cluster; returns when all is stored
        with contextlib.closing(tracker):
            tasks = _region_tasks(sources, levels, arrays, method, backend, resume, tracker)
            client.compute(tasks, sync=True)
        return
    with contextlib.closing(tracker), chunk_writers(arrays, tracker.for_level, resume) as writers:
        if len(sources) == 1:
            write_levels(sources[0], levels, writers, backend, method or "nearest")
        else:
            for i, source in enumerate(sources):
                write_levels(source, [_alone(levels[i])], [writers[i]], backend, "nearest")


def _region_tasks(
    sources: Sequence[Any],
    levels: Sequence[Level],
    arrays: Any,
    method: str | None,
    backend: Backend,
    resume: bool,
    tracker: Tracker,
) -> list[Any]:
    """The write's region tasks (``dask.delayed``): of level 0 and the levels computed from
    it, or of each level given by the caller. ``arrays`` may itself be delayed."""
    from .. import regions

    if len(sources) == 1:
        return regions.tasks(
            sources[0], levels, arrays, method or "nearest", backend, resume, tracker
        )
    return [
        task
        for i, source in enumerate(sources)
        for task in regions.tasks(
            source,
            [_alone(levels[i])],
            arrays[i : i + 1],
            "nearest",
            backend,
            resume,
            tracker.from_level(i),
        )
    ]


def _alone(level: Level) -> Level:
    """A level given by the caller, written as it is (nothing computed from it)."""
    return replace(level, factors=(1,) * len(level.shape))


def _active_client() -> Any:
    """The dask.distributed client in use, if any: then the write runs as region tasks."""
    distributed = sys.modules.get("distributed")  # no client without it imported
    if distributed is None:
        return None
    try:
        distributed.get_worker()
        return None  # inside a task already: write here, not as more tasks
    except ValueError:
        pass
    try:
        return distributed.Client.current()  # `with client.as_current()`, else the default
    except ValueError:
        return None


def _local_path(group: zarr.Group) -> Path:
    return Path(group.store.root) / group.path


def _withdraw_image(group: zarr.Group, fmt: meta.Format) -> None:
    current = read_blocks(group)
    current.pop("multiscales", None)
    group.attrs.put(meta.merge_attributes({}, fmt, current) if current else {})


def _staging(target: zarr.Group, fmt: meta.Format) -> zarr.Group | None:
    """Where a replacement image is written in full before it takes the old one's place: a
    hidden sibling directory, on a local filesystem (None elsewhere: no cheap rename)."""
    if not isinstance(target.store, zarr.storage.LocalStore):
        return None
    home = _local_path(target)
    _remove_abandoned(home, "new")  # killed overwrites' incomplete copies
    staging = _beside(home, "new", writer_tag())
    shutil.rmtree(staging, ignore_errors=True)
    return zarr.open_group(str(staging), mode="w", zarr_format=fmt.zarr_format)


def _beside(home: Path, kind: str, tag: str) -> Path:
    """A hidden sibling of ``home`` for one writer: ``new`` (a replacement being staged) or
    ``old`` (the replaced levels, on their way out)."""
    return home.parent / f".{home.name}.gpu-omezarr-{kind}-{tag}"


def _remove_abandoned(home: Path, kind: str) -> None:
    """Delete the ``kind`` siblings of ``home`` that writers killed on this machine left."""
    prefix = _beside(home, kind, "").name
    for sibling in home.parent.glob(f"{glob.escape(prefix)}*"):
        if abandoned(sibling.name[len(prefix) :]):
            shutil.rmtree(sibling, ignore_errors=True)


def _swap_in(target: zarr.Group, staging: zarr.Group, fmt: meta.Format, paths: list[str]) -> None:
    """Replace the old image's levels by the complete new ones: withdraw the old metadata,
    move the old levels aside, move the new ones in (renames), then drop the old."""
    old_paths = [d["path"] for d in read_blocks(target)["multiscales"][0]["datasets"]]
    _withdraw_image(target, fmt)
    home, new = _local_path(target), _local_path(staging)
    trash = _beside(home, "old", writer_tag())
    for path in dict.fromkeys([*old_paths, *paths]):
        if (home / path).exists():
            (trash / path).parent.mkdir(parents=True, exist_ok=True)
            os.rename(home / path, trash / path)
    for path in paths:
        (home / path).parent.mkdir(parents=True, exist_ok=True)
        os.rename(new / path, home / path)
    shutil.rmtree(trash, ignore_errors=True)
    shutil.rmtree(new, ignore_errors=True)
    _remove_abandoned(home, "old")  # levels a swap killed midway kept: replaced now


def _split_metadata(metadata: dict[str, Any], n_channels: int | None) -> tuple[dict, dict]:
    extra = dict(metadata.pop("metadata", None) or {})
    if metadata:
        invalid("metadata", sorted(metadata), "unknown keyword arguments")
    blocks = {}
    omero = extra.pop("omero", None)
    if omero is not None:
        blocks["omero"] = meta.validate_omero(omero, n_channels)
    return extra, blocks


def _channels(axes: list[dict], shape: Sequence[int]) -> int | None:
    for a, n in zip(axes, shape, strict=True):
        if a.get("type") == "channel":
            return n
    return None


def write_image(
    image: Any,
    group: GroupLike,
    scale_factors: Any = DEFAULT_SCALE_FACTORS,
    method: str = "mean",
    fmt: Any = None,
    axes: meta.axes.AxesLike | None = None,
    scale: Any = None,
    axes_units: Mapping[str, str] | None = None,
    storage_options: Any = None,
    compute: bool = True,
    name: str | None = None,
    backend: str | Backend = "auto",
    progress: Any = None,
    *,
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
    method : {"mean", "nearest", "mode"}
    fmt, version : OME-NGFF version (Format object or "0.4" / "0.5"); default 0.5.
    axes, axes_units, scale, translation : axes and physical pixel size / origin of level 0.
    storage_options : dict or list of dict (one per level)
        ``chunks``, ``shards`` (v3), ``compressors``; other keys go to ``zarr.create_array``.
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
    shape, dtype = _check_source(image, "image")
    check_method(method, dtype)
    existing, fmt = resolve_group_format(group, fmt, version)
    axes_list = meta.build_axes(axes, axes_units, ndim=len(shape))
    levels = plan_levels(
        shape,
        axes_list,
        scale_factors,
        method,
        storage_options,
        fmt.zarr_format,
        scale,
        translation,
        write_translation,
    )
    backend_obj = get_backend(backend)
    extra, blocks = _split_metadata(metadata, _channels(axes_list, shape))
    blocks["multiscales"] = [
        _multiscale_block(levels, axes_list, name, method, backend_obj, extra, fmt)
    ]
    _refuse_existing(existing, group, overwrite or resume)
    job = (group, existing, fmt, [image], levels, axes_list, method, backend_obj, storage_options)
    if not compute:  # the graph of region tasks: any dask scheduler runs them in parallel
        return [_graph(*job, blocks, overwrite, resume, _progress(progress))]
    _write(*job, _progress(progress), blocks, overwrite, resume)
    return []


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
    levels, axes_list, blocks = _plan_multiscale(
        pyramid,
        fmt,
        axes,
        axes_units,
        scale,
        coordinate_transformations,
        storage_options,
        name,
        metadata,
    )
    _refuse_existing(existing, group, overwrite)
    job = (
        group,
        existing,
        fmt,
        list(pyramid),
        levels,
        axes_list,
        None,
        get_backend("numpy"),
        storage_options,
    )
    if not compute:
        return [_graph(*job, blocks, overwrite, False, _progress(progress))]
    _write(*job, _progress(progress), blocks, overwrite)
    return []


def _plan_multiscale(
    pyramid: Sequence[Any],
    fmt: meta.Format,
    axes: Any,
    axes_units: Mapping[str, str] | None,
    scale: Any,
    coordinate_transformations: Sequence[Sequence[Mapping[str, Any]]] | None,
    storage_options: Any,
    name: str | None,
    metadata: dict[str, Any],
) -> tuple[list[Level], list[dict], dict[str, Any]]:
    """Levels, axes and OME blocks of a pyramid given level by level (checked first)."""
    if isinstance(pyramid, str) or not isinstance(pyramid, Sequence) or not pyramid:
        wrong_type("pyramid", pyramid, "a non-empty list of arrays, largest first")
    shapes = []
    for i, level in enumerate(pyramid):
        shape, dtype = _check_source(level, f"pyramid[{i}]")
        if dtype != np.dtype(pyramid[0].dtype) or len(shape) != len(shapes[0] if shapes else shape):
            invalid(
                f"pyramid[{i}]", f"{shape} {dtype}", "levels must share dtype and number of axes"
            )
        if shapes and any(n > p for n, p in zip(shape, shapes[-1], strict=True)):
            invalid(f"pyramid[{i}].shape", shape, "levels must go from large to small")
        shapes.append(shape)
    check_method("nearest", dtype)
    axes_list = meta.build_axes(axes, axes_units, ndim=len(shapes[0]))

    def plan(shape: tuple[int, ...], i: int, level_scale: Any) -> Level:
        options = _level_options(storage_options, i)
        return plan_levels(
            shape, axes_list, [], "nearest", options, fmt.zarr_format, level_scale, None, False
        )[0]

    base = plan(shapes[0], 0, scale)
    levels = []
    for i, shape in enumerate(shapes):
        ratios = []
        for n0, n in zip(shapes[0], shape, strict=True):
            f = round(n0 / n)
            ratios.append(f if -(-n0 // f) == n else n0 / n)
        scale_i = tuple(s * r for s, r in zip(base.scale, ratios, strict=True))
        levels.append(replace(plan(shape, i, None), path=f"s{i}", scale=scale_i, translation=None))
    if coordinate_transformations is not None:
        if len(coordinate_transformations) != len(levels):
            invalid(
                "coordinate_transformations",
                f"{len(coordinate_transformations)} lists",
                f"need one per level ({len(levels)})",
            )
        datasets = [
            {"path": lv.path, "coordinateTransformations": list(ct)}
            for lv, ct in zip(levels, coordinate_transformations, strict=True)
        ]
    else:
        datasets = meta.build_datasets([lv.scale for lv in levels])
    extra, blocks = _split_metadata(metadata, _channels(axes_list, shapes[0]))
    blocks["multiscales"] = [
        meta.build_multiscale(axes_list, datasets, name=name, metadata=extra or None, fmt=fmt)
    ]
    return levels, axes_list, blocks


def _check_labels(labels: Any, field: str = "labels") -> None:
    dtype = np.dtype(getattr(labels, "dtype", object))
    if dtype.kind not in "iub":
        invalid(f"{field}.dtype", str(dtype), "label images must be integers or bool")


def _parent_image(group: GroupLike) -> tuple[zarr.Group | None, dict[str, Any] | None]:
    existing, _ = resolve_group_format(group)
    if existing is None:
        return None, None
    multiscales = read_blocks(existing).get("multiscales")
    return existing, (meta.plain_multiscale(multiscales[0]) if multiscales else None)


def _label_defaults(
    parent: dict[str, Any] | None, axes: Any, scale_factors: Any, scale: Any
) -> tuple[Any, Any, Any]:
    """Axes, factors and scale of the parent image, so a label has as many levels as it."""
    if parent is None:
        return axes, (DEFAULT_SCALE_FACTORS if scale_factors is None else scale_factors), scale
    names = [a["name"] for a in parent["axes"]]
    scales = [d["coordinateTransformations"][0]["scale"] for d in parent["datasets"]]
    if axes is None:
        axes = parent["axes"]
    if scale is None:
        scale = scales[0]
    if scale_factors is None:
        scale_factors = [
            {n: round(s / s0) for n, s, s0 in zip(names, level, scales[0], strict=True)}
            for level in scales[1:]
        ]
    return axes, scale_factors, scale


def write_labels(
    labels: Any,
    group: GroupLike,
    name: str,
    scale_factors: Any = None,
    method: str = "mode",
    fmt: Any = None,
    axes: meta.axes.AxesLike | None = None,
    storage_options: Any = None,
    label_metadata: Mapping[str, Any] | None = None,
    compute: bool = True,
    backend: str | Backend = "auto",
    progress: Any = None,
    *,
    scale: Any = None,
    version: str | None = None,
    overwrite: bool = False,
    resume: bool = False,
    **metadata: Any,
) -> list:
    """Write a label image as ``group/labels/name`` (mode downsampling by default).

    Without ``scale_factors`` it gets the parent image's levels, axes and scale. The
    ``labels`` list names it once; ``image-label`` gets ``label_metadata`` (colors,
    properties) and ``source.image = "../../"``.
    """
    _check_labels(labels)
    meta.add_label_name(None, name)
    image_label = meta.build_image_label(source={"image": "../../"}, **dict(label_metadata or {}))
    _, parent = _parent_image(group)
    axes, scale_factors, scale = _label_defaults(parent, axes, scale_factors, scale)
    _, fmt = resolve_group_format(group, fmt, version)
    labels_path = _child(group, "labels")
    label_path = _child(labels_path, name)
    label_existing, _ = resolve_group_format(label_path, fmt)
    shape, dtype = _check_source(labels, "labels")
    check_method(method, dtype)
    axes_list = meta.build_axes(axes, None, ndim=len(shape))
    levels = plan_levels(
        shape, axes_list, scale_factors, method, storage_options, fmt.zarr_format, scale
    )
    backend_obj = get_backend(backend)
    extra, _ = _split_metadata(metadata, None)
    blocks = {
        "multiscales": [
            _multiscale_block(levels, axes_list, name, method, backend_obj, extra, fmt)
        ],
        "image-label": image_label,
    }
    _refuse_existing(label_existing, label_path, overwrite or resume)
    progress_cb = _progress(progress)
    job = ([labels], levels, axes_list, method, backend_obj, storage_options)
    return _labelled(group, fmt, name, job, blocks, overwrite, resume, progress_cb, compute)


def _labelled(
    group: GroupLike,
    fmt: meta.Format,
    name: str,
    job: tuple,
    blocks: dict[str, Any],
    overwrite: bool,
    resume: bool,
    progress: ProgressCallback | None,
    compute: bool,
) -> list:
    """A label's write (``job``: :func:`_write`'s sources to storage options) into
    ``group/labels/name``, then its name listed in ``labels``; or that as a dask graph."""
    if not compute:  # region tasks, as write_image's; listed in `labels` after the metadata
        import dask

        labels_group, target = dask.delayed(_label_groups, pure=False, nout=2)(group, fmt, name)
        graph = _graph(target, None, fmt, *job, blocks, overwrite, resume, progress)
        return [dask.delayed(_list_label, pure=False)(labels_group, fmt, name, graph)]
    labels_group, target = _label_groups(group, fmt, name)
    _write(target, None, fmt, *job, progress, blocks, overwrite, resume)
    _list_label(labels_group, fmt, name)
    return []


def _label_groups(group: GroupLike, fmt: meta.Format, name: str) -> tuple[zarr.Group, Any]:
    """The ``labels`` group (made if missing) and its child ``name`` (made if missing)."""
    root = open_group(group, fmt, resolve_group_format(group, fmt)[0])
    with updating(root) as fresh:  # one creator, even with concurrent label writers
        labels_group = fresh.require_group("labels")
    return labels_group, require_group(labels_group, name)


def write_multiscale_labels(
    pyramid: Sequence[Any],
    group: GroupLike,
    name: str,
    fmt: Any = None,
    axes: meta.axes.AxesLike | None = None,
    storage_options: Any = None,
    label_metadata: Mapping[str, Any] | None = None,
    compute: bool = True,
    *,
    scale: Any = None,
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
            _check_labels(level, f"pyramid[{i}]")
    meta.add_label_name(None, name)
    image_label = meta.build_image_label(source={"image": "../../"}, **dict(label_metadata or {}))
    _, parent = _parent_image(group)
    axes, _, scale = _label_defaults(parent, axes, [], scale)
    _, fmt = resolve_group_format(group, fmt, version)
    label_path = _child(_child(group, "labels"), name)
    label_existing, _ = resolve_group_format(label_path, fmt)
    levels, axes_list, blocks = _plan_multiscale(
        pyramid, fmt, axes, None, scale, None, storage_options, name, metadata
    )
    blocks["image-label"] = image_label
    _refuse_existing(label_existing, label_path, overwrite)
    job = (list(pyramid), levels, axes_list, None, get_backend("numpy"), storage_options)
    return _labelled(group, fmt, name, job, blocks, overwrite, False, _progress(progress), compute)


def _list_label(labels_group: zarr.Group, fmt: meta.Format, name: str, *after: Any) -> None:
    """Name ``name`` once in the ``labels`` list, last, after its image is complete (and the
    tasks ``after``); under a lock, so labels written by concurrent processes are all listed."""
    with updating(labels_group) as fresh:
        names = meta.add_label_name(read_blocks(fresh).get("labels"), name)
        write_blocks(fresh, fmt, {"labels": names})


def _child(group: GroupLike, name: str) -> GroupLike:
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
