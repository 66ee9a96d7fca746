"""The CUDA kernels' exact text, compiled for the host (tests/hostcuda.py) and called through
the stand-in with the arguments ``CupyBackend.downsample`` passes, against the NumPy backend:
integers bit-identical, floats up to summation order."""

import numpy as np
import pytest
from conftest import EVIDENCE

from gpu_omezarr.backends import NumpyBackend
from gpu_omezarr.backends.base import INTEGER_DTYPES, MAX_BLOCK

DTYPES = [*INTEGER_DTYPES, np.dtype("float32"), np.dtype("float64"), np.dtype(bool)]
CASES = 12000


def random_case(rng):
    ndim = int(rng.integers(1, 6))
    shape = tuple(int(n) for n in rng.integers(1, 10, ndim))
    factors = tuple(int(f) for f in rng.integers(1, 5, ndim))
    dtype = DTYPES[rng.integers(len(DTYPES))]
    if dtype == bool:
        x = rng.integers(0, 2, shape).astype(bool)
    elif dtype.kind == "f":
        x = (rng.standard_normal(shape) * 10.0 ** rng.integers(-40, 30)).astype(dtype)
    else:
        info = np.iinfo(dtype)
        span = rng.integers(3)
        if span == 0:
            x = rng.integers(info.min, info.max, shape, dtype=dtype, endpoint=True)
        elif span == 1:
            x = rng.integers(0, 4, shape).astype(dtype)  # ties for mode
        else:
            x = rng.choice(np.array([info.min, info.max, info.max - 1], dtype=dtype), shape)
    methods = ["mode", "nearest"] if dtype == bool else ["mean", "nearest"]
    if dtype.kind in "iu":
        methods.append("mode")
    return x, factors, methods[rng.integers(len(methods))]


def compare(got, want, dtype):
    assert got.dtype == want.dtype and got.shape == want.shape
    if dtype.kind == "f":
        np.testing.assert_allclose(got, want, rtol=1e-6 if dtype.itemsize == 4 else 1e-12)
    else:
        np.testing.assert_array_equal(got, want)


def test_host_compiled_kernels_equal_the_numpy_backend(fake_cupy):
    from gpu_omezarr.backends.cupy_backend import INSTANTIATIONS, CupyBackend

    gpu, cpu = CupyBackend(), NumpyBackend()
    rng = np.random.default_rng(20261203)
    launched = 0
    for _ in range(CASES):
        x, factors, method = random_case(rng)
        got = gpu.to_host(gpu.downsample(gpu.asarray(x), factors, method))
        compare(got, cpu.downsample(x, factors, method), x.dtype)
        launched += method != "nearest" and any(f > 1 for f in factors)
    stats = fake_cupy.cuda.fake_stats
    assert stats["launches"] == launched > CASES // 2
    assert stats["compiles"] == len(INSTANTIATIONS) + 1  # the load probe, every kernel
    EVIDENCE["host-compiled kernels"] = (
        f"{CASES} random cases ({launched} kernel launches, {stats['compiles'] - 1} "
        "instantiations) equal to the NumPy backend"
    )


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_host_kernels_on_larger_partial_blocks(fake_cupy, dtype):
    from gpu_omezarr.backends.cupy_backend import CupyBackend

    rng = np.random.default_rng(5)
    shape, factors = (3, 37, 301), (2, 3, 4)
    if dtype == bool:
        x = rng.integers(0, 2, shape).astype(bool)
    elif dtype.kind == "f":
        x = rng.standard_normal(shape).astype(dtype)
    else:
        info = np.iinfo(dtype)
        x = rng.integers(info.min, info.max, shape, dtype=dtype, endpoint=True)
    gpu, cpu = CupyBackend(), NumpyBackend()
    for method in (
        ("mode",) if dtype == bool else ("mean", "mode") if dtype.kind in "iu" else ("mean",)
    ):
        levels = gpu.pyramid(gpu.asarray(x), [factors, (1, 2, 2)], method)
        want = cpu.pyramid(x, [factors, (1, 2, 2)], method)
        for g, w in zip(levels, want):
            compare(gpu.to_host(g), w, x.dtype)


def test_big_endian_input_is_made_native_before_upload(fake_cupy):
    """CuPy copies a swapped array's bytes as native: every coarser level went wrong."""
    from gpu_omezarr.backends.cupy_backend import CupyBackend

    x = (np.arange(4 * 6).reshape(4, 6) * 300).astype(">u2")
    assert not x.dtype.isnative
    gpu = CupyBackend()
    want = NumpyBackend().downsample(x, (2, 2), "mean")
    np.testing.assert_array_equal(gpu.to_host(gpu.downsample(x, (2, 2), "mean")), want)
    np.testing.assert_array_equal(gpu.to_host(gpu.downsample(gpu.asarray(x), (2, 2), "mean")), want)


def test_gpu_refuses_blocks_over_the_cpu_limit(fake_cupy):
    from gpu_omezarr.backends.cupy_backend import CupyBackend

    x = np.zeros((1025, 1024), np.uint8)
    assert MAX_BLOCK < 1025 * 1024
    with pytest.raises(ValueError, match="a block of more than"):
        CupyBackend().downsample(x, (1025, 1024), "mean")
    with pytest.raises(ValueError, match="a block of more than"):
        NumpyBackend().downsample(x, (1025, 1024), "mean")


def test_stand_in_is_strict(fake_cupy):
    cp = fake_cupy
    d = cp.asarray(np.arange(6, dtype=np.uint16))
    with pytest.raises(TypeError, match="Implicit conversion"):
        np.asarray(d)
    with pytest.raises(TypeError, match="Unsupported type"):
        cp.ascontiguousarray(np.arange(3))
    from gpu_omezarr.backends.cupy_backend import _kernel

    kernel = _kernel("mean_int", "uint16")
    out = cp.empty(3, np.uint16)
    ints = [np.int64(v) for v in (1, 1, 1, 1, 6, 1, 1, 1, 1, 2, 1, 1, 1, 1, 3, 3)]
    with pytest.raises(TypeError, match="need int64"):
        kernel((1,), (32,), (d, out, *ints[:-1], 3))  # a Python int for long long
    with pytest.raises(TypeError, match="uint32 for unsigned short"):
        kernel((1,), (32,), (d.view(np.uint32), out, *ints))
    kernel((1,), (32,), (d, out, *ints))
    np.testing.assert_array_equal(out.get(), [0, 2, 4])  # 0.5, 2.5, 4.5 to even
