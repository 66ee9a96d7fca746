"""``cupy.RawKernel`` running the CUDA C text compiled for the host (``tests/hostcuda.py``)."""

from __future__ import annotations

import os

import numpy as np

from . import _fake

_SCALAR_TYPES = {
    "long long": np.int64,
    "unsigned long long": np.uint64,
    "int": np.int32,
    "unsigned int": np.uint32,
}


class RawKernel:
    def __init__(self, code: str, name: str, options=(), backend: str = "nvrtc", **kwargs):
        self.code, self.name, self.options = code, name, tuple(options)
        self._host = None

    def compile(self, log_stream=None):
        if self._host is None:
            if os.environ.get("FAKECUPY_NVRTC", "1") == "0":
                raise RuntimeError(
                    "CuPy failed to load libnvrtc.so.12: OSError: libnvrtc.so.12: "
                    "cannot open shared object file: No such file or directory"
                )
            import hostcuda

            self._host = hostcuda.HostKernel(self.code, self.name)
            _fake.STATS["compiles"] += 1
        return self._host

    def __call__(self, grid, block, args, *, shared_mem: int = 0, stream=None) -> None:
        from . import ndarray

        host = self.compile()
        grid, block = _dims(grid, "grid"), _dims(block, "block")
        if block[0] * block[1] * block[2] > 1024 or not 0 < grid[0] < 2**31:
            raise ValueError(f"{self.name}: launch grid {grid} x block {block} out of limits")
        if grid[1:] != (1, 1) or block[1:] != (1, 1):
            raise ValueError(f"{self.name}: these kernels are one-dimensional launches")
        if len(args) != len(host.params):
            raise TypeError(f"{self.name}: {len(args)} arguments for {len(host.params)}")
        arrays, converted = [], []
        for p, a in zip(host.params, args, strict=True):
            if p.pointer:
                if not isinstance(a, ndarray):
                    raise TypeError(f"{self.name}({p.name}): need a device array, got {type(a)}")
                if a.dtype.name not in host.element_dtypes:
                    raise TypeError(f"{self.name}({p.name}): {a.dtype} for {p.element}")
                if not a.flags.c_contiguous:
                    raise ValueError(f"{self.name}({p.name}): a non-contiguous array")
                arrays.append(a)
                converted.append(None)
            else:
                want = _SCALAR_TYPES[p.kind]
                if type(a) is not want:
                    raise TypeError(f"{self.name}({p.name}): need {want.__name__}, got {type(a)}")
                converted.append(a.item())
        _fake.STATS["launches"] += 1

        def launch() -> None:
            it = iter(arrays)
            call = [next(it)._a.ctypes.data if c is None else c for c in converted]
            host.launch(grid[0], block[0], call)

        _fake.run(launch, stream)


def _dims(d, what: str) -> tuple[int, int, int]:
    d = tuple(d) if isinstance(d, tuple | list) else (d,)
    if not 1 <= len(d) <= 3 or not all(isinstance(v, int) and v > 0 for v in d):
        raise ValueError(f"{what}={d}: need 1 to 3 positive ints")
    return (*d, 1, 1)[:3]
