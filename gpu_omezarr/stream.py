"""One pass over the source: read a slab of level 0, compute every level's share of it on the
backend, hand whole write units to the writers, carry partial rows of coarser levels forward.

The slab runs along the *streaming axis*: the first axis after the leading ones that are
neither downsampled nor chunked (t and c, usually), which are iterated one index at a time.
Peak memory: about two slabs of level 0 (the one being read and the one being computed)
plus, per level, less than one row of write units and one row of blocks.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from .backends import Backend, is_device_array
from .plan import Level
from .writer import ChunkWriter

SLAB_BYTES = 64 * 2**20  # aim for slabs of about this size (whole write units along the axis)


def streaming_axis(levels: Sequence[Level]) -> int:
    """The first axis that is downsampled or chunked by more than 1 at some level."""
    ndim = len(levels[0].shape)
    for axis in range(ndim):
        unit = {(lv.shards or lv.chunks)[axis] for lv in levels}
        if levels[0].shape[axis] > 1 and (
            unit != {1} or any(lv.cumulative[axis] > 1 for lv in levels)
        ):
            return axis
    return ndim - 1


class _LevelState:
    """Rows of one level waiting to be written (whole units) or downsampled (whole blocks)."""

    def __init__(
        self, writer: ChunkWriter, level: Level, axis: int, outer: tuple[int, ...]
    ) -> None:
        self.writer = writer
        self.level = level
        self.axis = axis
        self.outer = outer
        self.unit = writer.unit[axis]
        self.pending: list[np.ndarray] = []  # host rows not yet written
        self.pending_start = 0
        self.carry: Any = None  # backend rows not yet downsampled
        self.carry_start = 0

    def write(self, rows: np.ndarray, final: bool) -> None:
        if rows.shape[self.axis]:
            self.pending.append(rows)
        total = sum(p.shape[self.axis] for p in self.pending)
        ready = total if final else total // self.unit * self.unit
        if not ready:
            return
        block = (
            self.pending[0] if len(self.pending) == 1 else np.concatenate(self.pending, self.axis)
        )
        cut = [slice(None)] * block.ndim
        cut[self.axis] = slice(0, ready)
        start = [0] * block.ndim
        start[: len(self.outer)] = self.outer
        start[self.axis] = self.pending_start
        # Leading (outer) axes are indexed, not sliced: put them back as length-1 axes.
        self.writer.write(start, block[tuple(cut)])
        cut[self.axis] = slice(ready, None)
        rest = block[tuple(cut)]
        self.pending = [rest] if rest.shape[self.axis] else []
        self.pending_start += ready


def write_levels(
    source: Any,
    levels: Sequence[Level],
    writers: Sequence[ChunkWriter],
    backend: Backend,
    method: str,
    read: Callable[[Any, tuple[slice, ...]], Any] | None = None,
) -> None:
    """Stream ``source`` (level 0) into every level's writer."""
    shape = levels[0].shape
    ndim = len(shape)
    axis = streaming_axis(levels)
    unit0 = writers[0].unit[axis]
    row_bytes = int(np.prod(shape[axis + 1 :], dtype=np.int64)) * np.dtype(source.dtype).itemsize
    slab = max(unit0, SLAB_BYTES // max(row_bytes, 1) // unit0 * unit0)
    read = read or _read
    outer_ranges = [range(n) for n in shape[:axis]]
    for outer in itertools.product(*outer_ranges):
        states = [_LevelState(w, lv, axis, outer) for w, lv in zip(writers, levels, strict=True)]
        starts = list(range(0, shape[axis], slab))
        prefetch = _Prefetch(source, read, outer, axis, slab, shape[axis], ndim)
        for i, _ in enumerate(starts):
            rows = prefetch.next()
            final = i == len(starts) - 1
            _feed(states, 0, backend.asarray(rows), backend, method, final)
    for w in writers:
        w.wait()


def _feed(
    states: list[_LevelState], i: int, rows: Any, backend: Backend, method: str, final: bool
) -> None:
    """Give level ``i`` new rows: write them, and downsample whole blocks into level ``i+1``."""
    state = states[i]
    axis = state.axis
    state.write(_expand(backend.to_host(rows), state.outer), final)
    if i + 1 == len(states):
        return
    f = states[i + 1].level.factors[axis]
    carry = rows if state.carry is None else _concat([state.carry, rows], axis - len(state.outer))
    n = carry.shape[axis - len(state.outer)]
    take = n if final else n // f * f
    cut = [slice(None)] * carry.ndim
    cut[axis - len(state.outer)] = slice(0, take)
    rest = [slice(None)] * carry.ndim
    rest[axis - len(state.outer)] = slice(take, None)
    state.carry = carry[tuple(rest)] if take < n else None
    if take or final:
        factors = states[i + 1].level.factors[len(state.outer) :]
        down = backend.downsample(carry[tuple(cut)], factors, method) if take else carry[tuple(cut)]
        _feed(states, i + 1, down, backend, method, final)


def _concat(parts: list[Any], axis: int) -> Any:
    if is_device_array(parts[0]):
        import cupy

        return cupy.concatenate(parts, axis)
    return np.concatenate(parts, axis)


def _expand(rows: np.ndarray, outer: tuple[int, ...]) -> np.ndarray:
    """Rows of the sub-image at ``outer`` as a block of the full array (length-1 outer axes)."""
    return rows.reshape((1,) * len(outer) + rows.shape)


def _read(source: Any, region: tuple[Any, ...]) -> Any:
    block = source[region]
    return block if is_device_array(block) else np.asarray(block)


class _Prefetch:
    """Reads the next slab on a background thread while the current one is computed."""

    def __init__(
        self,
        source: Any,
        read: Callable,
        outer: tuple[int, ...],
        axis: int,
        slab: int,
        n: int,
        ndim: int,
    ) -> None:
        self.regions = [
            (
                *outer,
                *(
                    slice(s, min(s + slab, n)) if a == axis else slice(None)
                    for a in range(len(outer), ndim)
                ),
            )
            for s in range(0, n, slab)
        ]
        self.read = read
        self.source = source
        self.pool = ThreadPoolExecutor(1, thread_name_prefix="gpu-omezarr-read")
        self.next_future = self.pool.submit(read, source, self.regions[0]) if self.regions else None
        self.index = 0

    def next(self) -> Any:
        assert self.next_future is not None
        rows = self.next_future.result()
        self.index += 1
        if self.index < len(self.regions):
            self.next_future = self.pool.submit(self.read, self.source, self.regions[self.index])
        else:
            self.next_future = None
            self.pool.shutdown(wait=False)
        return rows
