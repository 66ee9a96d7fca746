import importlib.util

import numpy as np
import pytest
from conftest import backends, make_backend
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reference import reference_downsample

from gpu_omezarr.backends import NumpyBackend, get_backend
from gpu_omezarr.backends.base import INTEGER_DTYPES

INTS = [str(d) for d in INTEGER_DTYPES]
FLOATS = ["float32", "float64"]
MEAN_DTYPES = INTS + FLOATS
MODE_DTYPES = [*INTS, "bool"]


@st.composite
def cases(draw, dtypes):
    ndim = draw(st.integers(1, 5))
    shape = tuple(draw(st.lists(st.integers(1, 9), min_size=ndim, max_size=ndim)))
    factors = tuple(draw(st.lists(st.integers(1, 4), min_size=ndim, max_size=ndim)))
    dtype = np.dtype(draw(st.sampled_from(dtypes)))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    if dtype == bool:
        x = rng.integers(0, 2, shape).astype(bool)
    elif dtype.kind == "f":
        x = (rng.standard_normal(shape) * 10.0 ** rng.integers(-3, 6)).astype(dtype)
    else:
        info = np.iinfo(dtype)
        span = draw(st.sampled_from(["full", "small", "extreme"]))
        if span == "full":
            x = rng.integers(info.min, info.max, shape, dtype=dtype, endpoint=True)
        elif span == "small":
            x = rng.integers(0, 4, shape).astype(dtype)  # many ties for mode
        else:
            x = rng.choice(np.array([info.min, info.max, info.max - 1], dtype=dtype), shape)
    return lay_out(x, draw(st.sampled_from(LAYOUTS))), factors


LAYOUTS = ["contiguous", "view", "reversed", "strided rows"]


def lay_out(x, layout):
    """``x``'s values in another memory layout: the kernels take views of larger arrays (tiles)
    as they are, and copy what has no contiguous rows."""
    if layout == "contiguous":
        return x
    if layout == "view":  # inside a larger array full of other values, every other plane
        big = np.full([2 * n + 3 for n in x.shape], x.flat[0] ^ 1 if x.dtype == bool else 7)
        big = big.astype(x.dtype)
        inner = (slice(1, 1 + 2 * x.shape[0], 2),) if x.ndim > 1 else ()
        inner += tuple(slice(2, 2 + n) for n in x.shape[len(inner) :])
        big[inner] = x
        return big[inner]
    if layout == "reversed":  # negative strides
        return x[::-1].copy()[::-1]
    wide = np.repeat(x, 2, axis=-1)  # rows with a stride of two elements
    return wide[..., ::2]


def check(backend_name, x, factors, method):
    backend = make_backend(backend_name)
    got = backend.to_host(backend.downsample(backend.asarray(x), factors, method))
    want = reference_downsample(x, factors, method)
    assert got.dtype == x.dtype and got.shape == want.shape
    if x.dtype.kind == "f" and method == "mean":
        # Summation order differs from the reference: the error scales with the inputs'
        # magnitude, not the (possibly cancelling, near-zero) mean's.
        rtol = 2e-6 if x.dtype == np.float32 else 1e-12
        scale = float(np.abs(x.astype(np.float64)).max(initial=0.0))
        np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * scale)
    else:
        np.testing.assert_array_equal(got, want)


SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("backend_name", backends())
@SETTINGS
@given(case=cases(MEAN_DTYPES))
def test_mean_matches_reference(backend_name, case):
    check(backend_name, *case, "mean")


@pytest.mark.parametrize("backend_name", backends())
@SETTINGS
@given(case=cases(MODE_DTYPES))
def test_mode_matches_reference(backend_name, case):
    check(backend_name, *case, "mode")


@pytest.mark.parametrize("backend_name", backends())
@settings(max_examples=60, deadline=None)
@given(case=cases([*MEAN_DTYPES, "bool"]))
def test_nearest_matches_reference(backend_name, case):
    check(backend_name, *case, "nearest")


@pytest.mark.parametrize("backend_name", backends())
@pytest.mark.parametrize("dtype", MODE_DTYPES)
def test_fast_paths_on_larger_arrays(backend_name, dtype):
    """2x2x2 and 2x2 fast paths over many rows, with partial edges on every axis."""
    rng = np.random.default_rng(7)
    x = rng.integers(0, 3, (9, 33, 47)).astype(dtype)
    for factors in [(2, 2, 2), (1, 2, 2), (3, 2, 2)]:
        check(backend_name, x, factors, "mode")
        if dtype != "bool":
            check(backend_name, x, factors, "mean")


@pytest.mark.parametrize("backend_name", backends())
def test_mean_is_exact_for_extreme_64_bit(backend_name):
    big = np.array([2**64 - 1, 2**64 - 2, 2**64 - 1, 2**64 - 1], dtype=np.uint64)
    check(backend_name, big, (4,), "mean")
    neg = np.array([-(2**63), -(2**63), 2**63 - 1, -3, 5, -7], dtype=np.int64)
    check(backend_name, neg, (2,), "mean")
    check(backend_name, neg, (4,), "mean")


@pytest.mark.parametrize("backend_name", backends())
@pytest.mark.parametrize("dtype", ["uint8", "int8", "uint16", "int16"])
@pytest.mark.parametrize("factors", [(128, 256), (128, 257), (256, 256)])
def test_mean_of_large_blocks_of_extremes(backend_name, dtype, factors):
    """Blocks on either side of 2**15 elements, where the compiled 8/16-bit means switch from
    int32 to int64 sums, full of the dtype's extremes (the largest sums) and partial."""
    info = np.iinfo(dtype)
    rng = np.random.default_rng(sum(factors))
    shape = (factors[0] + 5, 2 * factors[1] - 1)
    for x in (
        np.full(shape, info.max, dtype),
        np.full(shape, info.min, dtype),
        rng.choice(np.array([info.min, info.max], dtype), shape),
    ):
        check(backend_name, x, factors, "mean")


@pytest.mark.parametrize("backend_name", backends())
def test_mean_rounds_half_to_even(backend_name):
    x = np.array([0, 1, 1, 2, 2, 3, -1, -2, -2, -3], dtype=np.int16)  # means .5 everywhere
    b = make_backend(backend_name)
    got = b.to_host(b.downsample(b.asarray(x), (2,), "mean"))
    np.testing.assert_array_equal(got, [0, 2, 2, -2, -2])


@pytest.mark.parametrize(
    ("method", "dtype", "message"),
    [
        ("mean", bool, "mean of booleans"),
        ("mode", np.float32, "mode is for integer"),
        ("median", np.uint8, "method='median'"),
        ("mean", np.complex64, "unsupported"),
    ],
)
def test_bad_method_or_dtype_is_refused(method, dtype, message):
    with pytest.raises((TypeError, ValueError), match=message):
        NumpyBackend().downsample(np.zeros((4, 4), dtype), (2, 2), method)


def test_bad_factors_are_refused():
    with pytest.raises(ValueError, match="factors"):
        NumpyBackend().downsample(np.zeros((4, 4), np.uint8), (2, 0), "mean")
    with pytest.raises(ValueError, match="one factor per axis"):
        NumpyBackend().downsample(np.zeros((4, 4), np.uint8), (2,), "mean")


def test_pyramid_is_a_cascade():
    rng = np.random.default_rng(3)
    x = rng.integers(0, 1000, (13, 17), dtype=np.uint16)
    levels = NumpyBackend().pyramid(x, [(2, 2), (2, 2), (1, 3)], "mean")
    want = x
    for got, f in zip(levels, [(2, 2), (2, 2), (1, 3)]):
        want = reference_downsample(want, f, "mean")
        np.testing.assert_array_equal(got, want)


def test_without_the_compiled_kernels_the_pure_numpy_ones_run(monkeypatch):
    """An install without a C compiler: same bytes, and compiled=True says what is missing."""
    from gpu_omezarr.backends import numpy_backend

    monkeypatch.setattr(numpy_backend, "_ckernels", None)
    backend = NumpyBackend()
    assert backend.name == "numpy-pure"
    x = np.random.default_rng(5).integers(0, 9, (7, 9), dtype=np.uint16)
    for method in ("mean", "mode"):
        np.testing.assert_array_equal(
            backend.downsample(x, (2, 2), method), reference_downsample(x, (2, 2), method)
        )
    with pytest.raises(ImportError, match="compiled=True: gpu_omezarr.backends._ckernels"):
        NumpyBackend(compiled=True)


def test_backend_selection(monkeypatch):
    monkeypatch.delenv("GPU_OMEZARR_BACKEND", raising=False)
    assert get_backend("numpy").name == "numpy"
    monkeypatch.setenv("GPU_OMEZARR_BACKEND", "numpy")
    assert get_backend("auto").name == "numpy"
    monkeypatch.setenv("GPU_OMEZARR_BACKEND", "tpu")
    with pytest.raises(ValueError, match="GPU_OMEZARR_BACKEND='tpu'"):
        get_backend("auto")
    with pytest.raises(ValueError, match="backend='gpu'"):
        get_backend("gpu")


def test_cupy_is_refused_clearly_without_a_device():
    from conftest import cuda_available

    from gpu_omezarr.backends import CupyUnavailable

    if cuda_available():
        pytest.skip("a CUDA device is present")
    with pytest.raises(CupyUnavailable, match="backend='cupy'"):
        get_backend("cupy")


def test_auto_says_why_it_fell_back_to_numpy(monkeypatch):
    from conftest import cuda_available

    from gpu_omezarr.backends import CupyUnavailable, describe

    if cuda_available():
        pytest.skip("a CUDA device is present")
    monkeypatch.delenv("GPU_OMEZARR_BACKEND", raising=False)
    with pytest.raises(CupyUnavailable) as refused:
        get_backend("cupy")
    backend = get_backend("auto")
    assert backend.fallback == str(refused.value)
    if importlib.util.find_spec("cupy") is None:  # nothing GPU-like installed: the name alone
        assert describe(backend) == backend.name
    else:  # installed but unusable (a GPU image without a GPU): the reason is shown
        assert describe(backend) == f"{backend.name} (auto, not cupy: {refused.value})"
    assert describe(get_backend("numpy")) == get_backend("numpy").name


def test_importing_the_package_does_not_import_cupy():
    import subprocess
    import sys

    code = "import sys, gpu_omezarr, gpu_omezarr.backends; print('cupy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# --- TensorStore's downsample as an independent oracle -------------------------------------

ts = pytest.importorskip("tensorstore")


def tensorstore_downsample(x, factors, method):
    src = ts.array(x)
    return np.asarray(
        ts.downsample(src, list(factors), {"nearest": "stride"}.get(method, method)).read().result()
    )


@settings(max_examples=80, deadline=None)
@given(case=cases(["uint8", "uint16", "int16", "int32", "uint32"]))
def test_agrees_with_tensorstore_mode_and_stride(case):
    x, factors = case
    b = NumpyBackend()
    np.testing.assert_array_equal(
        b.downsample(x, factors, "nearest"), tensorstore_downsample(x, factors, "nearest")
    )
    # TensorStore breaks mode ties differently from us in general; on ties-free data (and in
    # the common 'one clear majority' case) both are the most frequent value.
    ours = b.downsample(x, factors, "mode")
    theirs = tensorstore_downsample(x, factors, "mode")
    ref = reference_downsample(x, factors, "mode")
    np.testing.assert_array_equal(ours, ref)
    agree = ours == theirs
    assert agree.mean() > 0.5 or x.size < 16


@settings(max_examples=80, deadline=None)
@given(case=cases(["uint8", "uint16", "int16", "int32"]))
def test_agrees_with_tensorstore_mean_up_to_rounding(case):
    """TensorStore rounds integer means half away from zero... or to even: we record how they
    differ: never by more than one, and only where the exact mean ends in .5."""
    x, factors = case
    ours = NumpyBackend().downsample(x, factors, "mean").astype(np.int64)
    theirs = tensorstore_downsample(x, factors, "mean").astype(np.int64)
    diff = np.abs(ours - theirs)
    assert diff.max(initial=0) <= 1
    if diff.any():
        exact2 = 2 * reference_downsample(x.astype(np.float64), factors, "mean")
        assert np.all(np.mod(exact2[diff > 0], 2) == 1)  # only at exact halves
