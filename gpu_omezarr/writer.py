"""The zarr writer shared by every backend: whole chunks or whole shards, encoded on a thread
pool (the codecs release the GIL) and put straight into the store.

zarr-python creates the arrays (their metadata); the chunk bytes are encoded here with the
same numcodecs codecs zarr would use, so any Zarr reader decodes them. Codec chains this
module does not know how to encode go through zarr itself (correct, slower).
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import itertools
import os
import platform
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numcodecs
import numpy as np
import zarr
from google_crc32c import value as crc32c
from zarr.core.buffer import default_buffer_prototype
from zarr.core.sync import sync
from zarr.storage import LocalStore

_EMPTY = np.uint64(2**64 - 1)


def _numcodecs_chain(codecs: Sequence[Any]) -> list[Any] | None:
    """numcodecs equivalents of zarr v3 bytes-to-bytes codecs, or None if one is unknown."""
    chain = []
    for codec in codecs:
        name = type(codec).__name__
        if name == "ZstdCodec":
            chain.append(numcodecs.Zstd(level=codec.level, checksum=codec.checksum))
        elif name == "GzipCodec":
            chain.append(numcodecs.GZip(level=codec.level))
        elif name == "Crc32cCodec":
            chain.append(None)  # appended by hand below
        else:
            return None
    return chain


class _Encoder:
    """Encodes one chunk (C order, little endian, fill-padded) to its stored bytes."""

    def __init__(self, array: zarr.Array) -> None:
        self._local = threading.local()
        meta = array.metadata
        self.chunk_shape: tuple[int, ...]
        self.shard_shape: tuple[int, ...] | None = None
        self.fill = (
            np.asarray(array.fill_value, dtype=array.dtype) if array.fill_value is not None else 0
        )
        self.chain: list[Any] | None
        if meta.zarr_format == 2:
            self.chunk_shape = tuple(meta.chunks)
            codecs = [*(meta.filters or ()), *([meta.compressor] if meta.compressor else [])]
            self.chain = codecs if meta.order == "C" else None
            self.index_chain = None
            return
        codecs = list(meta.codecs)
        self.index_chain = None
        if len(codecs) == 1 and type(codecs[0]).__name__ == "ShardingCodec":
            sharding = codecs[0]
            self.shard_shape = tuple(meta.chunk_grid.chunk_shape)
            self.chunk_shape = tuple(sharding.chunk_shape)
            codecs = list(sharding.codecs)
            index = list(sharding.index_codecs)
            ok_index = (
                len(index) == 2
                and _is_little_bytes(index[0])
                and type(index[1]).__name__ == "Crc32cCodec"
                and sharding.index_location.value == "end"
            )
            self.index_chain = ok_index
        else:
            self.chunk_shape = tuple(meta.chunk_grid.chunk_shape)
        self.chain = None
        if (
            codecs
            and _is_little_bytes(codecs[0])
            and (self.shard_shape is None or self.index_chain)
        ):
            self.chain = _numcodecs_chain(codecs[1:])

    @property
    def fast(self) -> bool:
        return self.chain is not None

    def _buffer(self, dtype: np.dtype) -> np.ndarray:
        buffer = getattr(self._local, "buffer", None)
        if buffer is None or buffer.dtype != dtype:
            buffer = self._local.buffer = np.empty(self.chunk_shape, dtype)
        return buffer

    def chunk(self, block: np.ndarray) -> bytes:
        """Encoded bytes of one chunk; ``block`` may be a partial edge chunk."""
        if block.shape != self.chunk_shape or not block.flags.c_contiguous:
            # Gather into this thread's reusable buffer: a fresh one per chunk would cost
            # page faults (the allocator maps and zeroes large blocks anew every time).
            buffer = self._buffer(block.dtype)
            if block.shape != self.chunk_shape:
                buffer[...] = self.fill
            buffer[tuple(slice(0, n) for n in block.shape)] = block
            block = buffer
        data: Any = block.astype(block.dtype.newbyteorder("<"), copy=False)
        for codec in self.chain or ():
            data = codec.encode(data)
        return bytes(data) if not isinstance(data, bytes) else data

    def shard(self, block: np.ndarray) -> bytes:
        """Encoded bytes of one shard: inner chunks in C order, then the index and its crc32c."""
        assert self.shard_shape is not None
        grid = [s // c for s, c in zip(self.shard_shape, self.chunk_shape, strict=True)]
        index = np.full((*grid, 2), _EMPTY, dtype="<u8")
        parts = []
        offset = 0
        for pos in itertools.product(*map(range, grid)):
            region = tuple(
                slice(p * c, min((p + 1) * c, n))
                for p, c, n in zip(pos, self.chunk_shape, block.shape, strict=True)
            )
            if any(r.start >= r.stop for r in region):
                continue  # beyond the array's edge: left empty, read as fill value
            encoded = self.chunk(block[region])
            index[pos] = (offset, len(encoded))
            parts.append(encoded)
            offset += len(encoded)
        index_bytes = index.tobytes()
        parts.append(index_bytes)
        parts.append(np.uint32(crc32c(index_bytes)).astype("<u4").tobytes())
        return b"".join(parts)


def _is_little_bytes(codec: Any) -> bool:
    endian = getattr(codec, "endian", None)
    return type(codec).__name__ == "BytesCodec" and (endian is None or endian.value == "little")


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
) -> Iterator[list[ChunkWriter]]:
    """A writer per array (``on_unit(i)``: array i's progress callback), sharing one encoder
    thread per core and one bound on the units in flight that own their memory; the pool is
    shut down on exit."""
    _keep_buffers_on_heap()
    workers = max(1, os.cpu_count() or 1)
    limit = threading.BoundedSemaphore(2 * workers + 2)
    with ThreadPoolExecutor(workers, thread_name_prefix="gpu-omezarr-encode") as pool:
        yield [
            ChunkWriter(a, pool, limit, on_unit(i) if on_unit else None, resume)
            for i, a in enumerate(arrays)
        ]


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
        self.encoder = _Encoder(array)
        self.unit = self.encoder.shard_shape or self.encoder.chunk_shape
        self.pool = pool
        self.limit = limit
        self.on_unit = on_unit
        self.futures: list[Future[None]] = []
        self._partial: dict[tuple[int, ...], tuple[np.ndarray, int]] = {}
        store = array.store
        prefix = f"{array.path}/" if array.path else ""
        self._local_root = Path(store.root) / prefix if isinstance(store, LocalStore) else None
        self._prefix = prefix
        self._made_dirs: set[Path] = set()
        self._dir_lock = threading.Lock()

    def write(self, start: Sequence[int], block: np.ndarray, borrowed: bool = False) -> None:
        """Place ``block`` at ``start``; queue every unit that is now complete.

        ``borrowed``: ``block`` is a view of memory the caller keeps anyway (an in-memory
        source), so its whole units are queued without waiting for room: they cost nothing
        to hold, and a long queue keeps the encoders busy while the next levels are computed.
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
                self._submit(coords, part, bounded=not borrowed)
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

    def _submit(self, coords: tuple[int, ...], block: np.ndarray, bounded: bool = True) -> None:
        if bounded:
            self.limit.acquire()
        try:
            future = self.pool.submit(self._store_unit, coords, block)
        except BaseException:
            if bounded:
                self.limit.release()
            raise
        if bounded:
            future.add_done_callback(lambda _: self.limit.release())
        self.futures.append(future)
        if len(self.futures) >= 256:
            self._collect()

    def _collect(self) -> None:
        """Forget stored units, so bookkeeping stays small; raise a failed unit's error now
        rather than after the whole source has been read."""
        pending = []
        for future in self.futures:
            if not future.done():
                pending.append(future)
            elif future.exception() is not None:
                raise future.exception()
        self.futures = pending

    def _store_unit(self, coords: tuple[int, ...], block: np.ndarray) -> None:
        key = self.array.metadata.encode_chunk_key(coords)
        region = tuple(
            slice(c * u, c * u + n) for c, u, n in zip(coords, self.unit, block.shape, strict=True)
        )
        if self.resume and self._already_stored(key, region, block):
            pass
        elif not self.encoder.fast:
            self.array[region] = block
        elif self.encoder.shard_shape:
            self._put(key, self.encoder.shard(block))
        else:
            self._put(key, self.encoder.chunk(block))
        if self.on_unit is not None:
            self.on_unit(block.nbytes)

    def _already_stored(self, key: str, region: tuple[slice, ...], block: np.ndarray) -> bool:
        """Whether this unit is stored and reads back equal to ``block`` (resume)."""
        if self._local_root is not None:
            if not (self._local_root / key).exists():
                return False
        elif not sync(self.array.store.exists(self._prefix + key)):
            return False
        try:
            return bool(np.array_equal(self.array[region], block))
        except Exception:  # unreadable: a unit cut short by a crash; write it again
            return False

    def _put(self, key: str, data: bytes) -> None:
        if self._local_root is not None:
            path = self._local_root / key
            parent = path.parent
            if parent not in self._made_dirs:
                os.makedirs(parent, exist_ok=True)
                with self._dir_lock:
                    self._made_dirs.add(parent)
            # Write beside, then rename: a crash leaves the unit whole or absent, never cut.
            partial = path.with_name(f".{path.name}.{os.getpid()}-{threading.get_ident()}.part")
            with open(partial, "wb") as f:
                f.write(data)
            os.replace(partial, path)
            return
        buffer = default_buffer_prototype().buffer.from_bytes(data)
        sync(self.array.store.set(self._prefix + key, buffer))

    def wait(self) -> None:
        """Block until every queued unit is stored; re-raise the first error."""
        for future in self.futures:
            future.result()
        self.futures.clear()
        if self._partial:
            missing = sorted(self._partial)[:3]
            raise RuntimeError(f"{self.array.path}: units {missing} were never completed")
