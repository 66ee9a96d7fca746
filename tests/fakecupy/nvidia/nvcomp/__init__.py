"""A stand-in for the part of ``nvidia.nvcomp`` (nvCOMP 6's Python API) that gpu_omezarr uses:
``Codec(algorithm="Zstd", bitstream_kind=BitstreamKind.RAW).encode(as_arrays([...]))``, the
batch copied back with ``.cpu()`` and read entry by entry. Encodes with CPU zstd (the
``zstandard`` package) into frames *without* a content size, the harder case for readers.
Strict: device arrays (the CuPy stand-in's) in, RAW zstd only, one thread per Codec."""

from __future__ import annotations

import enum
import threading
from collections import Counter

import cupy
import numpy as np
import zstandard

__version__ = "6.0.0+fake"
STATS: Counter = Counter()


class BitstreamKind(enum.Enum):
    NVCOMP_NATIVE = 0
    RAW = 1
    WITH_UNCOMPRESSED_SIZE = 2


class Array:
    def __init__(self, data, device: bool) -> None:
        self._data, self._device = data, device

    @property
    def buffer_size(self) -> int:
        return self._data.nbytes

    def cpu(self) -> Array:
        return Array(self._data.get(), False) if self._device else self

    @property
    def __array_interface__(self) -> dict:
        if self._device:
            raise TypeError("a device nvcomp.Array has no __array_interface__; use .cpu()")
        return self._data.__array_interface__


class BatchArray:
    def __init__(self, arrays: list[Array]) -> None:
        self._arrays = arrays

    def __len__(self) -> int:
        return len(self._arrays)

    def __getitem__(self, i: int) -> Array:
        return self._arrays[i]

    def cpu(self) -> BatchArray:
        return BatchArray([a.cpu() for a in self._arrays])

    @property
    def buffer_sizes(self) -> list[int]:
        return [a.buffer_size for a in self._arrays]


def as_array(source, cuda_stream: int = 0) -> Array:
    if isinstance(source, cupy.ndarray):
        return Array(source, True)
    if isinstance(source, np.ndarray):
        return Array(source, False)
    raise TypeError(f"as_array: {type(source)} has no array interface")


def as_arrays(sources: list, cuda_stream: int = 0) -> BatchArray:
    return BatchArray([as_array(s) for s in sources])


class Codec:
    def __init__(self, **kwargs) -> None:
        if kwargs.get("algorithm") != "Zstd" or kwargs.get("bitstream_kind") != BitstreamKind.RAW:
            raise NotImplementedError(f"stand-in: only Zstd with BitstreamKind.RAW, not {kwargs}")
        self._thread = threading.get_ident()
        STATS["codecs"] += 1

    def encode(self, srcs, out=None, compression_config=None):
        if threading.get_ident() != self._thread:
            raise RuntimeError("an nvcomp.Codec used from two threads (it is thread-local)")
        batch = srcs if isinstance(srcs, BatchArray) else BatchArray([srcs])
        frames = []
        for a in batch._arrays:
            if not a._device:
                raise TypeError("stand-in: encode takes device arrays (the chunks go to the GPU)")
            raw = a._data.get().tobytes()  # the device's bytes, as the GPU would read them
            frame = zstandard.ZstdCompressor(level=1, write_content_size=False).compress(raw)
            frames.append(Array(cupy.ndarray(_array=np.frombuffer(frame, np.uint8).copy()), True))
        STATS["batches"] += 1
        STATS["chunks"] += len(frames)
        return BatchArray(frames) if isinstance(srcs, BatchArray) else frames[0]
