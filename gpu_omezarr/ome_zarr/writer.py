"""ome-zarr-py's ``ome_zarr.writer``: ``from gpu_omezarr.ome_zarr.writer import
write_image`` in place of ``from ome_zarr.writer import write_image``.

The writers are ours (same names and positional order, our extras keyword-only); the
helpers ome-zarr-py's users and tests import from this module are here too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import zarr

from .. import metadata as meta
from ..api import (
    write_image,
    write_label_metadata,
    write_labels,
    write_multiscale,
    write_multiscale_labels,
    write_multiscales_metadata,
    write_plate_metadata,
    write_well_metadata,
)
from ..groups import GroupLike, open_group, resolve_group_format, write_blocks
from .axes import Axes
from .format import CurrentFormat

__all__ = [
    "add_metadata",
    "get_metadata",
    "write_image",
    "write_label_metadata",
    "write_labels",
    "write_multiscale",
    "write_multiscale_labels",
    "write_multiscales_metadata",
    "write_plate_metadata",
    "write_well_metadata",
]


def _get_valid_axes(
    ndim: int | None = None,
    axes: Any = None,
    axes_units: Mapping[str, str] | None = None,
    fmt: meta.Format = CurrentFormat(),  # noqa: B008 - ome-zarr-py's signature
) -> list[dict[str, str]]:
    """The axes as OME-NGFF dicts (guessed for 2-D and 5-D), or ``ValueError``."""
    if axes is None:
        return meta.build_axes(None, axes_units, ndim=ndim)
    axes = list(axes) if isinstance(axes, str) else axes
    if ndim is not None and len(axes) != ndim:
        meta._errors.invalid("axes", axes, f"need {ndim} axes, one per dimension")
    return Axes(axes, axes_units, fmt).to_list(fmt)


def _retuple(chunks: Sequence[int] | int, shape: Sequence[int]) -> tuple[int, ...]:
    """``chunks`` for ``shape``: an int on every axis, a short tuple on the last axes (the
    leading ones whole), as the writers read ``storage_options``."""
    if isinstance(chunks, int):
        return (chunks,) * len(shape)
    return (*shape[: len(shape) - len(chunks)], *chunks)


def get_metadata(group: GroupLike) -> dict[str, Any]:
    """The OME attributes of ``group`` (under ``ome`` on Zarr v3), as a dict."""
    if isinstance(group, str):
        group = zarr.open_group(group, mode="r")
    attrs = group.attrs.asdict()
    return dict(attrs.get("ome", {})) if group.metadata.zarr_format == 3 else attrs


def add_metadata(group: GroupLike, metadata: Mapping[str, Any], fmt: Any = None) -> None:
    """Merge OME blocks (``{"omero": ...}``, ``{"labels": [...]}``...) into ``group``."""
    existing, fmt = resolve_group_format(group, fmt)
    write_blocks(open_group(group, fmt, existing), fmt, dict(metadata))
