"""The public functions, with ome-zarr-py's names and parameters."""

from .image import write_image, write_multiscale
from .labels import write_labels, write_multiscale_labels
from .metadata import (
    write_label_metadata,
    write_multiscales_metadata,
    write_plate_metadata,
    write_well_metadata,
)
from .plate import write_plate
from .scene import write_scene

__all__ = [
    "write_image",
    "write_label_metadata",
    "write_labels",
    "write_multiscale",
    "write_multiscale_labels",
    "write_multiscales_metadata",
    "write_plate",
    "write_plate_metadata",
    "write_scene",
    "write_well_metadata",
]
