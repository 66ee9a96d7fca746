"""gpu_omezarr: OME-Zarr (OME-NGFF 0.4 / 0.5 / 0.6) pyramids, labels and plates, on GPU and CPU.

Importing the package is cheap: it imports neither CuPy nor the writer until they are used.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from .metadata import FormatV04, FormatV05, FormatV06

__version__ = "0.1.0"

_API = {
    "write_image": "api.image",
    "write_multiscale": "api.image",
    "write_labels": "api.labels",
    "write_multiscale_labels": "api.labels",
    "write_multiscales_metadata": "api.metadata",
    "write_plate": "api.plate",
    "write_scene": "api.scene",
    "write_plate_metadata": "api.metadata",
    "write_well_metadata": "api.metadata",
    "write_label_metadata": "api.metadata",
    "get_backend": "backends",
    "preview": "view",
    "save_preview": "view",
    "open_stream": "acquire",
}

__all__ = ["FormatV04", "FormatV05", "FormatV06", "__version__", *_API]


def __getattr__(name: str) -> Any:
    if name in _API:
        return getattr(import_module(f".{_API[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
