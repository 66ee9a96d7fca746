"""A pyramid write split into region tasks, for a dask cluster (threads or processes).

Stage 1: level 0 is cut into regions aligned to the write units of levels 0..k (for the
deepest k that keeps a region within ``REGION_BYTES``). Each region task streams its piece
and writes levels 0..k: every unit of those levels lies in exactly one region, so no two
tasks ever write the same chunk or shard. Stage 2: levels k+1.. are computed from level k,
read back from the store, in one task (they hold a small fraction of the data: 1/4 per
halving in y/x). The caller writes the OME metadata after both stages.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import zarr

from .backends import get_backend, is_device_array
from .plan import Level
from .progress import LevelsFrom, Tracker
from .stream import tiles, write_levels
from .writer import chunk_writers

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


def write_region(
    source: Any,
    read: tuple[slice, ...],
    origin: Sequence[int],
    levels: Sequence[Level],
    arrays: Sequence[zarr.Array],
    method: str,
    backend: Any,
    resume: bool = False,
    tracker: Tracker | LevelsFrom | None = None,
) -> None:
    """Stage 1, one task: levels 0..k of the region of level 0 at ``origin``, which is
    ``source[read]``."""
    if hasattr(source, "dask"):  # a dask input: computed here, by this task alone
        piece = source[read].compute(scheduler="sync")
        piece = piece if is_device_array(piece) else np.asarray(piece)
    elif isinstance(source, np.ndarray) or is_device_array(source):
        piece = source[read]
    else:  # a file-backed array: read tile by tile, ahead of the kernels
        piece = _Window(source, read)
    on_unit = tracker.for_level if tracker is not None else None
    with chunk_writers(arrays, on_unit, resume) as writers:
        write_levels(piece, levels, writers, get_backend(backend), method, origin=origin)


def write_coarse(
    levels: Sequence[Level],
    arrays: Sequence[zarr.Array],
    k: int,
    method: str,
    backend: Any,
    resume: bool = False,
    tracker: Tracker | LevelsFrom | None = None,
    *after: Any,
) -> None:
    """Stage 2, one task: levels k+1.. from level k as stored (after the tasks ``after``)."""
    base = levels[k].cumulative
    rebased = [
        replace(lv, cumulative=tuple(c // b for c, b in zip(lv.cumulative, base, strict=True)))
        for lv in levels[k:]
    ]
    on_unit = (lambda i: tracker.for_level(k + i)) if tracker is not None else None
    with chunk_writers(arrays[k:], on_unit, resume) as writers:
        write_levels(arrays[k], rebased, writers, get_backend(backend), method, write_first=False)


def tasks(
    source: Any,
    levels: Sequence[Level],
    arrays: Any,
    method: str,
    backend: Any,
    resume: bool = False,
    tracker: Tracker | LevelsFrom | None = None,
) -> list[Any]:
    """Both stages as ``dask.delayed`` tasks; the last one finishes after all the others.
    ``arrays`` may itself be delayed (made by an earlier task of the graph). ``tracker``
    hears of every unit stored by tasks that run in this process (threads); a copy sent to
    another process reports nothing."""
    import dask

    units = [lv.shards or lv.chunks for lv in levels]
    k, extent = plan_regions(levels, units, np.dtype(source.dtype).itemsize)
    in_memory = isinstance(source, np.ndarray) or is_device_array(source)
    stage1 = []
    for region in tiles(levels[0].shape, extent):
        # An in-memory array travels as its region only; other sources are read by the task.
        piece, read = (source[region], _whole(region)) if in_memory else (source, region)
        origin = [r.start for r in region]
        stage1.append(
            dask.delayed(write_region, pure=False)(
                piece,
                read,
                origin,
                levels[: k + 1],
                arrays[: k + 1],
                method,
                backend,
                resume,
                tracker,
            )
        )
    if k + 1 == len(levels):
        return stage1
    coarse = dask.delayed(write_coarse, pure=False)(
        levels, arrays, k, method, backend, resume, tracker, *stage1
    )
    return [coarse]


def _whole(region: tuple[slice, ...]) -> tuple[slice, ...]:
    return tuple(slice(0, r.stop - r.start) for r in region)
