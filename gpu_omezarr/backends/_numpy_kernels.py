"""Pure-NumPy block downsampling: the floor that works wherever NumPy does.

The input splits into at most ``2**ndim`` regions in which every block has the same shape (full
blocks, and the partial edge block per axis). Each region is reshaped so its blocks lie along
one trailing axis of length ``B``, then reduced there without Python loops over blocks.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence

import numpy as np

from .base import output_shape


def _regions(shape: Sequence[int], factors: Sequence[int]) -> Iterator[tuple]:
    """(input slices, output slices, block shape) for each region of uniform block shape."""
    per_axis = []
    for n, f in zip(shape, factors, strict=True):
        full, tail = divmod(n, f)
        options = []
        if full:
            options.append((slice(0, full * f), slice(0, full), f))
        if tail:
            options.append((slice(full * f, n), slice(full, full + 1), tail))
        per_axis.append(options)
    for combo in itertools.product(*per_axis):
        yield tuple(c[0] for c in combo), tuple(c[1] for c in combo), tuple(c[2] for c in combo)


def _blocks(x: np.ndarray, block: Sequence[int]) -> np.ndarray:
    """View ``x`` (whole blocks only) as ``(*out_shape, B)``."""
    out = [n // b for n, b in zip(x.shape, block, strict=True)]
    split = x.reshape([d for pair in zip(out, block, strict=True) for d in pair])
    nd = x.ndim
    order = [2 * i for i in range(nd)] + [2 * i + 1 for i in range(nd)]
    return split.transpose(order).reshape(*out, -1)


def _round_half_even_div(total: np.ndarray, count: int) -> np.ndarray:
    q = total // count  # floor division, so r is in [0, count) for negative sums too
    twice = 2 * (total - q * count)
    return q + ((twice > count) | ((twice == count) & (q % 2 == 1))).astype(int)


def _mean_blocks(b: np.ndarray, dtype: np.dtype) -> np.ndarray:
    count = b.shape[-1]
    if dtype.kind == "f":
        return b.sum(axis=-1, dtype=np.float64) / count
    if dtype.itemsize < 8:
        return _round_half_even_div(b.sum(axis=-1, dtype=np.int64), count)
    # 64-bit integers: exact with Python integers (slow floor path; numba does it natively).
    total = b.astype(object).sum(axis=-1)
    return _round_half_even_div(total, count)


def _mode_blocks(b: np.ndarray) -> np.ndarray:
    counts = np.zeros(b.shape, dtype=np.int32)
    for j in range(b.shape[-1]):
        counts += b == b[..., j : j + 1]
    best = counts.max(axis=-1, keepdims=True)
    top = np.iinfo(b.dtype).max if b.dtype.kind in "iu" else True
    return np.where(counts == best, b, top).min(axis=-1)


def downsample(x: np.ndarray, factors: Sequence[int], method: str) -> np.ndarray:
    if method == "nearest":
        return np.ascontiguousarray(x[tuple(slice(None, None, f) for f in factors)])
    out = np.empty(output_shape(x.shape, factors), dtype=x.dtype)
    for src, dst, block in _regions(x.shape, factors):
        blocks = _blocks(x[src], block)
        if method == "mean":
            out[dst] = _mean_blocks(blocks, x.dtype).astype(x.dtype)
        else:
            as_int = blocks.view(np.uint8) if x.dtype == bool else blocks
            out[dst] = (
                _mode_blocks(as_int).view(x.dtype) if x.dtype == bool else _mode_blocks(as_int)
            )
    return out
