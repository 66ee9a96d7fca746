"""Compiled CPU kernels (numba): one pass over the input in memory order, no temporaries.

Inputs are seen as 5-D (leading axes of length 1 added). Means accumulate one output row at a
time: every input row of a block row is added into a row of accumulators, then the row is
divided and rounded half to even. 64-bit integers are split into 32-bit halves so their sums
stay exact in int64; the quotient is formed by long division.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_LO = np.int64(0xFFFFFFFF)


@njit(nogil=True, cache=True, inline="always")
def _rhe(q, r, n):
    """floor quotient q and remainder r in [0, n): round half to even."""
    twice = 2 * r
    if twice > n or (twice == n and (q & 1) == 1):
        return q + 1
    return q


@njit(nogil=True, cache=True, inline="always")
def _log2(n):
    """log2 of n when n is a power of two, else -1."""
    if n & (n - 1):
        return -1
    s = 0
    while (1 << s) < n:
        s += 1
    return s


@njit(nogil=True, cache=True)
def mean_int(x, factors, out):
    """Mean of integers of at most 32 bits, exact via int64 sums."""
    f0, f1, f2, f3, f4 = factors
    n0, n1, n2, n3, n4 = x.shape
    m0, m1, m2, m3, m4 = out.shape
    full = n4 // f4
    tail = n4 - full * f4
    acc = np.zeros(m4, np.int64)
    for o0 in range(m0):
        for o1 in range(m1):
            for o2 in range(m2):
                for o3 in range(m3):
                    acc[:] = 0
                    rows = 0
                    for i0 in range(o0 * f0, min(o0 * f0 + f0, n0)):
                        for i1 in range(o1 * f1, min(o1 * f1 + f1, n1)):
                            for i2 in range(o2 * f2, min(o2 * f2 + f2, n2)):
                                for i3 in range(o3 * f3, min(o3 * f3 + f3, n3)):
                                    row = x[i0, i1, i2, i3]
                                    rows += 1
                                    if f4 == 2:
                                        for o in range(full):
                                            acc[o] += np.int64(row[2 * o]) + np.int64(
                                                row[2 * o + 1]
                                            )
                                    else:
                                        for o in range(full):
                                            s = np.int64(0)
                                            for k in range(o * f4, o * f4 + f4):
                                                s += np.int64(row[k])
                                            acc[o] += s
                                    if tail:
                                        s = np.int64(0)
                                        for k in range(full * f4, n4):
                                            s += np.int64(row[k])
                                        acc[full] += s
                    dst = out[o0, o1, o2, o3]
                    n = rows * f4
                    shift = _log2(n)
                    if shift >= 0:  # the usual case (2x2x2...): a shift, not a division
                        half = np.int64(1) << max(shift - 1, 0)
                        low = (np.int64(1) << shift) - 1
                        for o in range(full):
                            a = acc[o]
                            q = a >> shift
                            r = a & low
                            dst[o] = q + (
                                1 if r > half or (r == half and n > 1 and (q & 1) == 1) else 0
                            )
                    else:
                        for o in range(full):
                            q = acc[o] // n
                            dst[o] = _rhe(q, acc[o] - q * n, n)
                    if tail:
                        n = rows * tail
                        q = acc[full] // n
                        dst[full] = _rhe(q, acc[full] - q * n, n)


@njit(nogil=True, cache=True)
def mean_float(x, factors, out):
    """Mean of floats, accumulated in float64 in a fixed order."""
    f0, f1, f2, f3, f4 = factors
    n0, n1, n2, n3, n4 = x.shape
    m0, m1, m2, m3, m4 = out.shape
    full = n4 // f4
    tail = n4 - full * f4
    acc = np.zeros(m4, np.float64)
    for o0 in range(m0):
        for o1 in range(m1):
            for o2 in range(m2):
                for o3 in range(m3):
                    acc[:] = 0.0
                    rows = 0
                    for i0 in range(o0 * f0, min(o0 * f0 + f0, n0)):
                        for i1 in range(o1 * f1, min(o1 * f1 + f1, n1)):
                            for i2 in range(o2 * f2, min(o2 * f2 + f2, n2)):
                                for i3 in range(o3 * f3, min(o3 * f3 + f3, n3)):
                                    row = x[i0, i1, i2, i3]
                                    rows += 1
                                    for o in range(m4):
                                        s = 0.0
                                        for k in range(o * f4, min(o * f4 + f4, n4)):
                                            s += np.float64(row[k])
                                        acc[o] += s
                    dst = out[o0, o1, o2, o3]
                    for o in range(m4):
                        dst[o] = acc[o] / (rows * (f4 if o < full else tail))


@njit(nogil=True, cache=True)
def mean_wide(x, factors, out, unsigned):
    """Exact mean of 64-bit integers. ``x`` and ``out`` are int64 views (of uint64 when
    ``unsigned``): each value is hi * 2**32 + lo with lo in [0, 2**32)."""
    f0, f1, f2, f3, f4 = factors
    n0, n1, n2, n3, n4 = x.shape
    m0, m1, m2, m3, m4 = out.shape
    full = n4 // f4
    tail = n4 - full * f4
    hi = np.zeros(m4, np.int64)
    lo = np.zeros(m4, np.int64)
    for o0 in range(m0):
        for o1 in range(m1):
            for o2 in range(m2):
                for o3 in range(m3):
                    hi[:] = 0
                    lo[:] = 0
                    rows = 0
                    for i0 in range(o0 * f0, min(o0 * f0 + f0, n0)):
                        for i1 in range(o1 * f1, min(o1 * f1 + f1, n1)):
                            for i2 in range(o2 * f2, min(o2 * f2 + f2, n2)):
                                for i3 in range(o3 * f3, min(o3 * f3 + f3, n3)):
                                    row = x[i0, i1, i2, i3]
                                    rows += 1
                                    for o in range(m4):
                                        for k in range(o * f4, min(o * f4 + f4, n4)):
                                            v = row[k]
                                            h = v >> 32
                                            if unsigned:
                                                h &= _LO
                                            hi[o] += h
                                            lo[o] += v & _LO
                    dst = out[o0, o1, o2, o3]
                    for o in range(m4):
                        n = np.int64(rows * (f4 if o < full else tail))
                        q1 = hi[o] // n
                        rest = (hi[o] - q1 * n) * np.int64(4294967296) + lo[o]
                        q2 = rest // n
                        r = rest - q2 * n
                        mean = q1 * np.int64(4294967296) + q2  # wraps to the uint64 bits
                        twice = 2 * r
                        if twice > n or (twice == n and (q2 & 1) == 1):
                            mean += 1
                        dst[o] = mean


@njit(nogil=True, cache=True, inline="always")
def _pick(v, c, best, best_count):
    """The better of (v, c) and (best, best_count): more frequent, then smaller."""
    if c > best_count or (c == best_count and v < best):
        return v, c
    return best, best_count


@njit(nogil=True, cache=True, inline="always")
def _mode4(a, b, c, d):
    ca = 1 + (a == b) + (a == c) + (a == d)
    cb = 1 + (b == a) + (b == c) + (b == d)
    cc = 1 + (c == a) + (c == b) + (c == d)
    cd = 1 + (d == a) + (d == b) + (d == c)
    best, n = _pick(b, cb, a, ca)
    best, n = _pick(c, cc, best, n)
    best, n = _pick(d, cd, best, n)
    return best


@njit(nogil=True, cache=True, inline="always")
def _mode_buf(buf, counts, count):
    """Pairwise counts (branch-free), then the most frequent, smallest on ties."""
    for i in range(count):
        counts[i] = 1
    for i in range(count):
        v = buf[i]
        for j in range(i + 1, count):
            eq = 1 if buf[j] == v else 0
            counts[i] += eq
            counts[j] += eq
    best = buf[0]
    best_count = counts[0]
    for i in range(1, count):
        best, best_count = _pick(buf[i], counts[i], best, best_count)
    return best


@njit(nogil=True, cache=True)
def mode(x, factors, out):
    """Most frequent value per block, ties to the smallest (integers).

    ``x`` is seen as rows of its last axis; ``rows`` lists the input rows of one output row.
    """
    f0, f1, f2, f3, f4 = factors
    n0, n1, n2, n3, n4 = x.shape
    m0, m1, m2, m3, m4 = out.shape
    xr = x.reshape(n0 * n1 * n2 * n3, n4)
    block = f0 * f1 * f2 * f3 * f4
    buf = np.empty(block, x.dtype)
    counts = np.empty(block, np.int32)
    rows = np.empty(f0 * f1 * f2 * f3, np.int64)
    full = n4 // f4
    for o0 in range(m0):
        for o1 in range(m1):
            for o2 in range(m2):
                for o3 in range(m3):
                    nr = 0
                    for i0 in range(o0 * f0, min(o0 * f0 + f0, n0)):
                        for i1 in range(o1 * f1, min(o1 * f1 + f1, n1)):
                            for i2 in range(o2 * f2, min(o2 * f2 + f2, n2)):
                                for i3 in range(o3 * f3, min(o3 * f3 + f3, n3)):
                                    rows[nr] = ((i0 * n1 + i1) * n2 + i2) * n3 + i3
                                    nr += 1
                    dst = out[o0, o1, o2, o3]
                    start = 0
                    if f4 == 2 and nr == 4:  # 2x2x2 blocks: two 2x2 halves
                        ra, rb, rc, rd = xr[rows[0]], xr[rows[1]], xr[rows[2]], xr[rows[3]]
                        for o in range(full):
                            k = 2 * o
                            a, b, c, d = ra[k], ra[k + 1], rb[k], rb[k + 1]
                            e, f, g, h = rc[k], rc[k + 1], rd[k], rd[k + 1]
                            if (
                                a == b
                                and a == c
                                and a == d
                                and a == e
                                and a == f
                                and a == g
                                and a == h
                            ):
                                dst[o] = a
                                continue
                            buf[0], buf[1], buf[2], buf[3] = a, b, c, d
                            buf[4], buf[5], buf[6], buf[7] = e, f, g, h
                            dst[o] = _mode_buf(buf, counts, 8)
                        start = full
                    elif f4 == 2 and nr == 2:  # 2x2 blocks
                        ra, rb = xr[rows[0]], xr[rows[1]]
                        for o in range(full):
                            k = 2 * o
                            dst[o] = _mode4(ra[k], ra[k + 1], rb[k], rb[k + 1])
                        start = full
                    for o in range(start, m4):
                        count = 0
                        same = True
                        for r in range(nr):
                            row = xr[rows[r]]
                            for k in range(o * f4, min(o * f4 + f4, n4)):
                                v = row[k]
                                buf[count] = v
                                same = same and v == buf[0]
                                count += 1
                        dst[o] = buf[0] if same else _mode_buf(buf, counts, count)
