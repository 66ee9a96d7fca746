"""The backend protocol and the semantics every backend shares (DESIGN.md, "Downsampling").

For integer factors ``f`` per axis the output has ``ceil(n / f)`` elements per axis; output
element ``i`` covers input ``[i*f, min((i+1)*f, n))``: edge blocks may be partial and only
their real elements count.

- ``nearest``: the block's first element (``x[::f]``); every dtype.
- ``mean``: exact for integers (wide sum), rounded half to even, stored in the input dtype;
  floats accumulated in float64. Not for bool.
- ``mode``: the most frequent value, ties to the smallest; integers and bool only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

METHODS = ("mean", "nearest", "mode")
INTEGER_DTYPES = tuple(
    np.dtype(t) for t in ("uint8", "uint16", "uint32", "uint64", "int8", "int16", "int32", "int64")
)
FLOAT_DTYPES = (np.dtype("float32"), np.dtype("float64"))
SUPPORTED_DTYPES = (*INTEGER_DTYPES, *FLOAT_DTYPES, np.dtype(bool))


def check_method(method: str, dtype: Any) -> np.dtype:
    """Validate ``method`` for ``dtype``; return the dtype normalised to native byte order."""
    if method not in METHODS:
        raise ValueError(f"method={method!r}: expected one of {', '.join(METHODS)}")
    dtype = np.dtype(dtype)
    native = dtype.newbyteorder("=")
    if native not in SUPPORTED_DTYPES:
        raise TypeError(
            f"dtype={dtype}: unsupported; use one of {', '.join(str(d) for d in SUPPORTED_DTYPES)}"
        )
    if method == "mean" and native == np.dtype(bool):
        raise TypeError(
            "method='mean' with dtype=bool: a mean of booleans is not boolean; "
            "use 'mode' or 'nearest'"
        )
    if method == "mode" and native.kind == "f":
        raise TypeError(f"method='mode' with dtype={dtype}: mode is for integer or bool labels")
    return native


def check_factors(factors: Sequence[int], ndim: int) -> tuple[int, ...]:
    factors = tuple(factors)
    if len(factors) != ndim:
        raise ValueError(f"factors={factors}: need one factor per axis ({ndim})")
    for f in factors:
        if isinstance(f, bool) or not isinstance(f, int | np.integer) or f < 1:
            raise ValueError(f"factors={factors}: factors must be integers >= 1")
    return tuple(int(f) for f in factors)


MAX_BLOCK = 1 << 20  # elements per block; keeps the 64-bit long division exact (both backends)


def check_block(factors: Sequence[int]) -> None:
    """Refuse blocks of more than :data:`MAX_BLOCK` elements, on every backend alike."""
    if np.prod(factors, dtype=np.int64) > MAX_BLOCK:
        raise ValueError(f"factors={tuple(factors)}: a block of more than {MAX_BLOCK} elements")


def output_shape(shape: Sequence[int], factors: Sequence[int]) -> tuple[int, ...]:
    """``ceil(n / f)`` per axis."""
    return tuple(-(-n // f) for n, f in zip(shape, factors, strict=True))


class Backend(Protocol):
    """What the writer needs from an array library: block downsampling and transfers."""

    name: str

    def asarray(self, x: Any) -> Any:
        """``x`` as this backend's array (host to device for CuPy)."""

    def to_host(self, x: Any) -> np.ndarray:
        """A NumPy array with the contents of ``x`` (device to host for CuPy)."""

    def downsample(self, x: Any, factors: Sequence[int], method: str) -> Any:
        """One level: block-reduce ``x`` by ``factors`` with ``method``."""

    def pyramid(self, x: Any, factors: Sequence[Sequence[int]], method: str) -> list[Any]:
        """Several levels in one call, each from the previous (a cascade); ``factors[i]``
        is relative to the level before. Returns the coarser levels only."""


class CascadeMixin:
    """``pyramid`` from ``downsample``: each level computed from the previous as stored."""

    def pyramid(self, x: Any, factors: Sequence[Sequence[int]], method: str) -> list[Any]:
        levels = []
        for level_factors in factors:
            x = self.downsample(x, level_factors, method)
            levels.append(x)
        return levels
