"""zstd encoding on the GPU with NVIDIA nvCOMP (``nvidia-nvcomp-cu12`` / ``-cu13``).

``nvidia.nvcomp.Codec(algorithm="Zstd", bitstream_kind=RAW)`` writes standard zstd frames
(``NVCOMP_NATIVE`` adds nvCOMP's own header: no CPU reader decodes that). A shard's inner
chunks are encoded as one batch on the device and only the compressed bytes come back.
nvCOMP has no compression levels, so the bytes differ from CPU zstd at the array's level; the
contract is that every CPU reader decodes them to the same array (frames may lack the content
size: numcodecs >= 0.16.2 decodes those). Decoding stays on the CPU (numcodecs).

Chosen for zstd arrays without checksums when nvCOMP imports and the CuPy backend can run;
``GPU_OMEZARR_GPU_ZSTD=off`` turns it off, ``on`` makes its absence an error.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from functools import cache
from typing import Any

import numcodecs
import numpy as np

ENV_VAR = "GPU_OMEZARR_GPU_ZSTD"
MAX_CHUNK = 16 * 2**20  # nvCOMP's largest zstd chunk; larger chunks are encoded on the CPU


def setting() -> str:
    value = (os.environ.get(ENV_VAR) or "auto").lower()
    if value not in ("auto", "on", "off"):
        raise ValueError(f"{ENV_VAR}={value!r}: expected auto, on or off")
    return value


@cache
def _available() -> tuple[Any, Any] | str:
    """``(nvcomp, cupy)``, or why they cannot run."""
    try:
        from nvidia import nvcomp
    except ImportError as exc:
        return f"nvCOMP is not installed ({exc}); pip install nvidia-nvcomp-cu12"
    from .backends.cupy_backend import CupyUnavailable, load_cupy

    try:
        return nvcomp, load_cupy()
    except CupyUnavailable as exc:
        return str(exc)


def zstd_codec(level: int, checksum: bool) -> Any:
    """The zstd encoder for an array: nvCOMP's where chosen (module docstring), else
    numcodecs'. Both decode with numcodecs."""
    cpu = numcodecs.Zstd(level=level, checksum=checksum)
    mode = setting()
    if mode == "off" or checksum:  # nvCOMP's RAW frames carry no checksum
        return cpu
    found = _available()
    if isinstance(found, str):
        if mode == "on":
            raise RuntimeError(f"{ENV_VAR}=on: {found}")
        return cpu
    return NvcompZstd(level, *found)


class NvcompZstd:
    """numcodecs' Zstd interface (``encode``, ``decode``, ``get_config``) plus
    ``encode_many``: a batch of chunks encoded on the device at once."""

    def __init__(self, level: int, nvcomp: Any, cupy: Any) -> None:
        self.level = level
        self._nvcomp, self._cupy = nvcomp, cupy
        self._cpu = numcodecs.Zstd(level=level)
        self._local = threading.local()  # an nvCOMP Codec is not thread-safe: one per thread

    def get_config(self) -> dict:
        return {"id": "zstd", "level": self.level, "checksum": False, "encoder": "nvcomp"}

    def _codec(self) -> Any:
        codec = getattr(self._local, "codec", None)
        if codec is None:
            nv = self._nvcomp
            codec = self._local.codec = nv.Codec(
                algorithm="Zstd", bitstream_kind=nv.BitstreamKind.RAW
            )
        return codec

    def encode(self, data: Any) -> bytes:
        return self.encode_many([data])[0]

    def encode_many(self, blocks: Sequence[Any]) -> list[bytes]:
        """Standard zstd frames of ``blocks`` (host arrays or buffers), in order."""
        flat = [np.ascontiguousarray(b).reshape(-1).view(np.uint8) for b in blocks]
        if any(f.nbytes > MAX_CHUNK or f.nbytes == 0 for f in flat):
            return [self._cpu.encode(f) for f in flat]
        cp, nv = self._cupy, self._nvcomp
        device = [cp.asarray(f) for f in flat]
        encoded = self._codec().encode(nv.as_arrays(device)).cpu()
        return [np.asarray(encoded[i]).tobytes() for i in range(len(flat))]

    def decode(self, data: Any, out: Any = None) -> Any:
        return self._cpu.decode(data, out)
