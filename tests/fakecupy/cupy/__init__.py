"""A strict NumPy-backed stand-in for the subset of CuPy that gpu_omezarr uses (README.md)."""

from __future__ import annotations

import operator
import sys
from pathlib import Path

import numpy as np

from . import _fake, cuda
from ._kernel import RawKernel

__fake__ = True
__version__ = "13.99.0+fake"

for _name in [
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "int8",
    "int16",
    "int32",
    "int64",
    "float16",
    "float32",
    "float64",
    "bool_",
]:
    globals()[_name] = getattr(np, _name)
dtype = np.dtype

_tests = str(Path(__file__).resolve().parents[2])
if _tests not in sys.path:
    sys.path.append(_tests)  # hostcuda.py


def _refuse_host(value, what: str) -> None:
    if isinstance(value, np.ndarray):
        raise TypeError(f"{what}: Unsupported type {type(value)} (a NumPy array on the device)")


class ndarray:
    """Device memory: a NumPy array reached only through device operations."""

    __module__ = "cupy"

    def __init__(self, shape=None, dtype=float, *, _array: np.ndarray | None = None) -> None:
        self._a = _fake.poisoned(shape, dtype) if _array is None else _array

    shape = property(lambda self: self._a.shape)
    dtype = property(lambda self: self._a.dtype)
    ndim = property(lambda self: self._a.ndim)
    size = property(lambda self: self._a.size)
    nbytes = property(lambda self: self._a.nbytes)
    itemsize = property(lambda self: self._a.itemsize)
    strides = property(lambda self: self._a.strides)
    flags = property(lambda self: self._a.flags)

    def __array__(self, *args, **kwargs):
        raise TypeError(_fake.IMPLICIT)

    def __array_ufunc__(self, *args, **kwargs):
        raise TypeError(_fake.IMPLICIT)

    def __array_function__(self, *args, **kwargs):
        raise TypeError(_fake.IMPLICIT)

    def __iter__(self):
        raise TypeError("iterating a device array element by element: not supported here")

    def __len__(self) -> int:
        return len(self._a)

    def __repr__(self) -> str:
        return f"<fakecupy.ndarray shape={self.shape} dtype={self.dtype}>"

    def __getitem__(self, key) -> ndarray:
        _check_key(key)
        part = self._a[key]
        return ndarray(_array=part if isinstance(part, np.ndarray) else np.array(part))

    def __setitem__(self, key, value) -> None:
        _check_key(key)
        _refuse_host(value, "__setitem__")
        src = value._a if isinstance(value, ndarray) else value
        _fake.run(lambda: self._a.__setitem__(key, src))

    def _binary(self, other, op) -> ndarray:
        _refuse_host(other, op.__name__)
        b = other._a if isinstance(other, ndarray) else other
        out = ndarray(np.broadcast_shapes(self.shape, np.shape(b)), np.result_type(self._a, b))
        _fake.run(lambda: out._a.__setitem__(..., op(self._a, b)))
        return out

    def __eq__(self, other):  # type: ignore[override]
        return self._binary(other, operator.eq)

    def __ne__(self, other):  # type: ignore[override]
        return self._binary(other, operator.ne)

    __hash__ = None  # type: ignore[assignment]

    def astype(self, dtype, copy: bool = True, order: str = "C") -> ndarray:
        dtype = np.dtype(dtype)
        if not copy and dtype == self.dtype:
            return self
        out = ndarray(self.shape, dtype)
        _fake.run(lambda: np.copyto(out._a, self._a, casting="unsafe"))
        return out

    def copy(self, order: str = "C") -> ndarray:
        return self.astype(self.dtype, copy=True)

    def view(self, dtype) -> ndarray:
        return ndarray(_array=self._a.view(dtype))

    def reshape(self, *shape) -> ndarray:
        if not self._a.flags.c_contiguous:
            return self.copy().reshape(*shape)
        return ndarray(_array=self._a.reshape(*shape))

    def get(
        self, stream=None, order: str = "C", out: np.ndarray | None = None, blocking: bool = True
    ) -> np.ndarray:
        """Device to host; on a non-null stream it is queued (``out`` must be pinned), and the
        host waits for it unless ``blocking=False`` (CuPy >= 13)."""
        if out is None:
            out = np.empty(self.shape, self.dtype)
        elif out.shape != self.shape or out.dtype != self.dtype or not out.flags.c_contiguous:
            raise ValueError(f"get(out=...): need a C-contiguous {self.dtype} {self.shape}")
        _fake.STATS["d2h"] += 1
        _fake.STATS["d2h_bytes"] += self.nbytes
        stream = _fake.current() if stream is None else stream
        if not stream.is_null and not cuda.is_pinned(out):
            _fake.STATS["pageable_async"] += 1
        copy = lambda: np.copyto(out, self._a)  # noqa: E731
        _fake.run(copy, stream)
        if blocking and not stream.is_null:
            _fake.STATS["blocking_d2h"] += 1
            stream.flush(copy)
        return out

    def set(self, arr: np.ndarray, stream=None) -> None:
        """Host to device; on a non-null stream it is queued and reads ``arr`` then."""
        if not isinstance(arr, np.ndarray):
            raise TypeError(f"set: need a numpy.ndarray, not {type(arr)}")
        if arr.shape != self.shape or arr.dtype != self.dtype or not arr.flags.c_contiguous:
            raise ValueError(
                f"set: need a C-contiguous {self.dtype} {self.shape}, got {arr.dtype} {arr.shape}"
            )
        if not self._a.flags.c_contiguous:
            raise ValueError("set: the device array is not C-contiguous")
        _fake.STATS["h2d"] += 1
        _fake.STATS["h2d_bytes"] += arr.nbytes
        stream = _fake.current() if stream is None else stream
        if stream.is_null:
            arr = arr.copy()  # a synchronous copy: done when set returns
        elif not cuda.is_pinned(arr):
            _fake.STATS["pageable_async"] += 1
        _fake.run(lambda: np.copyto(self._a, arr), stream)


def _check_key(key) -> None:
    for k in key if isinstance(key, tuple) else (key,):
        _refuse_host(k, "index")


def asarray(a, dtype=None, order=None) -> ndarray:
    """Host to device. A non-native byte order is copied as native bytes, as CuPy does."""
    if isinstance(a, ndarray):
        return a if dtype is None else a.astype(dtype, copy=False)
    host = np.asarray(a)
    if host.dtype.kind == "O":
        raise ValueError("Unsupported dtype object")
    if not host.dtype.isnative:
        host = host.view(host.dtype.newbyteorder("="))
    host = np.array(host, copy=True, order="C")
    out = ndarray(host.shape, host.dtype)
    _fake.STATS["h2d"] += 1
    _fake.STATS["h2d_bytes"] += host.nbytes
    _fake.run(lambda: np.copyto(out._a, host))
    return out if dtype is None else out.astype(dtype, copy=False)


array = asarray


def asnumpy(a, stream=None, order: str = "C", out=None, blocking: bool = True) -> np.ndarray:
    if isinstance(a, ndarray):
        return a.get(stream=stream, out=out, blocking=blocking)
    return np.asarray(a)


def ascontiguousarray(a, dtype=None) -> ndarray:
    if not isinstance(a, ndarray):
        raise TypeError(f"ascontiguousarray: Unsupported type {type(a)}")
    if a._a.flags.c_contiguous and (dtype is None or np.dtype(dtype) == a.dtype):
        return a
    return a.astype(a.dtype if dtype is None else dtype)


def empty(shape, dtype=float, order: str = "C") -> ndarray:
    return ndarray(shape, dtype)


def zeros(shape, dtype=float) -> ndarray:
    out = ndarray(shape, dtype)
    _fake.run(lambda: out._a.fill(0))
    return out


def concatenate(arrays, axis: int = 0, out=None, dtype=None) -> ndarray:
    arrays = list(arrays)
    for a in arrays:
        if not isinstance(a, ndarray):
            raise TypeError(f"concatenate: Unsupported type {type(a)}")
    shape = np.concatenate([np.empty(a.shape, np.bool_) for a in arrays], axis).shape
    result = ndarray(shape, dtype or np.result_type(*(a.dtype for a in arrays)))
    _fake.run(lambda: np.concatenate([a._a for a in arrays], axis, out=result._a))
    return result


def _missing(name: str):
    def missing(*args, **kwargs):
        raise NotImplementedError(f"cupy.{name}: not in the stand-in (gpu_omezarr does not use it)")

    missing.__name__ = name
    return missing


# What dask registers for CuPy chunks when it first meets one.
take, tensordot, einsum = (_missing(n) for n in ("take", "tensordot", "einsum"))


def get_array_module(*args):
    return sys.modules[__name__] if any(isinstance(a, ndarray) for a in args) else np


__all__ = ["RawKernel", "asarray", "asnumpy", "cuda", "empty", "ndarray"]
