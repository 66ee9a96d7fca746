"""ome-zarr-py's ``ome_zarr.format``: the Format classes, their well and transformation
helpers, ``CurrentFormat`` and ``format_from_version``.

0.4 and 0.5 are our own :class:`gpu_omezarr.metadata.Format` (written by every writer here);
0.1 to 0.3 exist so that code naming them imports and compares, but writing them is refused
with a clear error (ome-zarr-py itself stopped writing images in them in 0.15).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .. import metadata as meta
from ..metadata._errors import ArgumentError, invalid


class _Helpers:
    """The methods ome-zarr-py's Format classes offer, for 0.4 and later."""

    version: str
    zarr_format: int

    @property
    def chunk_key_encoding(self) -> dict[str, str]:
        if self.zarr_format == 3:
            return {"name": "default", "separator": "/"}
        return {"name": "v2", "separator": "/" if self.version != "0.1" else "."}

    def matches(self, metadata: Mapping[str, Any]) -> bool:
        """Whether ``metadata`` (a group's OME attributes) says this version."""
        return _metadata_version(metadata) == self.version

    def init_store(self, path: str, mode: str = "r") -> Any:
        """A store for ``path`` (a local path or an fsspec URL)."""
        from zarr.storage import FsspecStore, LocalStore

        read_only = mode == "r"
        if path.startswith(("http", "s3")):
            return FsspecStore.from_url(path, read_only=read_only)
        return LocalStore(path, read_only=read_only)

    def generate_well_dict(self, well: str, rows: list[str], columns: list[str]) -> dict:
        """``{"path": "A/1", "rowIndex": 0, "columnIndex": 0}`` for ``well``."""
        return meta.build_plate(rows, columns, [well])["wells"][0]

    def validate_well_dict(self, well: dict, rows: list[str], columns: list[str]) -> None:
        """``ValueError`` unless ``well`` is a complete, consistent well entry."""
        if not isinstance(well, Mapping):
            invalid("well", well, "must be a dict with path, rowIndex and columnIndex")
        meta.build_plate(rows, columns, [well])

    def generate_coordinate_transformations(self, shapes: list[tuple]) -> list[list[dict]]:
        """Scale (shape ratio to level 0) and translation (pixel centres kept) per level."""
        first = shapes[0]
        result = []
        for shape in shapes:
            if len(shape) != len(first):
                invalid("shapes", shapes, "every level needs as many axes as the first")
            scale = [full / n for full, n in zip(first, shape, strict=True)]
            shift = [s / 2 - 0.5 for s in scale]
            result.append(
                [{"type": "scale", "scale": scale}, {"type": "translation", "translation": shift}]
            )
        return result

    def validate_coordinate_transformations(
        self,
        ndim: int,
        nlevels: int,
        coordinate_transformations: list[list[dict[str, Any]]] | None = None,
    ) -> None:
        """``ValueError`` unless there is one valid list (a scale, then at most one
        translation, ``ndim`` numbers each) per level."""
        if coordinate_transformations is None:
            invalid("coordinate_transformations", None, "must be provided")
        if len(coordinate_transformations) != nlevels:
            invalid(
                "coordinate_transformations",
                f"{len(coordinate_transformations)} lists",
                f"need one per level ({nlevels})",
            )
        for i, transforms in enumerate(coordinate_transformations):
            meta.validate_transformations(transforms, ndim, f"coordinate_transformations[{i}]")


class FormatV04(_Helpers, meta.FormatV04):
    """OME-NGFF 0.4 on Zarr v2."""


class FormatV05(_Helpers, meta.FormatV05):
    """OME-NGFF 0.5 on Zarr v3."""


class _Old(_Helpers, meta.Format):
    """A version read by ome-zarr-py but not written here: passing it to a writer raises
    ``ValueError`` naming the versions written (0.4, 0.5)."""

    zarr_format = 2

    def generate_well_dict(self, well: str, rows: list[str], columns: list[str]) -> dict:
        return {"path": str(well)}

    def validate_well_dict(self, well: dict, rows: list[str], columns: list[str]) -> None:
        if not isinstance(well, Mapping) or not isinstance(well.get("path"), str):
            invalid("well", well, "must be a dict with a string path")

    def generate_coordinate_transformations(self, shapes: list[tuple]) -> None:
        return None

    def validate_coordinate_transformations(self, *args: Any, **kwargs: Any) -> None:
        return None


class FormatV01(_Old):
    version = "0.1"


class FormatV02(_Old):
    version = "0.2"


class FormatV03(_Old):
    version = "0.3"


CurrentFormat = FormatV05


def format_implementations() -> Iterator[meta.Format]:
    """One instance of each version, newest first."""
    yield from (FormatV05(), FormatV04(), FormatV03(), FormatV02(), FormatV01())


def format_from_version(version: str | float) -> meta.Format:
    """The Format of ``version`` ("0.1" to "0.5")."""
    for fmt in format_implementations():
        if fmt.version == str(version):
            return fmt
    raise ArgumentError(f"version={version!r}: Version {version} not recognized")


def detect_format(metadata: Mapping[str, Any], default: meta.Format) -> meta.Format:
    """The Format that ``metadata`` says, else ``default``."""
    for fmt in format_implementations():
        if metadata and fmt.matches(metadata):
            return fmt
    return default


def _metadata_version(metadata: Mapping[str, Any]) -> str | None:
    if "version" in metadata:  # 0.5: under "ome"
        return metadata["version"]
    multiscales = metadata.get("multiscales")
    if multiscales:
        return multiscales[0].get("version")
    for key in ("plate", "well", "image-label"):
        if metadata.get(key):
            return metadata[key].get("version")
    return None
