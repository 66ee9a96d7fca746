import importlib.util
import os
import sys
from pathlib import Path

import pytest
from hypothesis import settings

# Property tests draw the same examples on every run, so CI's verdict never depends on luck;
# HYPOTHESIS_PROFILE=explore draws fresh ones (run it locally, with more examples, to search).
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("explore", derandomize=False, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

SPEC = Path(__file__).resolve().parents[2] / "shared" / "ngff-spec"
FAKE_CUPY = Path(__file__).resolve().parent / "fakecupy"
# Figures of the GPU checks (compile and comparison counts), printed at the end of the run.
EVIDENCE: dict[str, str] = {}


def pytest_addoption(parser):
    parser.addoption(
        "--fake-cupy",
        action="store_true",
        help="run with tests/fakecupy as cupy (a strict NumPy stand-in) and backend cupy",
    )


def pytest_configure(config):
    if config.getoption("--fake-cupy"):
        use_fake_cupy(os.environ)
        sys.path.insert(0, str(FAKE_CUPY))


def use_fake_cupy(env) -> None:
    """Make ``env`` (and processes started with it) import the stand-in as cupy, and make
    ``auto`` mean the CuPy backend."""
    paths = [str(FAKE_CUPY), *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))]
    env["PYTHONPATH"] = os.pathsep.join(paths)
    env["GPU_OMEZARR_BACKEND"] = "cupy"


def fake_cupy_active() -> bool:
    """Whether ``import cupy`` gives the stand-in (under ``--fake-cupy``)."""
    spec = importlib.util.find_spec("cupy")
    return spec is not None and Path(spec.origin).resolve().is_relative_to(FAKE_CUPY)


def pytest_terminal_summary(terminalreporter):
    cupy = sys.modules.get("cupy")
    if getattr(cupy, "__fake__", False) and terminalreporter.config.getoption("--fake-cupy"):
        stats = cupy.cuda.fake_stats
        nvcomp = sys.modules.get("nvidia.nvcomp")
        chunks = nvcomp.STATS["chunks"] if nvcomp is not None else 0
        EVIDENCE["fakecupy"] = (
            f"{stats['launches']} kernel launches, {stats['h2d']} copies in, "
            f"{stats['d2h']} copies out, {chunks} chunks zstd-encoded by the nvCOMP stand-in"
        )
    if EVIDENCE:
        terminalreporter.section("GPU path evidence")
        for name, text in EVIDENCE.items():
            terminalreporter.write_line(f"{name}: {text}")


def cuda_available() -> bool:
    if importlib.util.find_spec("cupy") is None:
        return False
    try:
        import cupy

        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:
        return False


def backends() -> list:
    """Every backend that runs here; CuPy ones carry the ``gpu`` marker."""
    params = [pytest.param("numpy", id="numpy"), pytest.param("numpy-pure", id="numpy-pure")]
    params.append(
        pytest.param(
            "cupy",
            id="cupy",
            marks=[
                pytest.mark.gpu,
                pytest.mark.skipif(not cuda_available(), reason="no CuPy / CUDA device"),
            ],
        )
    )
    return params


def make_backend(name: str):
    from gpu_omezarr.backends import NumpyBackend, get_backend

    if name == "numpy":
        return NumpyBackend(compiled=True)  # the compiled C kernels, not the fallback
    return NumpyBackend(compiled=False) if name == "numpy-pure" else get_backend(name)


@pytest.fixture
def fake_cupy():
    """The stand-in imported as ``cupy`` for one test (a real CuPy, if loaded, put aside and
    restored after), with the backend's kernel caches cleared before and after."""
    import hostcuda

    from gpu_omezarr import gpu_zstd
    from gpu_omezarr.backends import cupy_backend

    if hostcuda.compiler() is None:
        pytest.skip("no C++ compiler to build the CUDA kernels for the host")
    faked = ("cupy", "nvidia.nvcomp")  # the stand-ins for CuPy and nvCOMP
    saved = {k: m for k, m in sys.modules.items() if k.startswith(faked)}
    active = fake_cupy_active()
    if not active:
        for k in saved:
            del sys.modules[k]
        _unbind_nvcomp()
        sys.path.insert(0, str(FAKE_CUPY))
    cupy_backend._kernel.cache_clear()
    cupy_backend._PROBED.clear()
    gpu_zstd._available.cache_clear()
    try:
        import cupy

        assert getattr(cupy, "__fake__", False), cupy.__file__
        cupy.cuda.fake_stats.clear()
        yield cupy
    finally:
        cupy_backend._kernel.cache_clear()
        cupy_backend._PROBED.clear()
        gpu_zstd._available.cache_clear()
        if not active:
            sys.path.remove(str(FAKE_CUPY))
            for k in [k for k in sys.modules if k.startswith(faked)]:
                del sys.modules[k]
            _unbind_nvcomp()
            sys.modules.update(saved)
            if "nvidia.nvcomp" in saved:
                sys.modules["nvidia"].nvcomp = saved["nvidia.nvcomp"]


def _unbind_nvcomp() -> None:
    """``from nvidia import nvcomp`` takes the package's attribute, not sys.modules."""
    package = sys.modules.get("nvidia")
    if package is not None and hasattr(package, "nvcomp"):
        del package.nvcomp
