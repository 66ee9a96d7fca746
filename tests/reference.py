"""Slow, obviously-right block downsampling: Python loops over blocks, Python integers."""

import itertools
from collections import Counter
from fractions import Fraction

import numpy as np


def reference_downsample(x: np.ndarray, factors, method: str) -> np.ndarray:
    out_shape = tuple(-(-n // f) for n, f in zip(x.shape, factors))
    out = np.empty(out_shape, dtype=x.dtype)
    for idx in itertools.product(*map(range, out_shape)):
        block = x[
            tuple(slice(i * f, min((i + 1) * f, n)) for i, f, n in zip(idx, factors, x.shape))
        ]
        values = block.ravel().tolist()  # Python ints / floats / bools
        if method == "nearest":
            out[idx] = block.flat[0]
        elif method == "mean":
            if x.dtype.kind == "f":
                out[idx] = sum(map(float, values)) / len(values)
            else:
                out[idx] = round(Fraction(sum(values), len(values)))  # half to even
        else:
            counts = Counter(values)
            best = max(counts.values())
            out[idx] = min(v for v, c in counts.items() if c == best)
    return out
