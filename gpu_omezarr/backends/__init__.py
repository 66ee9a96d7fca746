"""Backends: the same block downsampling on NumPy (CPU) and CuPy (CUDA GPU).

``get_backend("auto")`` picks CuPy when it imports and a CUDA device is usable, else NumPy.
The environment variable ``GPU_OMEZARR_BACKEND`` overrides ``"auto"``. Asking for ``"cupy"``
where it cannot run raises :class:`CupyUnavailable` saying why; it never falls back silently.
``"auto"`` falls back to NumPy: silently where CuPy is not installed or sees no device, with a
``RuntimeWarning`` giving the reason where CuPy sees a device but cannot run (a driver error,
or kernels that do not compile: no NVRTC).
The backend ``"auto"`` returns then carries the reason as ``fallback`` (:func:`describe`).
"""

from __future__ import annotations

import importlib.util
import os
import warnings
from typing import Any

from .base import METHODS, Backend, check_method, output_shape
from .cupy_backend import CupyUnavailable
from .numpy_backend import NumpyBackend

BACKENDS = ("auto", "numpy", "cupy")
ENV_VAR = "GPU_OMEZARR_BACKEND"


def get_backend(name: str | Backend | None = "auto") -> Backend:
    """The backend called ``name`` (``"auto"``, ``"numpy"``, ``"cupy"``) or ``name`` itself."""
    if name is not None and not isinstance(name, str):
        return name
    if name in (None, "auto"):
        name = os.environ.get(ENV_VAR, "auto") or "auto"
        if name not in BACKENDS:
            raise ValueError(f"{ENV_VAR}={name!r}: expected one of {', '.join(BACKENDS)}")
    if name not in BACKENDS:
        raise ValueError(f"backend={name!r}: expected one of {', '.join(BACKENDS)}")
    if name == "numpy":
        return NumpyBackend()
    from .cupy_backend import CupyBackend

    if name == "cupy":
        return CupyBackend()
    try:
        return CupyBackend()
    except CupyUnavailable as exc:
        if not exc.quiet:
            warnings.warn(f"backend='auto' uses NumPy: {exc}", RuntimeWarning, stacklevel=2)
        backend = NumpyBackend()
        backend.fallback = str(exc)  # why "auto" did not pick CuPy
        return backend


def describe(backend: Backend) -> str:
    """The backend's name, with the reason when ``"auto"`` fell back to NumPy from a CuPy
    that is installed but cannot run."""
    reason = getattr(backend, "fallback", None)
    if importlib.util.find_spec("cupy") is None:  # no CuPy at all: nothing to explain
        reason = None
    return f"{backend.name} (auto, not cupy: {reason})" if reason else backend.name


def is_device_array(x: Any) -> bool:
    return type(x).__module__.split(".")[0] == "cupy"


__all__ = [
    "BACKENDS",
    "METHODS",
    "Backend",
    "CupyUnavailable",
    "NumpyBackend",
    "check_method",
    "describe",
    "get_backend",
    "is_device_array",
    "output_shape",
]
