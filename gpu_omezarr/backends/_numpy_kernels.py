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


def _split(x: np.ndarray, block: Sequence[int]) -> tuple[np.ndarray, tuple[int, ...]]:
    """View ``x`` (whole blocks only) as ``(out0, b0, out1, b1, ...)``; the block axes."""
    out = [n // b for n, b in zip(x.shape, block, strict=True)]
    split = x.reshape([d for pair in zip(out, block, strict=True) for d in pair])
    return split, tuple(range(1, 2 * x.ndim, 2))


def _blocks(x: np.ndarray, block: Sequence[int]) -> np.ndarray:
    """``x`` (whole blocks only) as ``(*out_shape, B)``: each block along the last axis."""
    split, axes = _split(x, block)
    order = [a - 1 for a in axes] + list(axes)
    return split.transpose(order).reshape(*split.shape[::2], -1)


def _round_half_even_div(total: np.ndarray, count: int) -> np.ndarray:
    if count == 1:
        return total
    if count & (count - 1) == 0 and total.dtype != object:
        # A power of two: (t + count/2 - 1 + (floor(t / count) & 1)) >> k rounds half to even;
        # the arithmetic shift floors below zero too.
        shift = count.bit_length() - 1
        odd = (total >> shift) & 1
        total += count // 2 - 1
        total += odd
        return total >> shift
    q = total // count  # floor division, so the remainder is in [0, count) below zero too
    twice = 2 * (total - q * count)
    return q + ((twice > count) | ((twice == count) & (q & 1 == 1)))


def _accumulator(dtype: np.dtype, count: int) -> type:
    """The narrowest signed integer that holds a sum of ``count`` values of ``dtype``."""
    info = np.iinfo(dtype)
    return np.int32 if count * (max(abs(info.min), info.max) + 1) < 2**31 else np.int64


def _block_sum(x: np.ndarray, block: Sequence[int], dtype: type) -> np.ndarray:
    """Sum of each block of ``x`` (whole blocks only) in ``dtype``: one strided add per
    position in the block, much faster than reducing a reshaped view."""
    out = [n // b for n, b in zip(x.shape, block, strict=True)]
    total = np.zeros(out, dtype)
    for offset in itertools.product(*map(range, block)):
        total += x[
            tuple(slice(o, o + n * b, b) for o, n, b in zip(offset, out, block, strict=True))
        ]
    return total


def _mean_blocks(x: np.ndarray, block: Sequence[int], dtype: np.dtype) -> np.ndarray:
    count = int(np.prod(block))
    if dtype.kind == "f":
        return _block_sum(x, block, np.float64) / count
    if dtype.itemsize < 8:
        return _round_half_even_div(_block_sum(x, block, _accumulator(dtype, count)), count)
    # 64-bit integers: exact with Python integers (slow floor path; the C kernels do it natively).
    split, axes = _split(x, block)
    return _round_half_even_div(split.astype(object).sum(axis=axes), count)


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
        if method == "mean":
            out[dst] = _mean_blocks(x[src], block, x.dtype)
        else:
            blocks = _blocks(x[src], block)
            as_int = blocks.view(np.uint8) if x.dtype == bool else blocks
            out[dst] = (
                _mode_blocks(as_int).view(x.dtype) if x.dtype == bool else _mode_blocks(as_int)
            )
    return out
