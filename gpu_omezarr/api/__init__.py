"""The public functions, with ome-zarr-py's names and parameters."""

from .metadata import (
    write_label_metadata,
    write_multiscales_metadata,
    write_plate_metadata,
    write_well_metadata,
)

__all__ = [
    "write_label_metadata",
    "write_multiscales_metadata",
    "write_plate_metadata",
    "write_well_metadata",
]
