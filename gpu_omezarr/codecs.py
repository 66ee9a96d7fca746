"""One chunk (or shard) of a zarr array to its stored bytes and back, with numcodecs.

zarr-python's own path costs an event-loop round trip, a fresh array and a copy per chunk;
the writer and the reader call the same C codecs directly. An array whose codec chain is not
one of those known here (``ChunkCodec.fast`` is false) is left to zarr itself: correct,
slower.
"""

from __future__ import annotations

import functools
import gzip
import io
import itertools
import math
import threading
from collections.abc import Mapping, Sequence
from typing import Any

import numcodecs
import numcodecs.abc
import numpy as np
import zarr
from google_crc32c import value as crc32c

from .gpu_zstd import zstd_codec

EMPTY = np.uint64(2**64 - 1)  # shard index entry of a chunk not stored


class ChunkCodec:
    """Encodes and decodes the chunks of one array (C order, fill-padded at the edges);
    encodes whole shards where the array is sharded."""

    def __init__(self, array: zarr.Array) -> None:
        self._local = threading.local()
        meta = array.metadata
        self.chunk_shape: tuple[int, ...]
        self.shard_shape: tuple[int, ...] | None = None
        self.index_at_end = True  # where a shard keeps its index (zarr's default: the end)
        self.fill = (
            np.asarray(array.fill_value, dtype=array.dtype) if array.fill_value is not None else 0
        )
        # Byte order as stored: v2 keeps the dtype's own, v3 says it in its bytes codec.
        self.stored = np.dtype(array.dtype)
        self.chain: list[Any] | None
        if meta.zarr_format == 2:
            self.chunk_shape = tuple(meta.chunks)
            codecs = [*(meta.filters or ()), *([meta.compressor] if meta.compressor else [])]
            codecs = [
                zstd_codec(c.level, c.checksum) if isinstance(c, numcodecs.Zstd) else c
                for c in codecs
            ]
            self.chain = codecs if meta.order == "C" else None
            return
        self.stored = self.stored.newbyteorder("<")
        codecs = list(meta.codecs)
        index_ok = True
        if len(codecs) == 1 and type(codecs[0]).__name__ == "ShardingCodec":
            sharding = codecs[0]
            self.shard_shape = tuple(meta.chunk_grid.chunk_shape)
            self.chunk_shape = tuple(sharding.chunk_shape)
            self.index_at_end = sharding.index_location.value == "end"
            codecs = list(sharding.codecs)
            index = list(sharding.index_codecs)
            index_ok = (
                len(index) == 2
                and _is_little_bytes(index[0])
                and type(index[1]).__name__ == "Crc32cCodec"
            )
        else:
            self.chunk_shape = tuple(meta.chunk_grid.chunk_shape)
        self.chain = None
        if codecs and _is_little_bytes(codecs[0]) and index_ok:
            self.chain = _numcodecs_chain(codecs[1:])

    @property
    def grid(self) -> tuple[int, ...]:
        """Inner chunks per shard along each axis (all ones when unsharded)."""
        if self.shard_shape is None:
            return (1,) * len(self.chunk_shape)
        return tuple(s // c for s, c in zip(self.shard_shape, self.chunk_shape, strict=True))

    @property
    def index_nbytes(self) -> int:
        """Size of a shard's index: an (offset, length) pair per inner chunk, and a crc32c."""
        return 16 * math.prod(self.grid) + 4

    @property
    def fast(self) -> bool:
        """Whether this module encodes the array's units (else zarr does)."""
        return self.chain is not None and self.index_at_end

    @property
    def readable(self) -> bool:
        """Whether this module decodes the array's chunks (sharded ones: either index place)."""
        return self.chain is not None

    def stores_as(self, source: ChunkCodec) -> bool:
        """Whether ``source``'s stored chunks are what this codec stores for the same values:
        the same chunk shape (this array's inner chunks, where sharded), byte order and
        codecs with the same settings. Then they can be copied as they are, not encoded."""
        return (
            self.fast
            and source.chain is not None
            and self.chunk_shape == source.chunk_shape
            and self.stored == source.stored
            and [_settings(c) for c in self.chain] == [_settings(c) for c in source.chain]
        )

    def _buffer(self, dtype: np.dtype) -> np.ndarray:
        buffer = getattr(self._local, "buffer", None)
        if buffer is None or buffer.dtype != dtype:
            buffer = self._local.buffer = np.empty(self.chunk_shape, dtype)
        return buffer

    def encode_many(self, blocks: Sequence[np.ndarray]) -> list[bytes]:
        """Stored bytes of several chunks: one batch on the device where the codec is
        nvCOMP's (the only one with ``encode_many``), else one by one."""
        chain = self.chain or ()
        if len(chain) != 1 or not hasattr(chain[0], "encode_many"):
            return [self.encode(b) for b in blocks]
        return chain[0].encode_many([self._whole(b, copy=True) for b in blocks])

    def _whole(self, block: np.ndarray, copy: bool = False) -> np.ndarray:
        """``block`` as a whole C-contiguous chunk in the stored dtype (edges fill-padded)."""
        if block.shape != self.chunk_shape or not block.flags.c_contiguous:
            # Gather into this thread's reusable buffer: a fresh one per chunk would cost
            # page faults (the allocator maps and zeroes large blocks anew every time).
            buffer = np.empty(self.chunk_shape, block.dtype) if copy else None
            buffer = self._buffer(block.dtype) if buffer is None else buffer
            if block.shape != self.chunk_shape:
                buffer[...] = self.fill
            buffer[tuple(slice(0, n) for n in block.shape)] = block
            block = buffer
        return block.astype(self.stored, copy=False)

    def encode(self, block: np.ndarray) -> bytes:
        """Stored bytes of one chunk; ``block`` may be a partial edge chunk."""
        data: Any = self._whole(block)
        for codec in self.chain or ():
            data = codec.encode(data)
        return bytes(data) if not isinstance(data, bytes) else data

    def decode(self, data: Any, out: np.ndarray | None = None) -> np.ndarray:
        """One whole chunk (its stored shape, edge padding included) from its stored bytes;
        into ``out`` (C-contiguous, the stored dtype and chunk shape) where the last codec
        can decode in place, else a new array."""
        chain = list(reversed(self.chain or ()))
        for i, codec in enumerate(chain):
            if out is not None and i == len(chain) - 1 and isinstance(codec, numcodecs.abc.Codec):
                data = codec.decode(data, out)
            else:
                data = codec.decode(data)
        return np.frombuffer(data, self.stored).reshape(self.chunk_shape)

    def decode_index(self, data: bytes) -> np.ndarray:
        """A shard's index, shape ``(*grid, 2)`` of (offset, length); ``EMPTY`` where an
        inner chunk is not stored. Refuses an index whose checksum does not match."""
        body, stored = data[:-4], int.from_bytes(data[-4:], "little")
        if crc32c(body) != stored:
            raise ValueError("crc32c checksum mismatch: the shard index is corrupt")
        return np.frombuffer(body, "<u8").reshape(*self.grid, 2)

    def encode_shard(
        self,
        block: np.ndarray,
        stored: Mapping[tuple[int, ...], Any] | None = None,
        first: Sequence[int] = (),
    ) -> bytes:
        """Stored bytes of one shard: inner chunks in Morton order (as zarr-python writes
        them: neighbours stay near), then the index (C order) and its crc32c.

        ``stored``: inner chunks' bytes already encoded (by grid position in the array, the
        shard's first inner chunk at ``first``), used as they are where present."""
        assert self.shard_shape is not None
        grid = self.grid
        index = np.full((*grid, 2), EMPTY, dtype="<u8")
        present, encoded, missing = [], {}, []
        for pos in _morton_order(grid):
            region = tuple(
                slice(p * c, min((p + 1) * c, n))
                for p, c, n in zip(pos, self.chunk_shape, block.shape, strict=True)
            )
            if any(r.start >= r.stop for r in region):
                continue  # beyond the array's edge: left empty, read as fill value
            present.append(pos)
            if stored is not None:
                found = stored.get(tuple(f + p for f, p in zip(first, pos, strict=True)))
                if found is not None:
                    encoded[pos] = found
                    continue
            missing.append((pos, block[region]))
        # One batch: on the GPU encoder, every inner chunk of the shard in one call.
        for (pos, _), data in zip(missing, self.encode_many([b for _, b in missing]), strict=True):
            encoded[pos] = data
        parts = []
        offset = 0
        for pos in present:
            index[pos] = (offset, len(encoded[pos]))
            parts.append(encoded[pos])
            offset += len(encoded[pos])
        index_bytes = index.tobytes()
        parts.append(index_bytes)
        parts.append(np.uint32(crc32c(index_bytes)).astype("<u4").tobytes())
        return b"".join(parts)


@functools.cache
def _morton_order(grid: tuple[int, ...]) -> list[tuple[int, ...]]:
    """Positions of ``grid`` ordered by their Morton code, the first axis in the lowest bit
    and axes dropping out once their bits are used up (zarr-python's order)."""
    bits = [(n - 1).bit_length() for n in grid]

    def code(pos: tuple[int, ...]) -> int:
        value, out = 0, 0
        for bit in range(max(bits, default=0)):
            for axis, width in enumerate(bits):
                if bit < width:
                    value |= (pos[axis] >> bit & 1) << out
                    out += 1
        return value

    return sorted(itertools.product(*map(range, grid)), key=code)


def _numcodecs_chain(codecs: Sequence[Any]) -> list[Any] | None:
    """numcodecs equivalents of zarr v3 bytes-to-bytes codecs, or None if one is unknown."""
    chain = []
    for codec in codecs:
        name = type(codec).__name__
        if name == "ZstdCodec":
            chain.append(zstd_codec(codec.level, codec.checksum))  # on the GPU where chosen
        elif name == "GzipCodec":
            chain.append(_Gzip(codec.level))
        elif name == "Crc32cCodec":
            chain.append(_Crc32c())
        else:
            return None
    return chain


class _Gzip:
    """zarr's ``gzip`` codec with the header's time stamp zeroed (numcodecs writes the current
    time), so the same image always gives the same bytes."""

    def __init__(self, level: int) -> None:
        self.level = level

    def encode(self, data: Any) -> bytes:
        out = io.BytesIO()
        with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=self.level, mtime=0) as f:
            f.write(memoryview(data).cast("B"))
        return out.getvalue()

    def decode(self, data: Any) -> bytes:
        return gzip.decompress(data)


class _Crc32c:
    """zarr v3's ``crc32c`` codec: the checksum appended, little endian."""

    def encode(self, data: Any) -> bytes:
        data = bytes(data)
        return data + np.uint32(crc32c(data)).astype("<u4").tobytes()

    def decode(self, data: Any) -> bytes:
        data = bytes(data)
        body, stored = data[:-4], int.from_bytes(data[-4:], "little")
        if crc32c(body) != stored:
            raise ValueError("crc32c checksum mismatch: the chunk is corrupt")
        return body


def _settings(codec: Any) -> Any:
    """What a codec is and how it is set (numcodecs' config, or our own codecs' fields)."""
    if isinstance(codec, numcodecs.abc.Codec):
        return codec.get_config()
    return type(codec).__name__, vars(codec)


def _is_little_bytes(codec: Any) -> bool:
    endian = getattr(codec, "endian", None)
    return type(codec).__name__ == "BytesCodec" and (endian is None or endian.value == "little")
