"""Where OME blocks live in a group's attributes, for each version, and reading them back.

0.4 (Zarr v2): blocks at the top level of ``.zattrs``, each versioned object carrying
``"version": "0.4"``. 0.5 and 0.6 (Zarr v3): everything under ``attributes["ome"]`` with
one ``ome.version``; ``plate.version`` is written too, as readers such as ome-zarr-models expect it.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from ._errors import invalid
from .format import Format, format_from_version

OME_KEYS = (
    "multiscales",
    "omero",
    "labels",
    "image-label",
    "plate",
    "well",
    "bioformats2raw.layout",
    "scene",
)
# Objects that carry their own "version" in 0.4.
_VERSIONED_04 = ("image-label", "plate", "well")


def to_attributes(fmt: Format, blocks: Mapping[str, Any]) -> dict[str, Any]:
    """Place OME ``blocks`` (``{"multiscales": [...], "omero": {...}}``...) for ``fmt``."""
    blocks = copy.deepcopy(dict(blocks))
    if not fmt.nests_under_ome:
        for entry in blocks.get("multiscales", []):
            entry["version"] = fmt.version
        for key in _VERSIONED_04:
            if key in blocks:
                blocks[key]["version"] = fmt.version
        return blocks
    if "plate" in blocks:
        blocks["plate"]["version"] = fmt.version
    return {"ome": {"version": fmt.version, **blocks}}


def read_ome(attributes: Mapping[str, Any]) -> tuple[str | None, dict[str, Any]]:
    """The OME version of a group's attributes (None when it has no OME metadata) and its
    OME blocks, whichever version wrote them."""
    if isinstance(attributes.get("ome"), Mapping):
        ome = dict(attributes["ome"])
        version = ome.pop("version", None)
        return (str(version) if version is not None else None), ome
    blocks = {k: copy.deepcopy(attributes[k]) for k in OME_KEYS if k in attributes}
    version = None
    for entry in blocks.get("multiscales", []):
        version = version or entry.get("version")
    for key in _VERSIONED_04:
        if isinstance(blocks.get(key), Mapping):
            version = version or blocks[key].get("version")
    return (str(version) if version is not None else None), blocks


def _block_order(key: str) -> int:
    return OME_KEYS.index(key) if key in OME_KEYS else len(OME_KEYS)


def merge_attributes(
    existing: Mapping[str, Any], fmt: Format, blocks: Mapping[str, Any]
) -> dict[str, Any]:
    """``existing`` attributes with ``blocks`` set, refusing to mix versions in one group.

    Keys that are not OME's are kept; OME blocks given replace those of the same name. The
    blocks are written in one fixed order, so the same metadata is the same bytes however it
    was reached (a resumed write equals an uninterrupted one).
    """
    version, current = read_ome(existing)
    if version is not None and format_from_version(version) != fmt:
        invalid("version", fmt.version, f"the existing group holds OME-NGFF {version} metadata")
    given = {**current, **blocks}
    merged = {k: given[k] for k in sorted(given, key=_block_order)}
    if not fmt.nests_under_ome:  # strip versions, to_attributes sets them again
        for entry in merged.get("multiscales", []):
            entry.pop("version", None)
    foreign = {k: v for k, v in existing.items() if k != "ome" and k not in OME_KEYS}
    return {**foreign, **to_attributes(fmt, merged)}
