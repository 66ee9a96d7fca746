"""OME-NGFF versions: 0.4 lives on Zarr v2, 0.5 and 0.6 on Zarr v3."""

from __future__ import annotations

from typing import Any

from ._errors import invalid

SUPPORTED_VERSIONS = ("0.4", "0.5", "0.6")
DEFAULT_VERSION = "0.5"


class Format:
    """An OME-NGFF version and the Zarr format it is stored in.

    Instances compare equal by version, so ``FormatV05() == FormatV05()``.
    """

    version: str
    zarr_format: int

    @property
    def nests_under_ome(self) -> bool:
        """0.5 keeps all OME metadata under ``attributes["ome"]``; 0.4 at the top level."""
        return self.version != "0.4"

    @property
    def has_coordinate_systems(self) -> bool:
        """0.6 (RFC-5): named coordinate systems; transformations say their input/output."""
        return self.version == "0.6"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Format) and other.version == self.version

    def __hash__(self) -> int:
        return hash(self.version)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class FormatV04(Format):
    version = "0.4"
    zarr_format = 2


class FormatV05(Format):
    version = "0.5"
    zarr_format = 3


class FormatV06(Format):
    version = "0.6"
    zarr_format = 3


# "0.6rc0" (the release candidate, which the released 0.6 schemas accept) reads as 0.6;
# writes always say "0.6".
_BY_VERSION: dict[str, Format] = {
    "0.4": FormatV04(),
    "0.5": FormatV05(),
    "0.6": FormatV06(),
    "0.6rc0": FormatV06(),
}


def format_from_version(version: str) -> Format:
    """The :class:`Format` for ``"0.4"``, ``"0.5"`` or ``"0.6"``."""
    try:
        return _BY_VERSION[str(version)]
    except KeyError:
        invalid("version", version, f"supported versions are {', '.join(SUPPORTED_VERSIONS)}")


def resolve_format(fmt: Any = None, version: str | None = None) -> Format:
    """Pick the format from ``fmt`` (ours or any object with ``.version``, such as
    ome-zarr-py's Format classes) or ``version``; default 0.5.
    """
    if fmt is not None:
        fmt_version = getattr(fmt, "version", None)
        if fmt_version is None:
            invalid("fmt", fmt, "expected a Format object with a .version, e.g. FormatV05()")
        resolved = format_from_version(fmt_version)
        if version is not None and format_from_version(version) != resolved:
            invalid("version", version, f"contradicts fmt (version {fmt_version})")
        return resolved
    return format_from_version(DEFAULT_VERSION if version is None else version)
