"""NVRTC through ctypes: compile CUDA C to PTX / CUBIN with no driver and no GPU.

CuPy's own ``compile_using_nvrtc`` asks the runtime for the device, so it fails without a
driver; the NVRTC library alone (the ``nvidia-cuda-nvrtc-cu12`` wheel) needs neither.
"""

from __future__ import annotations

import ctypes
import glob
import os
from functools import cache


@cache
def library() -> ctypes.CDLL | None:
    """libnvrtc from the ``nvidia-cuda-nvrtc-cu12`` wheel (or ``$NVRTC_LIBRARY``), or None."""
    candidates = [os.environ.get("NVRTC_LIBRARY", "")]
    try:
        import nvidia.cuda_nvrtc as pkg

        for root in pkg.__path__:
            candidates += sorted(glob.glob(os.path.join(root, "lib", "libnvrtc.so*")))
    except ImportError:
        pass
    for path in filter(None, candidates):
        if "builtins" in os.path.basename(path):
            continue
        try:
            return ctypes.CDLL(path)
        except OSError:
            continue
    return None


def version() -> tuple[int, int]:
    lib = library()
    major, minor = ctypes.c_int(), ctypes.c_int()
    _check(lib, lib.nvrtcVersion(ctypes.byref(major), ctypes.byref(minor)))
    return major.value, minor.value


def _check(lib: ctypes.CDLL, status: int) -> None:
    if status != 0:
        lib.nvrtcGetErrorString.restype = ctypes.c_char_p
        raise RuntimeError(f"NVRTC: {lib.nvrtcGetErrorString(status).decode()}")


def compile_source(code: str, name: str, options: list[str], output: str = "cubin") -> bytes:
    """Compile ``code`` with ``options``; the CUBIN (``output="cubin"``, needs an
    ``sm_XX`` architecture) or PTX text. Raises with NVRTC's log on failure."""
    lib = library()
    prog = ctypes.c_void_p()
    _check(
        lib,
        lib.nvrtcCreateProgram(
            ctypes.byref(prog), code.encode(), f"{name}.cu".encode(), 0, None, None
        ),
    )
    try:
        opts = (ctypes.c_char_p * len(options))(*(o.encode() for o in options))
        status = lib.nvrtcCompileProgram(prog, len(options), opts)
        if status != 0:
            size = ctypes.c_size_t()
            lib.nvrtcGetProgramLogSize(prog, ctypes.byref(size))
            log = ctypes.create_string_buffer(size.value)
            lib.nvrtcGetProgramLog(prog, log)
            raise RuntimeError(f"NVRTC failed on {name} {options}:\n{log.value.decode()}")
        get_size, get = (
            (lib.nvrtcGetCUBINSize, lib.nvrtcGetCUBIN)
            if output == "cubin"
            else (lib.nvrtcGetPTXSize, lib.nvrtcGetPTX)
        )
        size = ctypes.c_size_t()
        _check(lib, get_size(prog, ctypes.byref(size)))
        buf = ctypes.create_string_buffer(size.value)
        _check(lib, get(prog, buf))
        return buf.raw
    finally:
        lib.nvrtcDestroyProgram(ctypes.byref(prog))
