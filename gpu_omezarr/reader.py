"""Regions of a zarr array, its chunks decoded with the writer's codecs straight into one
buffer: less CPU and memory than zarr-python's reads, which take an event-loop round trip
and a fresh array per chunk (bench/results/pyramid.md)."""

from __future__ import annotations

import itertools
import threading
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import numpy as np
import zarr

from .codecs import EMPTY, ChunkCodec
from .storage import ChunkStore, ReadBuffer


def region_reader(source: Any) -> Any:
    """``source`` itself, or a ``ChunkReader`` of it where it is a zarr array whose codecs
    ``ChunkCodec`` knows (sharded or not)."""
    if not isinstance(source, zarr.Array):
        return source
    codec = ChunkCodec(source)
    return ChunkReader(source, codec) if codec.readable else source


class ChunkReader:
    """Reads regions (slices of step 1) of a zarr array, chunk by chunk; in a sharded array,
    only the index and the inner chunks a region needs are read from each shard."""

    def __init__(self, array: zarr.Array, codec: ChunkCodec | None = None) -> None:
        self.array = array
        self.shape = tuple(array.shape)
        self.dtype = np.dtype(array.dtype)
        self.codec = codec or ChunkCodec(array)
        self.store = ChunkStore(array)
        self._local = threading.local()  # per reading thread: buffers used again every chunk

    def _scratch(self) -> tuple[ReadBuffer, np.ndarray]:
        """This thread's buffers for a chunk's stored bytes and its decoded values."""
        local = self._local
        if not hasattr(local, "stored"):
            local.stored = ReadBuffer()
            local.decoded = np.empty(self.codec.chunk_shape, self.codec.stored)
        return local.stored, local.decoded

    def __getitem__(self, region: tuple[slice, ...]) -> np.ndarray:
        return self.read(region)

    def read(
        self, region: tuple[slice, ...], stored: dict[tuple[int, ...], bytes | None] | None = None
    ) -> np.ndarray:
        """The values of ``region``. ``stored``: filled with each chunk's stored bytes (None
        where none is stored) by its grid position, for a writer that can store them as
        they are (``ChunkCodec.stores_as``)."""
        bounds = [r.indices(n) for r, n in zip(region, self.shape, strict=True)]
        if any(step != 1 for _, _, step in bounds):
            return np.asarray(self.array[region])
        start = [a for a, _, _ in bounds]
        stop = [max(a, b) for a, b, _ in bounds]
        out = np.empty([b - a for a, b in zip(start, stop, strict=True)], self.dtype)
        scratch, decoded = self._scratch()
        chunk = self.codec.chunk_shape
        grid = [range(a // c, -(-b // c)) for a, b, c in zip(start, stop, chunk, strict=True)]
        for coords, data in self._chunks(itertools.product(*grid), scratch):
            if stored is not None:
                stored[coords] = None if data is None else bytes(data)
            lo = [k * c for k, c in zip(coords, chunk, strict=True)]
            cut = [
                (max(a, s), min(a + c, e))
                for a, c, s, e in zip(lo, chunk, start, stop, strict=True)
            ]
            into = tuple(slice(a - s, b - s) for (a, b), s in zip(cut, start, strict=True))
            if data is None:  # never written: the fill value
                out[into] = self.codec.fill
            else:
                part = tuple(slice(a - low, b - low) for (a, b), low in zip(cut, lo, strict=True))
                out[into] = self.codec.decode(data, decoded)[part]
        return out

    def _chunks(
        self, wanted: Iterator[tuple[int, ...]], scratch: ReadBuffer
    ) -> Iterator[tuple[tuple[int, ...], Any]]:
        """``(coords, stored bytes or None)`` of each wanted chunk (coordinates in chunks);
        their bytes are read into ``scratch``, valid until the next shard (or chunk) is read."""
        if self.codec.shard_shape is None:
            for coords in wanted:
                yield coords, self.store.get(coords, scratch)
            return
        grid = self.codec.grid
        by_shard: dict[tuple[int, ...], list[tuple[int, ...]]] = defaultdict(list)
        for coords in wanted:
            by_shard[tuple(c // g for c, g in zip(coords, grid, strict=True))].append(coords)
        size = self.codec.index_nbytes
        for shard, inner in by_shard.items():
            where = (-size if self.codec.index_at_end else 0, size)
            read = self.store.get_ranges(shard, [where])
            if read is None:  # no shard: every chunk in it is the fill value
                yield from ((coords, None) for coords in inner)
                continue
            index = self.codec.decode_index(read[0])
            spans = [
                tuple(index[tuple(c % g for c, g in zip(coords, grid, strict=True))])
                for coords in inner
            ]
            stored = [(int(o), int(n)) for o, n in spans if o != EMPTY]
            parts = (
                iter(self.store.get_ranges(shard, stored, scratch) or []) if stored else iter(())
            )
            for coords, (offset, _) in zip(inner, spans, strict=True):
                yield coords, None if offset == EMPTY else next(parts)
