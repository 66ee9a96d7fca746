"""Backends: the same block downsampling on NumPy (CPU) and CuPy (CUDA GPU).

``get_backend("auto")`` picks CuPy when it imports and a CUDA device is usable, else NumPy.
The environment variable ``GPU_OMEZARR_BACKEND`` overrides ``"auto"``. Asking for ``"cupy"``
where it cannot run raises :class:`CupyUnavailable` saying why; it never falls back silently.
``"auto"`` falls back to NumPy: silently where CuPy is not installed or sees no device, with a
``RuntimeWarning`` giving the reason where CuPy sees a device but cannot run (a driver error,
or kernels that do not compile: no NVRTC).
"""

from __future__ import annotations

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
        return NumpyBackend()


def is_device_array(x: Any) -> bool:
    return type(x).__module__.split(".")[0] == "cupy"


__all__ = [
    "BACKENDS",
    "METHODS",
    "Backend",
    "CupyUnavailable",
    "NumpyBackend",
    "check_method",
    "get_backend",
    "is_device_array",
    "output_shape",
]
