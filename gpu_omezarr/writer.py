"""The zarr writer shared by every backend: whole chunks or whole shards, encoded on a thread
pool (the codecs release the GIL) and put straight into the store.

zarr-python creates the arrays (their metadata); the chunk bytes are encoded by
``codecs.ChunkCodec`` with the same numcodecs codecs zarr would use, so any Zarr reader
decodes them. Codec chains it does not know go through zarr itself (correct, slower).
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import itertools
import os
import platform
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np
import zarr

from .codecs import ChunkCodec
from .storage import ChunkStore


@functools.cache
def _keep_buffers_on_heap() -> None:
    """Stop glibc from mapping every codec buffer afresh (once per process, glibc only).

    A codec allocates a new output of about a chunk's size for every chunk (zstd: 2 MiB for
    16x256x256 uint16, shrunk to the compressed size). glibc serves allocations that large
    with fresh mappings, returned at free, and its dynamic threshold never catches up with
    the shrunk sizes: every chunk paid hundreds of page faults (writing 1 GiB: 164,000 for
    level 0 alone, with a third of the system time; 63,000 for a y/x pyramid, down to 6,000;
    bench/results/pyramid.md). Serving up to 32 MiB from the heap (glibc's own upper bound
    for its dynamic threshold) and trimming the heap only past 64 MiB keeps that memory in
    the process for reuse. It is a process-wide setting; ``GPU_OMEZARR_MALLOPT=0`` leaves
    glibc's defaults alone.
    """
    if platform.libc_ver()[0] != "glibc" or os.environ.get("GPU_OMEZARR_MALLOPT") == "0":
        return
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    mallopt(-3, 32 << 20)  # M_MMAP_THRESHOLD
    mallopt(-1, 64 << 20)  # M_TRIM_THRESHOLD


@contextlib.contextmanager
def chunk_writers(
    arrays: Sequence[zarr.Array],
    on_unit: Callable[[int], Callable[[int], None] | None] | None = None,
    resume: bool = False,
    workers: int | None = None,
) -> Iterator[list[ChunkWriter]]:
    """A writer per array (``on_unit(i)``: array i's progress callback), sharing one encoder
    thread per core (or ``workers``) and one bound on the units in flight that own their
    memory; the pool is shut down on exit. On an error or ``KeyboardInterrupt`` the units
    still queued are cancelled and only those being encoded finish: Ctrl-C stops a write at
    once, not after the queue (of an in-memory source: every unit) has drained."""
    _keep_buffers_on_heap()
    workers = workers or max(1, os.cpu_count() or 1)
    limit = threading.BoundedSemaphore(2 * workers + 2)
    pool = ThreadPoolExecutor(workers, thread_name_prefix="gpu-omezarr-encode")
    try:
        yield [
            ChunkWriter(a, pool, limit, on_unit(i) if on_unit else None, resume)
            for i, a in enumerate(arrays)
        ]
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


class ChunkWriter:
    """Writes regions of one array as whole write units (shards, or chunks when unsharded).

    Regions may start and end anywhere: a unit a region covers whole is queued at once (a view,
    no copy); a unit it covers in part is assembled in a buffer until its last element arrives.
    Either way each unit is encoded and stored exactly once, by one worker.
    """

    def __init__(
        self,
        array: zarr.Array,
        pool: ThreadPoolExecutor,
        limit: threading.BoundedSemaphore,
        on_unit: Callable[[int], None] | None = None,
        resume: bool = False,
    ) -> None:
        self.array = array
        self.resume = resume
        self.codec = ChunkCodec(array)
        self.unit = self.codec.shard_shape or self.codec.chunk_shape
        self.pool = pool
        self.limit = limit
        self.on_unit = on_unit
        # Units queued and not yet stored; each leaves the set as it finishes, and the first
        # error is kept to be raised at the next write, not after the whole source is read.
        self._pending: set[Future[None]] = set()
        self._pending_lock = threading.Lock()
        self._error: BaseException | None = None
        self._partial: dict[tuple[int, ...], tuple[np.ndarray, int]] = {}
        self.most_partial = 0  # the most units held partly filled at once (stream's bound)
        # Partial units stored early (``flush``): a unit's next version waits for the last.
        self._flushed: dict[tuple[int, ...], Future[None]] = {}
        self.store = ChunkStore(array)

    def write(
        self,
        start: Sequence[int],
        block: np.ndarray,
        borrowed: bool = False,
        stored: Mapping[tuple[int, ...], bytes | None] | None = None,
    ) -> None:
        """Place ``block`` at ``start``; queue every unit that is now complete.

        ``borrowed``: ``block`` is a view of memory the caller keeps anyway (an in-memory
        source), so its whole units are queued without waiting for room: they cost nothing
        to hold, and a long queue keeps the encoders busy while the next levels are computed.
        ``stored``: the chunks of ``block`` already encoded as this array stores them (by grid
        position; ``ChunkCodec.stores_as``), stored as they are in the units it covers whole.
        """
        stop = [s + n for s, n in zip(start, block.shape, strict=True)]
        if any(s < 0 for s in start) or any(
            e > n for e, n in zip(stop, self.array.shape, strict=True)
        ):
            raise ValueError(
                f"region start={tuple(start)} shape={block.shape} is outside the array "
                f"of shape {self.array.shape}"
            )
        ranges = [range(s // u, -(-e // u)) for s, e, u in zip(start, stop, self.unit, strict=True)]
        for coords in itertools.product(*ranges):
            lo = [c * u for c, u in zip(coords, self.unit, strict=True)]
            hi = [min(a + u, n) for a, u, n in zip(lo, self.unit, self.array.shape, strict=True)]
            cut_lo = [max(a, s) for a, s in zip(lo, start, strict=True)]
            cut_hi = [min(b, e) for b, e in zip(hi, stop, strict=True)]
            part = block[
                tuple(slice(a - s, b - s) for a, b, s in zip(cut_lo, cut_hi, start, strict=True))
            ]
            if cut_lo == lo and cut_hi == hi:
                self._submit(coords, part, bounded=not borrowed, stored=stored)
                continue
            buffer, filled = self._partial.pop(coords, (None, 0))
            if buffer is None:
                buffer = np.empty([b - a for a, b in zip(lo, hi, strict=True)], block.dtype)
            buffer[
                tuple(slice(a - u, b - u) for a, b, u in zip(cut_lo, cut_hi, lo, strict=True))
            ] = part
            filled += part.size
            if filled == buffer.size:
                self._submit(coords, buffer)
            else:
                self._partial[coords] = (buffer, filled)
                self.most_partial = max(self.most_partial, len(self._partial))

    def _submit(
        self,
        coords: tuple[int, ...],
        block: np.ndarray,
        bounded: bool = True,
        stored: Mapping[tuple[int, ...], bytes | None] | None = None,
        report: bool = True,
    ) -> Future[None]:
        if self._error is not None:
            raise self._error
        earlier = self._flushed.pop(coords, None)
        if earlier is not None:  # never let an older, partial version land last
            earlier.exception()
        if bounded:
            self.limit.acquire()
        try:
            future = self.pool.submit(self._store_unit, coords, block, stored, report)
        except BaseException:
            if bounded:
                self.limit.release()
            raise
        with self._pending_lock:
            self._pending.add(future)
        future.add_done_callback(functools.partial(self._finished, bounded))
        return future

    def _finished(self, bounded: bool, future: Future[None]) -> None:
        if bounded:
            self.limit.release()
        if self._error is None and not future.cancelled() and future.exception() is not None:
            self._error = future.exception()
        with self._pending_lock:
            self._pending.discard(future)

    def _store_unit(
        self,
        coords: tuple[int, ...],
        block: np.ndarray,
        stored: Mapping[tuple[int, ...], bytes | None] | None = None,
        report: bool = True,
    ) -> None:
        region = tuple(
            slice(c * u, c * u + n) for c, u, n in zip(coords, self.unit, block.shape, strict=True)
        )
        if self.resume and self._already_stored(coords, region, block):
            pass
        elif not self.codec.fast:
            self.array[region] = block
        elif self.codec.shard_shape:
            first = [c * g for c, g in zip(coords, self.codec.grid, strict=True)]
            self.store.put(coords, self.codec.encode_shard(block, stored, first))
        else:
            data = stored.get(coords) if stored is not None else None
            self.store.put(coords, data if data is not None else self.codec.encode(block))
        if self.on_unit is not None and report:
            self.on_unit(block.nbytes)

    def _already_stored(
        self, coords: tuple[int, ...], region: tuple[slice, ...], block: np.ndarray
    ) -> bool:
        """Whether this unit is stored and reads back equal to ``block`` (resume)."""
        if not self.store.exists(coords):
            return False
        try:
            return bool(np.array_equal(self.array[region], block))
        except Exception:  # unreadable: a unit cut short by a crash; write it again
            return False

    def cancel(self) -> None:
        """Drop the units queued and not yet begun (an error or Ctrl-C: stop at once)."""
        with self._pending_lock:
            pending = list(self._pending)
        for future in pending:
            future.cancel()

    def flush(self, extent: Sequence[int], keep: bool = True) -> None:
        """Store every unit begun as what it holds within ``extent`` (the array's shape as
        readers will see it; units are filled in C order, so that is what has arrived).
        ``keep``: the units stay begun, stored again whole once their last element arrives
        (an array that grows along its first axis); else they are finished here."""
        for coords, (buffer, _) in sorted(self._partial.items()):
            lo = [c * u for c, u in zip(coords, self.unit, strict=True)]
            cut = tuple(
                slice(0, max(0, min(n, e - a)))
                for a, n, e in zip(lo, buffer.shape, extent, strict=True)
            )
            if any(s.stop == 0 for s in cut):
                continue
            # Progress counts a unit once: when stored for the last time.
            self._flushed[coords] = self._submit(coords, buffer[cut], report=not keep)
        if not keep:
            self._partial.clear()

    @property
    def error(self) -> BaseException | None:
        """The first error of a unit's store, None while every unit stored so far was."""
        return self._error

    def in_flight(self) -> list[Future[None]]:
        """The units queued and not yet stored."""
        with self._pending_lock:
            return list(self._pending)

    def wait(self) -> None:
        """Block until every queued unit is stored; re-raise the first error."""
        with self._pending_lock:
            pending = list(self._pending)
        for future in pending:
            future.result()
        if self._error is not None:
            raise self._error
        if self._partial:
            missing = sorted(self._partial)[:3]
            raise RuntimeError(f"{self.array.path}: units {missing} were never completed")
