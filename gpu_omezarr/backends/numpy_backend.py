"""The CPU backend: numba-compiled kernels, or pure NumPy where numba is not installed."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import _numpy_kernels
from .base import CascadeMixin, check_factors, check_method, output_shape

MAX_BLOCK = 1 << 20  # elements per block; keeps the 64-bit long division exact
# Images from which loading numba (about 0.5 s) beats the pure-NumPy kernels: their mean runs
# at about 1 GB/s, their mode at a few tens of MB/s (bench/results/kernels.md).
COMPILED_MIN_BYTES = {"mean": 256 * 2**20, "mode": 4 * 2**20, "nearest": 2**62}
# Seconds between GIL hand-overs while numba loads: in an A/B on fresh processes, 1 GiB y/x
# went from 2.82-2.98 s to 2.25-2.86 s with it.
LOADING_SWITCH_INTERVAL = 0.0005


class _Loader:
    """The numba kernels, loaded at most once per process and only when asked for.

    Importing numba and its first dispatch cost about half a second, so small images keep to
    the pure-NumPy kernels (the same bytes) and never pay it.
    """

    def __init__(self) -> None:
        self.kernels: Any = None
        self.tried = False
        self.lock = threading.Lock()

    def get(self) -> Any:
        with self.lock:
            if not self.tried and os.environ.get("GPU_OMEZARR_NUMBA", "1") != "0":
                self.tried = True
                # Loading holds the GIL for long stretches: hand it over every 0.5 ms instead
                # of 5 ms meanwhile, or the encoder threads (which need it between system
                # calls) starve. Once per process, so the setting is restored exactly.
                interval = sys.getswitchinterval()
                sys.setswitchinterval(min(interval, LOADING_SWITCH_INTERVAL))
                try:
                    self.kernels = self._load()
                finally:
                    sys.setswitchinterval(interval)
        return self.kernels

    @staticmethod
    def _load() -> Any:
        try:
            from . import _numba_kernels as kernels
        except ImportError:
            return None
        x = np.zeros((1, 1, 1, 2, 2), np.uint16)  # numba's one-off dispatch set-up, done
        kernels.mean_int(x, np.ones(5, np.int64), np.empty_like(x))  # before any real use
        return kernels


_LOADER = _Loader()


class NumpyBackend(CascadeMixin):
    """Block downsampling on the CPU, with numba kernels where numba is installed.

    ``compiled=None`` uses them once they are loaded (pure NumPy until then: same bytes);
    ``True`` waits for them and fails without numba; ``False`` never uses them.
    """

    def __init__(self, compiled: bool | None = None) -> None:
        self._compiled_mode = compiled
        if compiled is True and _LOADER.get() is None:
            raise ImportError("compiled=True needs numba (pip install numba)")
        self.name = "numpy-pure" if compiled is False else "numpy"

    @property
    def _kernels(self) -> Any:
        return None if self._compiled_mode is False else _LOADER.kernels

    def prepare(self, dtype: Any, method: str, nbytes: int) -> None:
        """Load the numba kernels where they pay for their half second of loading."""
        worth = COMPILED_MIN_BYTES.get(method, COMPILED_MIN_BYTES["mean"])
        if self._compiled_mode is None and nbytes >= worth:
            _LOADER.get()
        if self._kernels is not None:
            super().prepare(dtype, method, nbytes)  # this dtype's compiled kernel

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
        kernels = self._kernels
        if kernels is None or method == "nearest" or x.ndim > 5:
            return _numpy_kernels.downsample(x, factors, method)
        return _compiled(kernels, x, factors, method)


def _compiled(k: Any, x: np.ndarray, factors: tuple[int, ...], method: str) -> np.ndarray:
    pad = 5 - x.ndim
    x5 = np.ascontiguousarray(x).reshape((1,) * pad + x.shape)
    f5 = np.array((1,) * pad + factors, dtype=np.int64)
    out = np.empty(output_shape(x.shape, factors), dtype=x.dtype)
    out5 = out.reshape((1,) * pad + out.shape)
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
