"""ome-zarr-py's metadata writers, same names, parameters and JSON layout, plus ``version=``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .. import metadata as meta
from ..describe import take_omero
from ..groups import GroupLike, open_group, read_blocks, resolve_group_format, write_blocks
from ..metadata._errors import invalid, wrong_type


def _multiscale_ndim(datasets: Any) -> int | None:
    try:
        return len(datasets[0]["coordinateTransformations"][0]["scale"])
    except (LookupError, TypeError):
        return None


def write_multiscales_metadata(
    group: GroupLike,
    datasets: Sequence[Mapping[str, Any]],
    fmt: Any = None,
    axes: meta.axes.AxesLike | None = None,
    axes_units: Mapping[str, str] | None = None,
    name: str | None = None,
    *,
    version: str | None = None,
    type: str | None = None,  # noqa: A002 - the specification's field name
    coordinate_transformations: Sequence[Mapping[str, Any]] | None = None,
    **metadata: Any,
) -> None:
    """Write ``multiscales`` (and ``omero`` when ``metadata={"omero": ...}``) on ``group``.

    Parameters
    ----------
    group : zarr.Group or str
        The image group, or a path / URL (created if missing).
    datasets : list of dict
        ``{"path": "s0", "coordinateTransformations": [{"type": "scale", ...}, ...]}``,
        fine to coarse.
    fmt, version : Format or str, optional
        OME-NGFF version; default: the existing group's, else 0.5.
    axes, axes_units : optional
        Axis names or dicts; units by axis name. 2-D and 5-D data may omit axes.
    name : str, optional
        The multiscale's name; default: the group's name (as ome-zarr-py).
    type : str, optional
        The downsampling method (``"mean"``, ``"nearest"``, ``"mode"``...).
    **metadata
        ``metadata={...}``: the multiscale's ``metadata`` block; an ``"omero"`` key in it is
        moved to the group's ``omero`` block, as ome-zarr-py does.
    """
    extra = dict(metadata.pop("metadata", None) or {})
    if metadata:
        invalid("metadata", sorted(metadata), "unknown keyword arguments")
    omero = take_omero(extra)
    axes_list = meta.build_axes(
        axes, axes_units, ndim=_multiscale_ndim(datasets) if axes is None else None
    )
    existing, fmt = resolve_group_format(group, fmt, version)
    multiscale = meta.build_multiscale(
        axes_list,
        datasets,
        name=name,
        type=type,
        metadata=extra,
        coordinate_transformations=coordinate_transformations,
        fmt=fmt,
    )
    blocks: dict[str, Any] = {}
    if omero is not None:
        blocks["omero"] = omero
    target = open_group(group, fmt, existing)
    if name is None:
        multiscale = {**multiscale, "name": target.name}
    blocks["multiscales"] = [multiscale]
    write_blocks(target, fmt, blocks)


def write_plate_metadata(
    group: GroupLike,
    rows: Sequence[str],
    columns: Sequence[str],
    wells: Sequence[str | Mapping[str, Any]],
    fmt: Any = None,
    acquisitions: Sequence[Mapping[str, Any]] | None = None,
    field_count: int | None = None,
    name: str | None = None,
    *,
    version: str | None = None,
) -> None:
    """Write the ``plate`` block: rows, columns, wells ``"A/1"``, acquisitions, field_count."""
    plate = meta.build_plate(
        rows, columns, wells, acquisitions=acquisitions, field_count=field_count, name=name
    )
    existing, fmt = resolve_group_format(group, fmt, version)
    write_blocks(open_group(group, fmt, existing), fmt, {"plate": plate})


def write_well_metadata(
    group: GroupLike,
    images: Sequence[str | Mapping[str, Any]],
    fmt: Any = None,
    *,
    version: str | None = None,
) -> None:
    """Write the ``well`` block: one entry per field of view (``{"path": "0"}``)."""
    well = meta.build_well(images)
    existing, fmt = resolve_group_format(group, fmt, version)
    write_blocks(open_group(group, fmt, existing), fmt, {"well": well})


def write_label_metadata(
    group: GroupLike,
    name: str,
    colors: Sequence[Mapping[str, Any]] | None = None,
    properties: Sequence[Mapping[str, Any]] | None = None,
    fmt: Any = None,
    *,
    version: str | None = None,
    **metadata: Any,
) -> None:
    """Write ``image-label`` on the label image ``group[name]`` and list ``name`` (once) in
    ``group``'s ``labels``. ``group`` is the ``labels`` group, as in ome-zarr-py."""
    image_label = meta.build_image_label(colors, properties, **metadata)
    names = meta.add_label_name(None, name)  # validates the name before anything is opened
    existing, fmt = resolve_group_format(group, fmt, version)
    if existing is None:
        invalid("group", group, "does not exist: write the label image first")
    existing = open_group(group, fmt, existing)  # a path was opened read-only to look
    try:
        label_group = existing[name]
    except KeyError:
        invalid("name", name, f"no label image {name!r} in {existing.name!r}")
    if not hasattr(label_group, "attrs") or not hasattr(label_group, "members"):
        wrong_type("name", name, "the name of a label image group")
    names = meta.add_label_name(read_blocks(existing).get("labels"), name)
    write_blocks(label_group, fmt, {"image-label": image_label})
    write_blocks(existing, fmt, {"labels": names})
