"""Compile every CUDA kernel of the CuPy backend with NVRTC, without a GPU.

Run inside the GPU image (``docker/build-and-test.sh`` does): it uses the NVRTC that CuPy
loads there (the ``nvidia-cuda-nvrtc-cu12`` wheel), so it shows that the image can build its
kernels once a device is present. Exits 1 naming the first kernel that does not compile.
"""

from __future__ import annotations

import sys

import numpy as np

ARCHS = ("compute_70", "compute_80", "compute_90")  # Volta, Ampere, Hopper


def combinations() -> list[tuple[str, str]]:
    """(kernel, dtype) pairs as ``CupyBackend.downsample`` picks them."""
    from gpu_omezarr.backends import _cuda_sources as src

    pairs = []
    for dtype in src.CTYPES:
        pairs.append(("mode", "uint8" if dtype == "bool" else dtype))
        kind, size = np.dtype(dtype).kind, np.dtype(dtype).itemsize
        if kind == "f":
            pairs.append(("mean_float", dtype))
        elif kind in "iu" and size == 8:
            pairs.append(("mean_wide", "int64"))
        elif kind in "iu":
            pairs.append(("mean_int", dtype))
    return sorted(set(pairs))


def main() -> int:
    from cupy_backends.cuda.libs import nvrtc

    from gpu_omezarr.backends import _cuda_sources as src

    templates = {"mean_int": src.MEAN_INT, "mean_float": src.MEAN_FLOAT}
    templates |= {"mean_wide": src.MEAN_WIDE, "mode": src.MODE}
    major, minor = nvrtc.getVersion()
    pairs = combinations()
    for name, dtype in pairs:
        code = src.source(templates[name], src.CTYPES[dtype])
        for arch in ARCHS:
            prog = nvrtc.createProgram(code, f"{name}_{dtype}.cu", [], [])
            try:
                nvrtc.compileProgram(prog, [f"--gpu-architecture={arch}"])
            except nvrtc.NVRTCError as exc:
                print(f"{name} {dtype} {arch}: {exc}\n{nvrtc.getProgramLog(prog)}")
                return 1
            ptx = nvrtc.getPTX(prog)
            ptx = ptx.decode() if isinstance(ptx, bytes) else ptx
            nvrtc.destroyProgram(prog)
            if f".entry {name}(" not in ptx:
                print(f"{name} {dtype} {arch}: the PTX has no entry {name}")
                return 1
    print(
        f"NVRTC {major}.{minor}: {len(pairs)} kernels x {len(ARCHS)} architectures "
        f"({', '.join(ARCHS)}) compiled to PTX"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
