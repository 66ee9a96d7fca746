"""Every CUDA kernel the GPU backend can launch, compiled by NVRTC for the architectures we
ship for, with no driver and no GPU (the ``nvidia-cuda-nvrtc-cu12`` wheel, through ctypes)."""

import pytest
from conftest import EVIDENCE
from nvrtc import compile_source, library, version

from gpu_omezarr.backends import cupy_backend
from gpu_omezarr.backends.cupy_backend import INSTANTIATIONS, kernel_source

if library() is None:
    pytest.skip(
        "NVRTC is not installed (pip install nvidia-cuda-nvrtc-cu12)", allow_module_level=True
    )

ARCHS = ["sm_80", "sm_90", "sm_100"]  # A100, H100/H200, B200
CUPY_OPTIONS = ["-ftz=true"]  # CuPy adds this to every RawKernel compile


def test_every_kernel_instantiation_compiles_for_every_architecture():
    archs = [a for a in ARCHS if a != "sm_100" or version() >= (12, 8)]
    compiled = 0
    for arch in archs:
        for name, element in INSTANTIATIONS:
            cubin = compile_source(
                kernel_source(name, element), name, [f"--gpu-architecture={arch}", *CUPY_OPTIONS]
            )
            assert cubin[:4] == b"\x7fELF", (name, element, arch)
            compiled += 1
        probe = compile_source(cupy_backend._PROBE, "probe", [f"--gpu-architecture={arch}"])
        assert probe[:4] == b"\x7fELF"
    assert len(INSTANTIATIONS) == 17
    assert compiled == len(INSTANTIATIONS) * len(archs)
    EVIDENCE["NVRTC"] = (
        f"{compiled} kernels compiled ({len(INSTANTIATIONS)} instantiations x "
        f"{'/'.join(archs)}, NVRTC {'.'.join(map(str, version()))})"
    )


@pytest.mark.parametrize("element", ["float32", "float64"])
def test_float_conversions_keep_subnormals_under_cupy_ftz(element):
    """-ftz=true (CuPy's default) must not flush float32 subnormals: the float32 <-> float64
    conversions of the mean are PTX instructions without .ftz."""
    ptx = compile_source(
        kernel_source("mean_float", element),
        "mean_float",
        ["--gpu-architecture=compute_90", *CUPY_OPTIONS],
        output="ptx",
    ).decode(errors="replace")
    assert ".ftz" not in ptx
    if element == "float32":
        assert "cvt.f64.f32" in ptx and "cvt.rn.f32.f64" in ptx
