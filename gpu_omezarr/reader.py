"""Regions of a zarr array, its chunks decoded with the writer's codecs straight into one
buffer: a third less CPU than zarr-python's reads, which take an event-loop round trip and a
fresh array per chunk (bench/results/pyramid.md)."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import zarr

from .codecs import ChunkCodec
from .storage import ChunkStore


def region_reader(source: Any) -> Any:
    """``source`` itself, or a ``ChunkReader`` of it where it is a zarr array that one can
    read: unsharded, its codecs known to ``ChunkCodec``."""
    if not isinstance(source, zarr.Array):
        return source
    codec = ChunkCodec(source)
    return ChunkReader(source, codec) if codec.fast and codec.shard_shape is None else source


class ChunkReader:
    """Reads regions (slices of step 1) of an unsharded zarr array, chunk by chunk."""

    def __init__(self, array: zarr.Array, codec: ChunkCodec | None = None) -> None:
        self.array = array
        self.shape = tuple(array.shape)
        self.dtype = np.dtype(array.dtype)
        self.codec = codec or ChunkCodec(array)
        self.store = ChunkStore(array)

    def __getitem__(self, region: tuple[slice, ...]) -> np.ndarray:
        bounds = [r.indices(n) for r, n in zip(region, self.shape, strict=True)]
        if any(step != 1 for _, _, step in bounds):
            return np.asarray(self.array[region])
        start = [a for a, _, _ in bounds]
        stop = [max(a, b) for a, b, _ in bounds]
        out = np.empty([b - a for a, b in zip(start, stop, strict=True)], self.dtype)
        chunk = self.codec.chunk_shape
        grid = [range(a // c, -(-b // c)) for a, b, c in zip(start, stop, chunk, strict=True)]
        for coords in itertools.product(*grid):
            lo = [k * c for k, c in zip(coords, chunk, strict=True)]
            cut = [
                (max(a, s), min(a + c, e))
                for a, c, s, e in zip(lo, chunk, start, stop, strict=True)
            ]
            into = tuple(slice(a - s, b - s) for (a, b), s in zip(cut, start, strict=True))
            data = self.store.get(coords)
            if data is None:  # never written: the fill value
                out[into] = self.codec.fill
            else:
                part = tuple(slice(a - low, b - low) for (a, b), low in zip(cut, lo, strict=True))
                out[into] = self.codec.decode(data)[part]
        return out
