"""One pass over the source: read level 0 tile by tile, compute every level's share of each
tile on the backend, hand the pieces to the levels' writers.

A *tile* is a region of level 0 whose start is a multiple of every level's cumulative factor
along every axis, so each level's share of it is a whole number of blocks: the pyramid of a
tile is computed from the tile alone, with nothing carried between tiles. Tiles also align
with level 0's write units, so level 0 is written straight from the tile; coarser levels'
units usually span several tiles and are assembled by their writer (``ChunkWriter``).

Peak memory: three tiles of level 0 (being read, being computed, still being encoded), their
coarser shares, and per level the write units begun but not finished: at most one row of
units across the array, as tiles go in C order. ``TILE_BYTES`` sets the tile size.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from .backends import Backend, is_device_array
from .plan import Level
from .reader import ChunkReader, region_reader
from .writer import ChunkWriter

TILE_BYTES = 16 * 2**20  # amortises per-read costs; three tiles stay small (48 MiB)


def tile_shape(
    levels: Sequence[Level],
    units: Sequence[Sequence[int]],
    itemsize: int,
    shape: Sequence[int] | None = None,
) -> list[int]:
    """Extent of a tile along each axis of level 0.

    The smallest aligned extent is the least common multiple of level 0's write unit and
    the coarsest cumulative factor; tiles then grow from the last axis backwards (whole rows
    read best) while they stay within ``TILE_BYTES``.
    """
    shape = levels[0].shape if shape is None else shape
    base = [
        min(n, math.lcm(u, max(lv.cumulative[a] for lv in levels)))
        for a, (n, u) in enumerate(zip(shape, units[0], strict=True))
    ]
    extent = list(base)
    for axis in reversed(range(len(shape))):
        others = math.prod(extent) // extent[axis] * itemsize
        fit = max(1, TILE_BYTES // max(others, 1) // base[axis]) * base[axis]
        extent[axis] = min(shape[axis], max(base[axis], fit))
        if extent[axis] < shape[axis]:
            break
    return extent


def tiles(shape: Sequence[int], extent: Sequence[int]) -> Iterator[tuple[slice, ...]]:
    """The tiles covering ``shape``, in C order."""
    starts = [range(0, n, e) for n, e in zip(shape, extent, strict=True)]
    for start in itertools.product(*starts):
        yield tuple(slice(s, min(s + e, n)) for s, e, n in zip(start, extent, shape, strict=True))


def write_levels(
    source: Any,
    levels: Sequence[Level],
    writers: Sequence[ChunkWriter],
    backend: Backend,
    method: str,
    origin: Sequence[int] | None = None,
    write_first: bool = True,
) -> None:
    """Stream ``source`` (level 0) into every level's writer.

    ``origin``: where ``source`` starts in level 0, when it is one region of a larger image
    (aligned to every level's units it covers). ``write_first=False`` leaves level 0 alone
    (it is already stored: the coarse stage of a distributed write reads it back).
    """
    source = region_reader(source)  # a zarr array: its chunks decoded here, not by zarr
    shape = tuple(int(n) for n in source.shape)
    origin = tuple(origin) if origin is not None else (0,) * len(shape)
    # A zarr source stored as level 0 is (same chunks, codecs, settings): its chunks are
    # copied as stored, not encoded again; they are still decoded for the coarser levels.
    copy = (
        write_first
        and isinstance(source, ChunkReader)
        and not any(origin)
        and writers[0].codec.stores_as(source.codec)
    )
    itemsize = np.dtype(source.dtype).itemsize
    # Tiles of an array already in memory are views, taken as they are by the kernels.
    in_memory = isinstance(source, np.ndarray)
    extent = tile_shape(levels, [w.unit for w in writers], itemsize, shape)
    regions = list(tiles(shape, extent))
    cancel = [w.cancel for w in writers]  # on an error or Ctrl-C, before the read is awaited
    with _Prefetch(functools.partial(_read, source, copy), regions, cancel) as prefetch:
        for local in regions:
            read, stored = prefetch.next()
            tile = backend.asarray(read)
            region = tuple(
                slice(o + r.start, o + r.stop) for o, r in zip(origin, local, strict=True)
            )
            if write_first:  # from the host copy where there is one: no round trip
                level0 = read if isinstance(read, np.ndarray) else backend.to_host(tile)
                writers[0].write(
                    [r.start for r in region], level0, borrowed=in_memory, stored=stored
                )
            _coarser_levels(region, tile, levels, writers, backend, method)
    for w in writers:
        w.wait()


def _coarser_levels(
    region: tuple[slice, ...],
    tile: Any,
    levels: Sequence[Level],
    writers: Sequence[ChunkWriter],
    backend: Backend,
    method: str,
) -> None:
    """Downsample one tile of level 0 into every coarser level, each from the one before."""
    for writer, level in zip(writers[1:], levels[1:], strict=True):
        tile = backend.downsample(tile, level.factors, method)
        start = [r.start // c for r, c in zip(region, level.cumulative, strict=True)]
        writer.write(start, backend.to_host(tile))


def _read(source: Any, copy: bool, region: tuple[slice, ...]) -> tuple[Any, dict | None]:
    """A tile, and its chunks' stored bytes where they are to be copied (``copy``)."""
    if copy:
        stored: dict = {}
        return source.read(region, stored), stored
    block = source[region]
    return (block if is_device_array(block) else np.asarray(block)), None


class _Prefetch:
    """Reads the next tile on a background thread while the current one is computed."""

    def __init__(
        self,
        read: Callable[[tuple[slice, ...]], Any],
        regions: Sequence,
        on_error: Sequence[Callable[[], None]] = (),
    ) -> None:
        self.read = read
        self.on_error = on_error
        self.regions = iter(regions)
        self.pool = ThreadPoolExecutor(1, thread_name_prefix="gpu-omezarr-read")
        self.future = self._submit()

    def _submit(self) -> Any:
        region = next(self.regions, None)
        return None if region is None else self.pool.submit(self.read, region)

    def next(self) -> Any:
        assert self.future is not None
        tile = self.future.result()
        self.future = self._submit()
        return tile

    def __enter__(self) -> _Prefetch:
        return self

    def __exit__(self, *exc: object) -> None:
        if exc[0] is not None:
            for call in self.on_error:
                call()
        if self.future is not None:
            self.future.cancel()
        self.pool.shutdown(wait=True)
