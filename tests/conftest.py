import importlib.util
from pathlib import Path

import pytest

SPEC = Path(__file__).resolve().parents[2] / "shared" / "ngff-spec"


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
