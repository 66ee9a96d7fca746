"""The CPU backend: compiled C kernels (built at install), or pure NumPy where they are not."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from . import _numpy_kernels
from .base import MAX_BLOCK, CascadeMixin, check_block, check_factors, check_method, output_shape

try:
    from . import _ckernels
except ImportError:  # built without a C compiler: the pure-NumPy kernels give the same bytes
    _ckernels = None


__all__ = ["MAX_BLOCK", "NumpyBackend"]


class NumpyBackend(CascadeMixin):
    """Block downsampling on the CPU, with the compiled kernels where they were built.

    ``compiled=None`` uses them when present; ``True`` fails without them; ``False`` never
    uses them (the pure-NumPy kernels: the same bytes, 5-50x slower).
    """

    fallback: str | None = None  # set by get_backend("auto"): why CuPy was not used

    def __init__(self, compiled: bool | None = None) -> None:
        if compiled is True and _ckernels is None:
            raise ImportError(
                "compiled=True: gpu_omezarr.backends._ckernels was not built "
                "(reinstall with a C compiler present)"
            )
        self._kernels = None if compiled is False else _ckernels
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
        check_block(factors)
        kernels = self._kernels
        if kernels is None or method == "nearest" or x.ndim > 5:
            return _numpy_kernels.downsample(x, factors, method)
        return _compiled(kernels, x, factors, method)


def _compiled(kernels: Any, x: np.ndarray, factors: tuple[int, ...], method: str) -> np.ndarray:
    # Any view whose rows are contiguous goes in as it is (a tile of a larger array): a copy
    # would cost as much as the kernel.
    if x.strides[-1] != x.itemsize or any(s % x.itemsize for s in x.strides):
        x = np.ascontiguousarray(x)
    out = np.empty(output_shape(x.shape, factors), dtype=x.dtype)
    kernels.downsample(method, x.dtype.name, x, out, (1,) * (5 - x.ndim) + factors)
    return out
