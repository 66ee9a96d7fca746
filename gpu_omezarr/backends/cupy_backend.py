"""The GPU backend: CuPy with hand-written kernels (no temporaries, one launch per level).

Importing this module does not import CuPy; :func:`load_cupy` does, and says why it cannot.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

import numpy as np

from . import _cuda_sources as src
from .base import CascadeMixin, check_factors, check_method, output_shape

THREADS = 256


class CupyUnavailable(RuntimeError):
    """CuPy cannot run here: not installed, no CUDA device, or a driver error."""


def load_cupy() -> Any:
    """Import CuPy and check that a CUDA device is usable, or raise :class:`CupyUnavailable`."""
    try:
        import cupy
    except ImportError as exc:
        raise CupyUnavailable(
            f"backend='cupy': CuPy is not installed ({exc}); pip install 'gpu_omezarr[gpu]'"
        ) from exc
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:  # CUDARuntimeError and driver errors alike
        hint = ""
        if "InsufficientDriver" in str(exc):  # also what a missing libcuda (no --gpus) gives
            hint = " (no NVIDIA driver, or one too old; in a container: --gpus all)"
        raise CupyUnavailable(f"backend='cupy': the CUDA driver failed: {exc}{hint}") from exc
    if count < 1:
        raise CupyUnavailable("backend='cupy': no CUDA device is present")
    return cupy


@cache
def _kernel(name: str, dtype: str) -> Any:
    cupy = load_cupy()
    template = {
        "mean_int": src.MEAN_INT,
        "mean_float": src.MEAN_FLOAT,
        "mean_wide": src.MEAN_WIDE,
        "mode": src.MODE,
    }[name]
    return cupy.RawKernel(src.source(template, src.CTYPES[dtype]), name)


class CupyBackend(CascadeMixin):
    """Block downsampling on a CUDA device; levels stay on the device until ``to_host``."""

    name = "cupy"

    def __init__(self) -> None:
        self.cupy = load_cupy()

    def asarray(self, x: Any) -> Any:
        return self.cupy.asarray(x)

    def to_host(self, x: Any) -> np.ndarray:
        return self.cupy.asnumpy(x)

    def downsample(self, x: Any, factors: Sequence[int], method: str) -> Any:
        cp = self.cupy
        x = cp.asarray(x)
        dtype = check_method(method, x.dtype)
        factors = check_factors(factors, x.ndim)
        if x.ndim == 0 or x.size == 0 or x.ndim > 5:
            raise ValueError(f"x.shape={x.shape}: need 1 to 5 axes and at least one element")
        x = cp.ascontiguousarray(x.astype(dtype, copy=False))
        if all(f == 1 for f in factors):
            return x.copy()
        if method == "nearest":
            return cp.ascontiguousarray(x[tuple(slice(None, None, f) for f in factors)])
        out = cp.empty(output_shape(x.shape, factors), dtype=dtype)
        pad = 5 - x.ndim
        n = (1,) * pad + x.shape
        f = (1,) * pad + factors
        m = (1,) * pad + out.shape
        args = [*map(np.int64, n), *map(np.int64, f), *map(np.int64, m), np.int64(out.size)]
        blocks = min(-(-out.size // THREADS), 65535 * 8)
        if method == "mode":
            name, xs, outs = "mode", x, out
            if dtype == np.dtype(bool):
                xs, outs = x.view(cp.uint8), out.view(cp.uint8)
        elif dtype.kind == "f":
            name, xs, outs = "mean_float", x, out
        elif dtype.itemsize == 8:
            name, xs, outs = "mean_wide", x.view(cp.int64), out.view(cp.int64)
            args.append(np.int32(dtype.kind == "u"))
        else:
            name, xs, outs = "mean_int", x, out
        _kernel(name, str(xs.dtype)).__call__((blocks,), (THREADS,), (xs, outs, *args))
        return out
