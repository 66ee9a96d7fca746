"""One pass over the source: read level 0 tile by tile, compute every level's share of each
tile on the backend, hand the pieces to the levels' writers.

A *tile* is a region of level 0 whose start is a multiple of every level's cumulative factor
along every axis, so each level's share of it is a whole number of blocks: the pyramid of a
tile is computed from the tile alone, with nothing carried between tiles. Tiles also align
with level 0's write units, so level 0 is written straight from the tile; coarser levels'
units usually span several tiles and are assembled by their writer (``ChunkWriter``).

Order (``nested_tiles``): a level-``j`` write unit covers ``F_j = unit_j x cumulative_j`` of
level 0 (its *footprint*). Level 0 is cut into nested blocks, ``E_j`` the least common
multiple of the tile and the footprints of levels ``0..j`` along each axis (clamped to the
shape), and the tiles of one block of ``E_j`` are all visited before the next one begins:
depth-first over the pyramid, a Morton-like walk. Every level-``j`` unit lies in one block
of ``E_j``, so it is complete when the walk leaves that block.

Peak memory, independent of the image's extent: three tiles of level 0 (being read, being
computed, still being encoded; ``TILE_BYTES`` sets their size), their coarser shares, the
units queued for encoding (``writer.chunk_writers``: two per encoder thread and two more),
the decode threads' chunk buffers (``reader``), and per level ``j`` at most
``prod(ceil(E_j / F_j))`` partly filled units of its own: one per level with the default
chunks and shards of a 3-D image, a tile's width of them in 2-D (tiles grow along x up to
``TILE_BYTES``). All of it is a function of chunk and shard sizes, ``TILE_BYTES``, the
number of cores and the number of levels, never of the shape. The GPU backend adds its
pipeline's pinned buffers: three tiles and their coarser shares
(``backends/cuda_pipeline.py``).
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
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


def block_extents(
    shape: Sequence[int], tile: Sequence[int], footprints: Sequence[Sequence[int]]
) -> list[list[int]]:
    """The nested blocks of ``nested_tiles``: the tile, then for each footprint (a level's
    write unit in level 0's elements) the least common multiple of the blocks before and it,
    clamped to the shape along each axis."""
    blocks = [[min(n, t) for n, t in zip(shape, tile, strict=True)]]
    for footprint in footprints:
        blocks.append(
            [
                n if b >= n else min(n, math.lcm(b, f))
                for n, b, f in zip(shape, blocks[-1], footprint, strict=True)
            ]
        )
    return blocks


def nested_tiles(
    shape: Sequence[int], tile: Sequence[int], footprints: Sequence[Sequence[int]]
) -> Iterator[tuple[slice, ...]]:
    """The tiles covering ``shape``, every block of each of ``block_extents`` visited whole
    before the next (C order inside each block): each write unit whose footprint is listed is
    complete once the walk leaves the block that holds it."""
    blocks = block_extents(shape, tile, footprints)

    def walk(lo: Sequence[int], hi: Sequence[int], depth: int) -> Iterator[tuple[slice, ...]]:
        if depth < 0:
            yield tuple(slice(a, b) for a, b in zip(lo, hi, strict=True))
            return
        step = blocks[depth]
        ranges = [range(a, b, s) for a, b, s in zip(lo, hi, step, strict=True)]
        for start in itertools.product(*ranges):
            stop = [min(a + s, b) for a, s, b in zip(start, step, hi, strict=True)]
            yield from walk(start, stop, depth - 1)

    yield from walk([0] * len(shape), list(shape), len(blocks) - 1)


def footprints(levels: Sequence[Level], writers: Sequence[ChunkWriter]) -> list[list[int]]:
    """Each level's write unit as a region of level 0 (its size in level 0's elements)."""
    return [
        [u * c for u, c in zip(w.unit, lv.cumulative, strict=True)]
        for lv, w in zip(levels, writers, strict=True)
    ]


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
    regions = list(nested_tiles(shape, extent, footprints(levels, writers)))
    cancel = [w.cancel for w in writers]  # on an error or Ctrl-C, before the read is awaited
    with _Prefetch(functools.partial(_read, source, copy), regions, cancel) as prefetch:

        def level0() -> Iterator[tuple[tuple[slice, ...], Any]]:
            for local in regions:
                read, stored = prefetch.next()
                region = tuple(
                    slice(o + r.start, o + r.stop) for o, r in zip(origin, local, strict=True)
                )
                if write_first:  # from the host copy where there is one: no round trip
                    level0 = read
                    if not isinstance(read, np.ndarray):  # a device tile
                        level0 = backend.to_host(backend.asarray(read))
                    writers[0].write(
                        [r.start for r in region], level0, borrowed=in_memory, stored=stored
                    )
                yield region, read  # to the kernels, which may run a few tiles behind

        write_coarser(level0(), levels, writers, backend, method)
    for w in writers:
        w.wait()


def write_coarser(
    tiles: Iterable[tuple[tuple[slice, ...], Any]],
    levels: Sequence[Level],
    writers: Sequence[ChunkWriter],
    backend: Backend,
    method: str,
) -> None:
    """Every coarser level's share of each ``(region of level 0, tile)`` into its writer."""
    factors = [lv.factors for lv in levels[1:]]
    for region, shares in pyramid_tiles(backend, tiles, factors, method):
        for writer, level, share in zip(writers[1:], levels[1:], shares, strict=True):
            start = [r.start // c for r, c in zip(region, level.cumulative, strict=True)]
            writer.write(start, share)


def pyramid_tiles(
    backend: Backend,
    tiles: Iterable[tuple[Any, Any]],
    factors: Sequence[Sequence[int]],
    method: str,
) -> Iterator[tuple[Any, list[np.ndarray]]]:
    """``(key, coarser levels on the host)`` for each ``(key, tile)``. A backend with its own
    ``pyramid_tiles`` (the GPU: several tiles in flight, a few behind) does it its way; the
    others compute each tile's levels as it comes, each from the one before."""
    hook = getattr(backend, "pyramid_tiles", None)
    if hook is not None and factors:
        yield from hook(tiles, factors, method)
        return
    for key, tile in tiles:
        if not factors:  # level 0 alone: nothing to compute, nothing to upload
            yield key, []
            continue
        x = backend.asarray(tile)
        shares = []
        for level_factors in factors:
            x = backend.downsample(x, level_factors, method)
            shares.append(backend.to_host(x))
        yield key, shares


def _read(source: Any, copy: bool, region: tuple[slice, ...]) -> tuple[Any, dict | None]:
    """A tile, and its chunks' stored bytes where they are to be copied (``copy``)."""
    if copy:
        stored: dict = {}
        return source.read(region, stored), stored
    block = source[region]
    if hasattr(block, "dask"):  # computed here: a dask array's CuPy chunks stay on the device
        block = block.compute()
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
