"""The CPU backend: numba-compiled kernels, or pure NumPy where numba is not installed."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import _numpy_kernels
from .base import CascadeMixin, check_factors, check_method, output_shape

MAX_BLOCK = 1 << 20  # elements per block; keeps the 64-bit long division exact


def _numba_kernels() -> Any:
    if os.environ.get("GPU_OMEZARR_NUMBA", "1") == "0":
        return None
    try:
        from . import _numba_kernels as kernels
    except ImportError:
        return None
    return kernels


class NumpyBackend(CascadeMixin):
    """Block downsampling on the CPU. ``compiled=False`` forces the pure-NumPy kernels."""

    def __init__(self, compiled: bool | None = None) -> None:
        self._kernels = _numba_kernels() if compiled in (None, True) else None
        if compiled and self._kernels is None:
            raise ImportError("compiled=True needs numba (pip install numba)")
        self.name = "numpy" if self._kernels is not None else "numpy-pure"

    def asarray(self, x: Any) -> np.ndarray:
        if hasattr(x, "get") and type(x).__module__.startswith("cupy"):
            x = x.get()
        return np.asarray(x)

    def to_host(self, x: Any) -> np.ndarray:
        return np.asarray(x)

    def downsample(self, x: Any, factors: Sequence[int], method: str) -> np.ndarray:
        x = np.asarray(x)
        dtype = check_method(method, x.dtype)
        factors = check_factors(factors, x.ndim)
        if x.ndim == 0 or x.size == 0:
            raise ValueError(f"x.shape={x.shape}: need a non-empty array of at least one axis")
        if x.dtype != dtype:
            x = x.astype(dtype)
        if all(f == 1 for f in factors):
            return x.copy()
        if np.prod(factors, dtype=np.int64) > MAX_BLOCK:
            raise ValueError(f"factors={factors}: a block of more than {MAX_BLOCK} elements")
        if self._kernels is None or method == "nearest" or x.ndim > 5:
            return _numpy_kernels.downsample(x, factors, method)
        return self._compiled(x, factors, method)

    def _compiled(self, x: np.ndarray, factors: tuple[int, ...], method: str) -> np.ndarray:
        pad = 5 - x.ndim
        x5 = np.ascontiguousarray(x).reshape((1,) * pad + x.shape)
        f5 = np.array((1,) * pad + factors, dtype=np.int64)
        out = np.empty(output_shape(x.shape, factors), dtype=x.dtype)
        out5 = out.reshape((1,) * pad + out.shape)
        k = self._kernels
        if method == "mode":
            k.mode(
                x5.view(np.uint8) if x.dtype == bool else x5,
                f5,
                out5.view(np.uint8) if x.dtype == bool else out5,
            )
        elif x.dtype.kind == "f":
            k.mean_float(x5, f5, out5)
        elif x.dtype.itemsize == 8:
            k.mean_wide(x5.view(np.int64), f5, out5.view(np.int64), x.dtype.kind == "u")
        else:
            k.mean_int(x5, f5, out5)
        return out
