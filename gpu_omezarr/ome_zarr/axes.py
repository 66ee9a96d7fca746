"""ome-zarr-py's ``ome_zarr.axes``: ``Axes(axes, axes_units, fmt)`` with ``validate()`` and
``to_list()``, backed by :func:`gpu_omezarr.metadata.build_axes` (the same rules as every
writer here: names, types, order, units)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .. import metadata as meta
from .format import CurrentFormat

KNOWN_AXES = {"x": "space", "y": "space", "z": "space", "c": "channel", "t": "time"}
KNOWN_SPATIAL_UNITS = sorted(meta.SPACE_UNITS)
KNOWN_TEMPORAL_UNITS = sorted(meta.TIME_UNITS)


class Axes:
    """Axes given as names (``"zyx"``, ``["z", "y", "x"]``) or dicts, checked on creation.

    Raises ``ValueError`` naming the problem if they are not valid OME-NGFF axes.
    """

    def __init__(
        self,
        axes: str | Sequence[str] | Sequence[Mapping[str, str]],
        axes_units: Mapping[str, str] | None = None,
        fmt: meta.Format = CurrentFormat(),  # noqa: B008 - ome-zarr-py's signature
    ) -> None:
        self.axes: list[Any] = [dict(a) if isinstance(a, Mapping) else a for a in axes]
        self.axes_units = dict(axes_units) if axes_units else None
        self.fmt = fmt
        self.validate()

    def validate(self) -> None:
        """Raise ``ValueError`` unless the axes are valid for the format (0.4 or 0.5)."""
        meta.resolve_format(self.fmt)
        self._dicts = meta.build_axes(self.axes, self.axes_units, ndim=len(self.axes))

    def to_list(self, fmt: meta.Format = CurrentFormat()) -> list[dict[str, str]]:  # noqa: B008
        """The axes as OME-NGFF dicts (name, type, unit)."""
        meta.resolve_format(fmt)
        return [dict(a) for a in self._dicts]
