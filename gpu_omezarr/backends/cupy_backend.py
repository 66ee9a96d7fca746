"""The GPU backend: CuPy with hand-written kernels (no temporaries, one launch per level).

Importing this module does not import CuPy; :func:`load_cupy` does, and says why it cannot.
Tiles of a write go through :mod:`.cuda_pipeline` (pinned buffers, several streams).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from functools import cache
from typing import Any

import numpy as np

from . import _cuda_sources as src
from .base import (
    SUPPORTED_DTYPES,
    CascadeMixin,
    check_block,
    check_factors,
    check_method,
    output_shape,
)

THREADS = 256
MAX_BLOCKS = 65535 * 8  # grid-stride loops cover the rest
_PROBE = 'extern "C" __global__ void gpu_omezarr_probe(int* x) { if (x) x[0] = 1; }'
_PROBED: set[int] = set()  # id() of CuPy modules whose kernel compiler was seen working


class CupyUnavailable(RuntimeError):
    """CuPy cannot run here: not installed, no CUDA device, or a driver / compiler error.

    ``quiet``: nothing GPU-like is here (not installed, no device), so ``auto`` falls back to
    NumPy without a word; otherwise it falls back with a warning that gives the reason."""

    def __init__(self, message: str, quiet: bool = False) -> None:
        super().__init__(message)
        self.quiet = quiet


def load_cupy() -> Any:
    """Import CuPy and check that a CUDA device is usable and that kernels compile (NVRTC),
    or raise :class:`CupyUnavailable`."""
    try:
        import cupy
    except ImportError as exc:
        raise CupyUnavailable(
            f"backend='cupy': CuPy is not installed ({exc}); pip install 'gpu_omezarr[gpu]'",
            quiet=True,
        ) from exc
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:  # CUDARuntimeError and driver errors alike
        hint = ""
        if "InsufficientDriver" in str(exc):  # also what a missing libcuda (no --gpus) gives
            hint = " (no NVIDIA driver, or one too old; in a container: --gpus all)"
        raise CupyUnavailable(f"backend='cupy': the CUDA driver failed: {exc}{hint}") from exc
    if count < 1:
        raise CupyUnavailable("backend='cupy': no CUDA device is present", quiet=True)
    if id(cupy) not in _PROBED:
        # CuPy imports and sees a device without NVRTC (pip install cupy-cuda12x alone gives
        # that): compile one kernel now rather than fail in the middle of a write.
        try:
            cupy.RawKernel(_PROBE, "gpu_omezarr_probe").compile()
        except Exception as exc:
            raise CupyUnavailable(
                f"backend='cupy': CUDA kernels do not compile here ({type(exc).__name__}: "
                f"{exc}); install NVRTC (pip install 'nvidia-cuda-nvrtc-cu12') or the CUDA "
                "toolkit"
            ) from exc
        _PROBED.add(id(cupy))
    return cupy


def kernel_for(method: str, dtype: np.dtype) -> tuple[str, str]:
    """``(kernel name, element dtype)`` that computes ``method`` on native ``dtype``: bool is
    seen as uint8, 64-bit integers as int64 (``mean_wide`` takes the signedness as an
    argument)."""
    if method == "mode":
        return "mode", "uint8" if dtype == np.dtype(bool) else dtype.name
    if dtype.kind == "f":
        return "mean_float", dtype.name
    if dtype.itemsize == 8:
        return "mean_wide", "int64"
    return "mean_int", dtype.name


def _instantiations() -> tuple[tuple[str, str], ...]:
    found = set()
    for method in ("mean", "mode"):
        for dtype in SUPPORTED_DTYPES:
            try:
                check_method(method, dtype)
            except TypeError:
                continue
            found.add(kernel_for(method, dtype))
    return tuple(sorted(found))


INSTANTIATIONS = _instantiations()  # every (kernel, element dtype) the backend can launch


def kernel_source(name: str, element: str) -> str:
    """The CUDA C text of kernel ``name`` for ``element``, as given to ``RawKernel``."""
    return src.source(src.TEMPLATES[name], src.CTYPES[element])


@cache
def _kernel(name: str, element: str) -> Any:
    return load_cupy().RawKernel(kernel_source(name, element), name)


def native(x: np.ndarray) -> np.ndarray:
    """``x`` in native byte order. CuPy copies the bytes of a swapped array as if they were
    native (CuPy issues 3652, 4288), so every upload goes through this first."""
    return x if x.dtype.isnative else x.astype(x.dtype.newbyteorder("="))


class CupyBackend(CascadeMixin):
    """Block downsampling on a CUDA device; levels stay on the device until ``to_host``."""

    name = "cupy"

    def __init__(self) -> None:
        self.cupy = load_cupy()
        self.stats: dict[str, float] = {}  # per-stage times of pyramid_tiles, for benchmarks

    def is_device(self, x: Any) -> bool:
        return isinstance(x, self.cupy.ndarray)

    def asarray(self, x: Any) -> Any:
        if self.is_device(x):
            return x
        return self.cupy.asarray(native(np.asarray(x)))

    def to_host(self, x: Any) -> np.ndarray:
        return self.cupy.asnumpy(x)

    def downsample(self, x: Any, factors: Sequence[int], method: str) -> Any:
        cp = self.cupy
        x = self.asarray(x)
        dtype = check_method(method, x.dtype)
        factors = check_factors(factors, x.ndim)
        if x.ndim == 0 or x.size == 0 or x.ndim > 5:
            raise ValueError(f"x.shape={x.shape}: need 1 to 5 axes and at least one element")
        x = cp.ascontiguousarray(x.astype(dtype, copy=False))
        if all(f == 1 for f in factors):
            return x.copy()
        check_block(factors)
        if method == "nearest":
            return cp.ascontiguousarray(x[tuple(slice(None, None, f) for f in factors)])
        out = cp.empty(output_shape(x.shape, factors), dtype=dtype)
        pad = 5 - x.ndim
        n = (1,) * pad + x.shape
        f = (1,) * pad + factors
        m = (1,) * pad + out.shape
        args = [*map(np.int64, n), *map(np.int64, f), *map(np.int64, m), np.int64(out.size)]
        name, element = kernel_for(method, dtype)
        xs, outs = x.view(element), out.view(element)
        if name == "mean_wide":
            args.append(np.int32(dtype.kind == "u"))
        blocks = min(-(-out.size // THREADS), MAX_BLOCKS)
        _kernel(name, element)((blocks,), (THREADS,), (xs, outs, *args))
        return out

    def pyramid_tiles(
        self, tiles: Iterable[tuple[Any, Any]], factors: Sequence[Sequence[int]], method: str
    ) -> Iterator[tuple[Any, list[np.ndarray]]]:
        """For each ``(key, tile)``: ``(key, coarser levels on the host)``, in order, a few
        tiles behind: copies and kernels of neighbouring tiles overlap on the device."""
        from .cuda_pipeline import pyramid_tiles

        return pyramid_tiles(self, tiles, factors, method)
