"""OME-NGFF 0.4 / 0.5 / 0.6 metadata: pure Python, no array library and no zarr needed.

Each ``build_*`` function returns one JSON block and raises ``ValueError`` (or ``TypeError``)
naming the offending field; :mod:`.attrs` places blocks in a group's attributes for a version.
"""

from . import scene
from .attrs import merge_attributes, read_ome, to_attributes
from .axes import SPACE_UNITS, TIME_UNITS, axis_names, build_axes, validate_axes
from .coordinates import (
    INTRINSIC,
    plain_multiscale,
    to_coordinate_systems,
    validate_multiscale_06,
)
from .format import (
    DEFAULT_VERSION,
    SUPPORTED_VERSIONS,
    Format,
    FormatV04,
    FormatV05,
    FormatV06,
    format_from_version,
    resolve_format,
)
from .labels import add_label_name, build_image_label
from .multiscales import (
    METHODS,
    build_datasets,
    build_multiscale,
    build_omero,
    level_transformations,
    validate_datasets,
    validate_omero,
    validate_transformations,
)
from .plate import build_plate, build_well
from .scene import build_scene

__all__ = [
    "DEFAULT_VERSION",
    "METHODS",
    "SPACE_UNITS",
    "SUPPORTED_VERSIONS",
    "TIME_UNITS",
    "Format",
    "FormatV04",
    "FormatV05",
    "FormatV06",
    "INTRINSIC",
    "add_label_name",
    "axis_names",
    "build_axes",
    "build_datasets",
    "build_image_label",
    "build_multiscale",
    "build_omero",
    "build_plate",
    "build_scene",
    "build_well",
    "format_from_version",
    "level_transformations",
    "merge_attributes",
    "plain_multiscale",
    "read_ome",
    "resolve_format",
    "scene",
    "to_attributes",
    "to_coordinate_systems",
    "validate_axes",
    "validate_datasets",
    "validate_multiscale_06",
    "validate_omero",
    "validate_transformations",
]
