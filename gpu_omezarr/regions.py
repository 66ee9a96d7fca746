"""A write as a dask graph of region tasks, for any dask scheduler or a dask.distributed
cluster (threads or processes): ``compute=False``, or a client current when writing.

Stage 1: level 0 is cut into regions aligned to the write units of levels 0..k (for the
deepest k that keeps a region within ``REGION_BYTES``). Each region task streams its piece
and writes levels 0..k: every unit of those levels lies in exactly one region, so no two
tasks ever write the same chunk or shard. Stage 2: levels k+1.. are computed from level k,
read back from the store, in one task (they hold a small fraction of the data: 1/4 per
halving in y/x).

The graph: the arrays made first (:meth:`.job.Write.prepare`), then both stages of every
streamed pass, then the metadata (:meth:`.job.Write.finish`).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np
import zarr

from .backends import is_device_array
from .plan import Level
from .progress import LevelsFrom, Tracker
from .stream import tiles, write_levels
from .writer import chunk_writers

if TYPE_CHECKING:
    from .job import Pass, Prepared, Write

REGION_BYTES = 256 * 2**20


def plan_regions(
    levels: Sequence[Level], units: Sequence[Sequence[int]], itemsize: int
) -> tuple[int, list[int]]:
    """``(k, extent)``: regions of ``extent`` (level 0) hold whole units of levels 0..k."""
    shape = levels[0].shape
    for k in reversed(range(len(levels))):
        extent = [
            min(n, math.lcm(*(units[j][a] * levels[j].cumulative[a] for j in range(k + 1))))
            for a, n in enumerate(shape)
        ]
        if k == 0 or math.prod(extent) * itemsize <= REGION_BYTES:
            return k, extent
    raise AssertionError("unreachable")


class _Window:
    """``source[region]``, read tile by tile when the stream asks (not all at once)."""

    def __init__(self, source: Any, region: tuple[slice, ...]) -> None:
        self.source, self.region = source, region
        self.shape = tuple(r.stop - r.start for r in region)
        self.dtype = source.dtype

    def __getitem__(self, sub: tuple[slice, ...]) -> Any:
        return self.source[
            tuple(
                slice(r.start + s.start, r.start + s.stop)
                for r, s in zip(self.region, sub, strict=True)
            )
        ]


def graph(write: Write) -> Any:
    """``write`` as one ``dask.delayed``: prepare, the region tasks, finish (the progress
    bar closed last). Tasks get the write without its data: each reads its own region."""
    import dask

    bare = write.bare()
    prepared = dask.delayed(_prepare, pure=False)(bare)
    tracker = write.tracker()
    stored = tasks(write, prepared[2], tracker)
    finish = dask.delayed(_finish, pure=False)(bare, prepared, *stored)
    return dask.delayed(_closed, pure=False)(finish, tracker)


def _prepare(write: Write) -> Prepared:
    return write.prepare()


def _finish(write: Write, prepared: Prepared, *after: Any) -> Any:
    return write.finish(prepared)


def _closed(result: Any, tracker: Tracker) -> Any:
    tracker.close()  # the progress bar goes once the metadata is written
    return result


def active_client() -> Any:
    """The dask.distributed client in use, if any: then a write runs as region tasks."""
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


def tasks(write: Write, arrays: Any, tracker: Tracker) -> list[Any]:
    """Every pass's region tasks (``dask.delayed``), each pass's last one finishing after
    all its others. ``arrays`` may itself be delayed (made by an earlier task of the graph).
    ``tracker`` hears of every unit stored by tasks that run in this process (threads); a
    copy sent to another process reports nothing."""
    bare = write.bare()
    return [
        task
        for p in write.passes()
        for task in _pass_tasks(
            bare, p, arrays[p.first : p.first + len(p.levels)], tracker.from_level(p.first)
        )
    ]


def _pass_tasks(write: Write, p: Pass, arrays: Any, tracker: LevelsFrom) -> list[Any]:
    """Both stages of one pass, as ``dask.delayed``."""
    import dask

    levels, source = p.levels, p.source
    units = [lv.shards or lv.chunks for lv in levels]
    k, extent = plan_regions(levels, units, np.dtype(source.dtype).itemsize)
    head = replace(p, source=None, levels=levels[: k + 1])
    # An array in (host or device) memory travels as its region only, a dask array as the
    # graph of its region
    # (computed by dask for the task); other sources are read by the task itself.
    sliced = _in_memory(source) or hasattr(source, "dask")
    stage1 = [
        dask.delayed(write_region, pure=False)(
            write, head, source[region] if sliced else source, region, arrays[: k + 1], tracker
        )
        for region in tiles(levels[0].shape, extent)
    ]
    if k + 1 == len(levels):
        return stage1
    rest = replace(p, source=None)
    coarse = dask.delayed(write_coarse, pure=False)(write, rest, k, arrays, tracker, *stage1)
    return [coarse]


def write_region(
    write: Write,
    p: Pass,
    piece: Any,
    region: tuple[slice, ...],
    arrays: Sequence[zarr.Array],
    tracker: Tracker | LevelsFrom | None = None,
) -> None:
    """Stage 1, one task: levels 0..k of ``p`` (``p.levels``) over ``region`` of level 0.
    ``piece`` is that region (in memory), or the whole source (read here)."""
    # A file-backed array is read tile by tile, ahead of the kernels.
    read = piece if _in_memory(piece) else _Window(piece, region)
    on_unit = tracker.for_level if tracker is not None else None
    origin = [r.start for r in region]
    with chunk_writers(arrays, on_unit, write.resume) as writers:
        write_levels(read, p.levels, writers, write.pyramid.backend, p.method, origin=origin)


def _in_memory(x: Any) -> bool:
    return isinstance(x, np.ndarray) or is_device_array(x)


def write_coarse(
    write: Write,
    p: Pass,
    k: int,
    arrays: Sequence[zarr.Array],
    tracker: Tracker | LevelsFrom | None = None,
    *after: Any,
) -> None:
    """Stage 2, one task: levels k+1.. of ``p`` from level k as stored (after the tasks
    ``after``)."""
    levels = p.levels
    base = levels[k].cumulative
    rebased = [
        replace(lv, cumulative=tuple(c // b for c, b in zip(lv.cumulative, base, strict=True)))
        for lv in levels[k:]
    ]
    on_unit = (lambda i: tracker.for_level(k + i)) if tracker is not None else None
    with chunk_writers(arrays[k:], on_unit, write.resume) as writers:
        write_levels(
            arrays[k], rebased, writers, write.pyramid.backend, p.method, write_first=False
        )
