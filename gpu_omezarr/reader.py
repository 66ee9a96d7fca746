"""Regions of a zarr array, its chunks decoded with the writer's codecs straight into one
buffer: less CPU and memory than zarr-python's reads, which take an event-loop round trip
and a fresh array per chunk (bench/results/pyramid.md).

The chunks of one region are read and decoded on ``read_threads()`` threads at once (the
codecs release the GIL), so reading keeps up with many encoders; each thread keeps one
chunk's stored bytes and one decoded chunk, used again for every chunk it decodes.
"""

from __future__ import annotations

import functools
import itertools
import os
import threading
import weakref
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import zarr

from .codecs import EMPTY, ChunkCodec
from .metadata._errors import invalid
from .storage import ChunkStore, ReadBuffer

BATCH_BYTES = 2**20  # the least a decoding thread is handed: more costs more than it saves
# Where a chunk's bytes are: None (its own key), (shard, offset, length) in a shard, or
# EMPTY (a shard without it, or no shard: the fill value).
_Where = tuple[tuple[int, ...], int, int] | int | None


def read_threads() -> int:
    """Threads decoding a source's chunks at once: ``GPU_OMEZARR_READ_THREADS``, else one
    per core (decoding is about 3x faster than encoding, so the readers idle when the
    encoders are the limit: they only ever read one tile ahead)."""
    value = os.environ.get("GPU_OMEZARR_READ_THREADS")
    if value is None:
        return max(1, os.cpu_count() or 1)
    if not value.isdigit() or int(value) < 1:
        invalid("GPU_OMEZARR_READ_THREADS", value, "must be an integer >= 1")
    return int(value)


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

    def __init__(
        self, array: zarr.Array, codec: ChunkCodec | None = None, threads: int | None = None
    ) -> None:
        self.array = array
        self.shape = tuple(array.shape)
        self.dtype = np.dtype(array.dtype)
        self.codec = codec or ChunkCodec(array)
        self.store = ChunkStore(array)
        self.threads = read_threads() if threads is None else max(1, threads)
        self._local = threading.local()  # per reading thread: buffers used again every chunk
        self._pool: ThreadPoolExecutor | None = None

    def _decoders(self) -> ThreadPoolExecutor:
        """The decoding threads, started at the first read that wants them; they end with
        the reader."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="gpu-omezarr-decode")
            weakref.finalize(self, self._pool.shutdown, wait=False)
        return self._pool

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
        chunk = self.codec.chunk_shape
        grid = [range(a // c, -(-b // c)) for a, b, c in zip(start, stop, chunk, strict=True)]
        jobs = self._locate(itertools.product(*grid))
        decode = functools.partial(self._decode, out=out, start=start, stop=stop, stored=stored)
        n = min(self.threads, len(jobs), max(1, out.nbytes // BATCH_BYTES))
        if n <= 1:
            decode(jobs)
        else:  # contiguous runs of chunks, one per thread: neighbours in a file stay together
            cuts = [len(jobs) * i // n for i in range(n + 1)]
            list(self._decoders().map(decode, [jobs[a:b] for a, b in itertools.pairwise(cuts)]))
        return out

    def _locate(self, wanted: Iterable[tuple[int, ...]]) -> list[tuple[tuple[int, ...], _Where]]:
        """Where each wanted chunk's bytes are (coordinates in chunks); a sharded array's
        indexes are read here, once per shard."""
        if self.codec.shard_shape is None:
            return [(coords, None) for coords in wanted]
        grid = self.codec.grid
        by_shard: dict[tuple[int, ...], list[tuple[int, ...]]] = defaultdict(list)
        for coords in wanted:
            by_shard[tuple(c // g for c, g in zip(coords, grid, strict=True))].append(coords)
        size = self.codec.index_nbytes
        jobs: list[tuple[tuple[int, ...], _Where]] = []
        for shard, inner in by_shard.items():
            read = self.store.get_ranges(shard, [(-size if self.codec.index_at_end else 0, size)])
            if read is None:  # no shard: every chunk in it is the fill value
                jobs.extend((coords, EMPTY) for coords in inner)
                continue
            index = self.codec.decode_index(read[0])
            for coords in inner:
                offset, length = index[tuple(c % g for c, g in zip(coords, grid, strict=True))]
                where = EMPTY if offset == EMPTY else (shard, int(offset), int(length))
                jobs.append((coords, where))
        return jobs

    def _fetch(
        self, jobs: Sequence[tuple[tuple[int, ...], _Where]], scratch: ReadBuffer
    ) -> Iterator[tuple[tuple[int, ...], Any]]:
        """``(coords, stored bytes or None)`` of each job's chunk; the chunks of one shard
        that follow each other come in one read. Bytes are read into ``scratch``, valid
        until the next read into it."""
        for shard, run in itertools.groupby(jobs, lambda job: _shard_of(job[1])):
            run = list(run)
            if shard is None:  # unsharded: a key per chunk (or a shard without them)
                for coords, where in run:
                    yield coords, None if where == EMPTY else self.store.get(coords, scratch)
                continue
            spans = [where[1:] for _, where in run]  # type: ignore[index]
            parts = iter(self.store.get_ranges(shard, spans, scratch) or [None] * len(run))
            for (coords, _), data in zip(run, parts, strict=True):
                yield coords, data

    def _decode(
        self,
        jobs: Sequence[tuple[tuple[int, ...], _Where]],
        out: np.ndarray,
        start: Sequence[int],
        stop: Sequence[int],
        stored: dict[tuple[int, ...], bytes | None] | None,
    ) -> None:
        """Decode ``jobs``' chunks into their places in ``out`` (the region start..stop)."""
        scratch, decoded = self._scratch()
        chunk = self.codec.chunk_shape
        for coords, data in self._fetch(jobs, scratch):
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


def _shard_of(where: _Where) -> tuple[int, ...] | None:
    return where[0] if isinstance(where, tuple) else None
