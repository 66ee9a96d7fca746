"""ome-zarr-py 0.18's class API: ``OMEZarrImage`` (one array, its axes and pixel size),
``OMEZarrMultiscale`` (an image pyramid with channels and labels) and ``OMEZarrLabels``,
with ``to_ome_zarr`` / ``from_ome_zarr``; our writer behind them.

The pyramid is planned as our writers plan it (:func:`gpu_omezarr.plan.plan_levels`) and
written by :func:`gpu_omezarr.write_image` / :func:`gpu_omezarr.write_labels` in one
streaming pass; ``images`` offers its levels as lazy dask arrays computed by our kernels.
Metadata is held as plain dicts (ome-zarr-py holds ome-zarr-models objects).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import metadata as meta
from ..compat_args import ome_zarr_method
from ..groups import read_blocks, resolve_group_format
from ..metadata._errors import invalid, wrong_type
from ..plan import DEFAULT_SCALE_FACTORS, Placement, plan_levels
from .scale import Methods, _downsample

DEFAULT_COLORS = ["FF0000", "00FF00", "0000FF", "FFFF00", "FF00FF", "00FFFF"]


@dataclass
class OMEZarrImage:
    """One array with its axis names, pixel size by axis (default 1.0) and units."""

    data: Any
    axes: Sequence[str] | str
    scale: dict[str, float] | None = None
    axes_units: dict[str, str] | None = None
    name: str = "image"

    def __post_init__(self) -> None:
        import dask.array as da

        self.axes = list(self.axes)
        if len(self.axes) != len(self.data.shape):
            invalid("axes", self.axes, f"{len(self.data.shape)}-D data needs as many axes")
        scale = dict(self.scale or {})
        unknown = set(scale) - set(self.axes)
        if unknown:
            invalid("scale", scale, f"names axes {sorted(unknown)} not in {self.axes}")
        self.scale = {d: scale.get(d, 1.0) for d in self.axes}
        if not isinstance(self.data, da.Array):
            self.data = da.from_array(self.data)


class OMEZarrMultiscaleBase:
    """A pyramid of ``image``: ``scale_factors`` as :func:`gpu_omezarr.write_image`'s."""

    default_method = "mean"

    def __init__(
        self,
        image: OMEZarrImage,
        scale_factors: Any = None,
        method: str | Methods | None = None,
        coordinateTransformations: Any = None,  # ome-zarr-py's name
    ) -> None:
        self.name = image.name
        self.method = ome_zarr_method(method, None, self.default_method)
        self.scale_factors = DEFAULT_SCALE_FACTORS if scale_factors is None else scale_factors
        self.axes = meta.build_axes(image.axes, image.axes_units, ndim=len(image.axes))
        self.coordinate_transformations = coordinateTransformations
        placement = Placement(image.scale, centred=self.method != "nearest")
        shape = tuple(image.data.shape)
        self._levels = plan_levels(shape, self.axes, self.scale_factors, None, 3, placement)
        self._images = self._lazy_levels(image)
        self.metadata = meta.build_multiscale(
            self.axes,
            meta.build_datasets(
                [lv.scale for lv in self._levels], [lv.translation for lv in self._levels]
            ),
            name=self.name,
            type=self.method,
        )

    def _lazy_levels(self, image: OMEZarrImage) -> list[OMEZarrImage]:
        import dask
        import dask.array as da

        images, data = [image], image.data
        for lv in self._levels[1:]:
            task = dask.delayed(_downsample)(data, lv.factors, self.method)
            data = da.from_delayed(task, shape=lv.shape, dtype=image.data.dtype)
            scale = dict(zip(image.axes, lv.scale, strict=True))
            images.append(OMEZarrImage(data, image.axes, scale, image.axes_units, image.name))
        return images

    @property
    def images(self) -> list[OMEZarrImage]:
        """The image at each level, finest first."""
        return self._images

    def to_ome_zarr(
        self,
        group: Any,
        storage_options: Any = None,
        version: str = "0.5",
        compute: bool = True,
        overwrite: bool = False,
    ) -> list:
        """Write the pyramid (and its labels or image-label metadata) in ``group``.

        ``overwrite=False`` on a group that holds an image already writes only what is
        missing (labels), as ome-zarr-py; ``version`` is "0.4" or "0.5".
        """
        fmt = meta.format_from_version(version)
        existing, _ = resolve_group_format(_as_target(group))
        if existing is not None and "multiscales" in read_blocks(existing) and not overwrite:
            return self._write_extras(group, fmt, storage_options, compute, overwrite)
        return self._write(group, fmt, storage_options, compute) + self._write_extras(
            group, fmt, storage_options, compute, overwrite
        )

    def _options(self) -> dict[str, Any]:
        image = self._images[0]
        return {
            "scale_factors": self.scale_factors,
            "method": self.method,
            "axes": self.axes,
            "scale": image.scale,
        }

    def _write(self, group: Any, fmt: meta.Format, storage_options: Any, compute: bool) -> list:
        raise NotImplementedError

    def _write_extras(self, group: Any, fmt: meta.Format, *options: Any) -> list:
        """What goes beside the image (labels); ``options``: storage options, compute,
        overwrite."""
        return []

    def _write_into(
        self, group: Any, fmt: meta.Format, options: Any, compute: bool, overwrite: bool
    ) -> list:
        """Write as the label ``group/labels/<name>``, listed in ``group/labels`` (any
        pyramid may be a label, as in ome-zarr-py)."""
        from ..api import write_labels

        image_label = getattr(self, "_image_label", None) or {}
        label_metadata = {k: v for k, v in image_label.items() if k != "source"}
        return write_labels(
            self._images[0].data,
            group,
            self.name,
            fmt=fmt,
            storage_options=options,
            label_metadata=label_metadata,
            compute=compute,
            overwrite=overwrite,
            **self._options(),
        )

    @classmethod
    def from_ome_zarr(cls, group: Any) -> OMEZarrMultiscale | OMEZarrLabels:
        """The pyramid stored in ``group`` (a path or a zarr.Group), levels as dask arrays."""
        import dask.array as da

        existing, _ = resolve_group_format(_as_target(group))
        blocks = read_blocks(existing) if existing is not None else {}
        if not blocks.get("multiscales"):
            invalid("group", str(group), "holds no multiscales metadata (an image or a label)")
        multiscale = blocks["multiscales"][0]
        names = meta.axis_names(multiscale["axes"])
        units = {a["name"]: a["unit"] for a in multiscale["axes"] if a.get("unit")} or None
        name = multiscale.get("name") or "image"
        images = []
        for dataset in multiscale["datasets"]:
            scale = dataset["coordinateTransformations"][0]["scale"]
            data = da.from_zarr(existing[dataset["path"]])
            images.append(
                OMEZarrImage(data, names, dict(zip(names, scale, strict=True)), units, name)
            )
        kind = OMEZarrLabels if "image-label" in blocks else OMEZarrMultiscale
        instance = kind.__new__(kind)
        instance._images, instance.metadata, instance.name = images, multiscale, name
        instance.axes = multiscale["axes"]
        instance.method = multiscale.get("type") or kind.default_method
        instance.coordinate_transformations = None
        first = images[0].data.shape
        instance.scale_factors = [  # the stored levels' factors, so it can be written again
            {n: max(1, round(a / b)) for n, a, b in zip(names, first, im.data.shape, strict=True)}
            for im in images[1:]
        ]
        instance._read_extras(existing, blocks)
        return instance

    def _read_extras(self, group: Any, blocks: Mapping[str, Any]) -> None:
        raise NotImplementedError


class OMEZarrMultiscale(OMEZarrMultiscaleBase):
    """An image pyramid, with channel display settings (``omero``) and labels."""

    def __init__(
        self,
        image: OMEZarrImage,
        scale_factors: Any = None,
        method: str | Methods | None = None,
        coordinateTransformations: Any = None,  # ome-zarr-py's name
        labels: Any = None,
        channel_names: list[str] | None = None,
        channel_colors: list[Any] | None = None,
        contrast_limits: list[tuple[float, float]] | None = None,
    ) -> None:
        super().__init__(image, scale_factors, method, coordinateTransformations)
        self._labels = _parse_labels(labels)
        self._omero = _omero(self._images[0], channel_names, channel_colors, contrast_limits)

    @property
    def labels(self) -> dict[str, OMEZarrLabels] | None:
        return self._labels

    @labels.setter
    def labels(self, value: Any) -> None:
        self._labels = _parse_labels(value)

    @property
    def omero(self) -> dict[str, Any] | None:
        return self._omero

    @omero.setter
    def omero(self, value: Mapping[str, Any] | None) -> None:
        self._omero = None if value is None else meta.validate_omero(dict(value))

    def _write(self, group: Any, fmt: meta.Format, storage_options: Any, compute: bool) -> list:
        from ..api import write_image

        extra = {"metadata": {"omero": self._omero}} if self._omero else {}
        return write_image(
            self._images[0].data,
            group,
            name=self.name,
            fmt=fmt,
            storage_options=storage_options,
            compute=compute,
            axes_units=None,
            coordinate_transformations=self.coordinate_transformations,
            overwrite=True,
            **self._options(),
            **extra,
        )

    def _write_extras(self, group: Any, fmt: meta.Format, *options: Any) -> list:
        delayed: list = []
        existing, _ = resolve_group_format(_as_target(group))
        held = existing["labels"] if existing is not None and "labels" in existing else {}
        for name, labels in (self._labels or {}).items():
            labels.name = name
            if name in held and not options[-1]:  # as ome-zarr-py: kept without overwrite
                warnings.warn(f"label {name!r} exists; not written (overwrite=False)", stacklevel=3)
                continue
            delayed += labels._write_into(group, fmt, *options)
        return delayed

    def _read_extras(self, group: Any, blocks: Mapping[str, Any]) -> None:
        self._omero = blocks.get("omero")
        self._labels = None
        if "labels" in group:
            names = read_blocks(group["labels"]).get("labels") or []
            self._labels = {n: OMEZarrLabels.from_ome_zarr(group[f"labels/{n}"]) for n in names}


class OMEZarrLabels(OMEZarrMultiscaleBase):
    """A label pyramid (nearest by default, as ome-zarr-py; ``method="mode"`` is ours) and
    its ``image-label`` metadata (each value's colour and properties when
    ``auto_parse_labels``)."""

    default_method = "nearest"

    def __init__(
        self,
        image: OMEZarrImage,
        scale_factors: Any = None,
        method: str | Methods | None = None,
        auto_parse_labels: bool = True,
    ) -> None:
        super().__init__(image, scale_factors, method)
        self._image_label: dict[str, Any] | None = None
        if auto_parse_labels:
            values = np.unique(np.asarray(self._images[0].data)).tolist()
            rng = np.random.default_rng()
            self._image_label = {
                "colors": [
                    {"label-value": v, "rgba": [*rng.integers(0, 255, 3).tolist(), 255]}
                    for v in values
                ],
                "properties": [{"label-value": v} for v in values],
            }

    @property
    def image_label(self) -> dict[str, Any] | None:
        return self._image_label

    @image_label.setter
    def image_label(self, value: Mapping[str, Any] | None) -> None:
        self._image_label = None if value is None else dict(value)

    def _write(self, group: Any, fmt: meta.Format, storage_options: Any, compute: bool) -> list:
        invalid("OMEZarrLabels.to_ome_zarr", self.name, "write labels through their image")

    def _read_extras(self, group: Any, blocks: Mapping[str, Any]) -> None:
        self._image_label = blocks.get("image-label")


def _as_target(group: Any) -> Any:
    return str(group) if hasattr(group, "__fspath__") else group


def _parse_labels(labels: Any) -> dict[str, OMEZarrLabels] | None:
    if labels is None:
        return None
    if isinstance(labels, OMEZarrLabels):
        return {str(labels.name): labels}
    if isinstance(labels, list):
        return {str(lab.name): lab for lab in labels}
    if isinstance(labels, dict):
        return labels
    wrong_type("labels", labels, "OMEZarrLabels, a list of them or a dict by name")


def _omero(image: OMEZarrImage, names: Any, colors: Any, limits: Any) -> dict[str, Any] | None:
    """The omero block of ome-zarr-py's class API (a default one when nothing is given)."""
    n = image.data.shape[image.axes.index("c")] if "c" in image.axes else 1
    for field, value in (("channel_names", names), ("channel_colors", colors)):
        if value is not None and len(value) != n:
            invalid(field, value, f"needs one per channel ({n})")
    if limits is not None and len(limits) != n:
        invalid("contrast_limits", limits, f"needs one per channel ({n})")
    top = image.data.dtype.itemsize * 255
    channels = []
    for i in range(n):
        color = colors[i] if colors is not None else DEFAULT_COLORS[i % len(DEFAULT_COLORS)]
        if isinstance(color, list | tuple):
            color = "".join(f"{int(c):02X}" for c in color[:3])
        start, end = limits[i] if limits is not None else (0, top)
        channels.append(
            {
                "label": names[i] if names is not None else f"Channel {i}",
                "active": True,
                "color": str(color).lstrip("#").upper(),
                "window": {"min": 0, "start": start, "max": top, "end": end},
            }
        )
    return meta.build_omero(channels)
