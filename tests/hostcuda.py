"""The backend's exact CUDA C text compiled for the host, to run kernels without a GPU.

The kernels use no shared memory, no ``__syncthreads`` and no warp functions, so a thread is a
plain function call: a small shim makes ``blockIdx``/``threadIdx``/``blockDim``/``gridDim``
thread-local variables and ``__global__`` nothing, and a generated ``launch_NAME`` loops
``blockIdx.x`` and ``threadIdx.x`` over the real launch grid. The source text is compiled
unchanged (as C++, like NVRTC does) with the system compiler into a shared library, cached
on disk by the hash of the text, and called through ctypes.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from functools import cache
from pathlib import Path

SHIM = r"""
#include <stdint.h>
struct hostcuda_dim3 { unsigned int x, y, z; };
static thread_local hostcuda_dim3 blockIdx, threadIdx, blockDim, gridDim;
#define __global__
#define __device__
#define __forceinline__ inline
template <class A> static inline A min(A a, A b) { return b < a ? b : a; }
template <class A> static inline A max(A a, A b) { return a < b ? b : a; }
"""

_SIGNATURE = re.compile(r"__global__\s+void\s+(\w+)\s*\(([^)]*)\)")
_SCALARS = {
    "long long": ctypes.c_longlong,
    "unsigned long long": ctypes.c_ulonglong,
    "int": ctypes.c_int,
    "unsigned int": ctypes.c_uint,
}
# Element types of `typedef ... T;` as the NumPy dtype names they stand for.
CTYPE_DTYPES = {
    "unsigned char": ("uint8", "bool"),
    "unsigned short": ("uint16",),
    "unsigned int": ("uint32",),
    "unsigned long long": ("uint64",),
    "signed char": ("int8",),
    "short": ("int16",),
    "int": ("int32",),
    "long long": ("int64",),
    "float": ("float32",),
    "double": ("float64",),
}


def compiler() -> str | None:
    """The system C++ compiler (``$CXX``, ``c++``, ``g++``, ``clang++``), or None."""
    for name in (os.environ.get("CXX"), "c++", "g++", "clang++"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


class Param:
    """One kernel parameter: its name, and either its element type (a pointer) or ctypes type."""

    def __init__(self, text: str, element: str | None) -> None:
        text = " ".join(text.split())
        self.name = re.findall(r"\w+", text)[-1]
        kind = text[: text.rindex(self.name)].strip()
        self.pointer = kind.endswith("*")
        self.const = kind.startswith("const")
        self.ctype = ctypes.c_void_p if self.pointer else _SCALARS[kind]
        self.kind = kind
        self.element = element if self.pointer else None


class HostKernel:
    """Kernel ``name`` of ``code`` compiled for the host; ``launch(grid, block, args)``."""

    def __init__(self, code: str, name: str) -> None:
        signatures = {m.group(1): m.group(2) for m in _SIGNATURE.finditer(code)}
        if name not in signatures:
            raise ValueError(f"no __global__ function {name!r} in the source")
        typedef = re.search(r"typedef\s+([\w ]+?)\s+T\s*;", code)
        element = typedef.group(1) if typedef else None
        self.name = name
        self.params = [Param(p, element) for p in signatures[name].split(",")]
        self.element_dtypes = CTYPE_DTYPES.get(element, ()) if element else ()
        wrapper = (
            f'\nextern "C" void launch_{name}(unsigned int gx, unsigned int bx, '
            + ", ".join(f"{p.kind} {p.name}" for p in self.params)
            + ") {\n  gridDim.x = gx; gridDim.y = gridDim.z = 1; blockDim.x = bx; "
            "blockDim.y = blockDim.z = 1;\n  blockIdx.y = blockIdx.z = threadIdx.y = "
            "threadIdx.z = 0;\n  for (unsigned int b = 0; b < gx; ++b)\n"
            "    for (unsigned int t = 0; t < bx; ++t) {\n"
            f"      blockIdx.x = b; threadIdx.x = t; {name}("
            + ", ".join(p.name for p in self.params)
            + ");\n    }\n}\n"
        )
        self._fn = getattr(_library(SHIM + code + wrapper), f"launch_{name}")
        self._fn.restype = None
        self._fn.argtypes = [ctypes.c_uint, ctypes.c_uint, *(p.ctype for p in self.params)]

    def launch(self, grid: int, block: int, args: list) -> None:
        """Run every thread of a ``grid`` x ``block`` launch; ``args`` already converted
        (pointers as integers, scalars as Python numbers)."""
        self._fn(grid, block, *args)


@cache
def _library(text: str) -> ctypes.CDLL:
    cxx = compiler()
    if cxx is None:
        raise RuntimeError("no C++ compiler (c++, g++, clang++) to build host kernels")
    digest = hashlib.sha256(text.encode()).hexdigest()[:24]
    folder = Path(os.environ.get("HOSTCUDA_CACHE", tempfile.gettempdir())) / (
        f"gpu-omezarr-hostcuda-{os.getuid()}"
    )
    folder.mkdir(parents=True, exist_ok=True)
    lib = folder / f"{digest}.so"
    if not lib.exists():
        fd, tmp = tempfile.mkstemp(suffix=".so", dir=folder)
        os.close(fd)
        src = Path(tmp).with_suffix(".cpp")
        src.write_text(text)
        try:
            subprocess.run(
                [cxx, "-O2", "-std=c++11", "-shared", "-fPIC", "-o", tmp, str(src)],
                check=True,
                capture_output=True,
                text=True,
            )
        except subprocess.CalledProcessError as exc:
            raise RuntimeError(f"host compile of a CUDA kernel failed:\n{exc.stderr}") from exc
        finally:
            src.unlink(missing_ok=True)
        os.replace(tmp, lib)  # atomic: parallel processes may build the same library
    return ctypes.CDLL(str(lib))
