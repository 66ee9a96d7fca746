"""The pyramid plan: every level's shape, factors, chunks, shards and physical transforms.

Pure: from shape, axes, scale factors and storage options to a list of :class:`Level`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .metadata._errors import invalid, wrong_type

DEFAULT_SCALE_FACTORS = (2, 4, 8, 16)
YX_CHUNK = 256  # 128 KiB uint16 tiles: what napari, neuroglancer and viv read well
Z_CHUNK = 16  # 3-D chunks thin enough that one slab of level 0 stays small
SHARD_CHUNKS = 4  # chunks per shard along y and x (16 per shard): fewer, larger files


@dataclass(frozen=True)
class Level:
    """One dataset of the pyramid. ``factors`` are relative to the level before,
    ``cumulative`` to level 0."""

    path: str
    shape: tuple[int, ...]
    factors: tuple[int, ...]
    cumulative: tuple[int, ...]
    chunks: tuple[int, ...]
    shards: tuple[int, ...] | None
    scale: tuple[float, ...]
    translation: tuple[float, ...] | None


@dataclass(frozen=True)
class Placement:
    """Where level 0 sits in physical space, and how the coarser levels' origins follow.

    ``scale`` and ``translation``: per axis, as a list or a dict by axis name (defaults 1
    and 0). ``centred``: coarser levels' translations keep each pixel's centre where it is
    (block methods, ``mean`` and ``mode``); else they keep level 0's (``nearest``).
    ``translated=False`` writes scales only (ome-zarr-py's convention).
    """

    scale: Any = None
    translation: Any = None
    centred: bool = True
    translated: bool = True


def _per_axis(value: Any, names: Sequence[str], field: str, default: float) -> list[float]:
    if value is None:
        return [default] * len(names)
    if isinstance(value, Mapping):
        unknown = set(value) - set(names)
        if unknown:
            invalid(field, dict(value), f"names axes {sorted(unknown)} not in {list(names)}")
        return [value.get(n, default) for n in names]
    if isinstance(value, str) or not isinstance(value, Sequence):
        wrong_type(field, value, "a dict by axis name or a list with one value per axis")
    if len(value) != len(names):
        invalid(field, list(value), f"needs {len(names)} values, one per axis {list(names)}")
    return list(value)


def _positive_finite(field: str, values: Sequence[Any]) -> list[float]:
    for v in values:
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) or v <= 0:
            invalid(field, list(values), "values must be positive finite numbers")
    return list(values)


def cumulative_factors(
    scale_factors: Any,
    shape: Sequence[int],
    names: Sequence[str],
    types: Sequence[str | None],
    chunks: Sequence[int],
    scale: Sequence[float],
) -> list[tuple[int, ...]]:
    """Cumulative factors for each level after level 0.

    ``scale_factors``: integers (cumulative y/x factors, as ome-zarr-py's default
    ``(2, 4, 8, 16)``), a list of dicts by axis name (cumulative factors, any axis), or
    ``"auto"`` (halve until the coarsest level fits one chunk). For integers and ``"auto"``,
    a z axis is halved too once its voxels would not become coarser than y/x (isotropy).
    """
    ndim = len(shape)
    spatial = [i for i, t in enumerate(types) if t == "space"]
    yx, z = spatial[-2:], spatial[:-2]
    if scale_factors is None:
        scale_factors = DEFAULT_SCALE_FACTORS
    if isinstance(scale_factors, str):
        if scale_factors != "auto":
            invalid("scale_factors", scale_factors, "use integers, dicts by axis, or 'auto'")
        levels: list[int] = []
        fxy = 1
        while any(-(-shape[i] // fxy) > chunks[i] for i in spatial):
            fxy *= 2
            levels.append(fxy)
        scale_factors = tuple(levels)
    if isinstance(scale_factors, Mapping) or not isinstance(scale_factors, Sequence):
        wrong_type("scale_factors", scale_factors, "a list of integers or of dicts by axis")
    result: list[tuple[int, ...]] = []
    previous = (1,) * ndim
    for i, entry in enumerate(scale_factors):
        field = f"scale_factors[{i}]"
        if isinstance(entry, Mapping):
            values = _per_axis(entry, names, field, 1)
        elif isinstance(entry, int) and not isinstance(entry, bool):
            values = [1] * ndim
            for a in yx:
                values[a] = entry
            for a in z:  # isotropy: halve z while its voxel stays no coarser than y/x
                fz = previous[a]
                if scale[a] * fz * 2 <= 1.5 * min(scale[b] * entry for b in yx):
                    fz *= 2
                values[a] = fz
        else:
            wrong_type(field, entry, "an integer or a dict by axis name")
        # Whole floats (2.0, as ome-zarr-py's examples write) are integers.
        values = [int(v) if isinstance(v, float) and v.is_integer() else v for v in values]
        # An axis of length 1 cannot be halved: it keeps its factor, hence its scale, unless
        # the level downsamples nothing else (an image of one pixel: the level as asked).
        kept = [previous[a] if shape[a] == 1 else v for a, v in enumerate(values)]
        if tuple(kept) != previous:
            values = kept
        for a, v in enumerate(values):
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                invalid(field, entry, f"factor for axis {names[a]!r} must be an integer >= 1")
            if v % previous[a]:
                invalid(
                    field,
                    entry,
                    f"factor {v} for axis {names[a]!r} is not a multiple of "
                    f"the previous level's {previous[a]}",
                )
        values_t = tuple(values)
        if values_t == previous:
            invalid(field, entry, "each level must downsample at least one axis further")
        result.append(values_t)
        previous = values_t
    return result


def default_chunks(shape: Sequence[int], types: Sequence[str | None]) -> tuple[int, ...]:
    spatial = [i for i, t in enumerate(types) if t == "space"]
    chunks = []
    for i, n in enumerate(shape):
        if i in spatial[-2:]:
            chunks.append(min(n, YX_CHUNK))
        elif i in spatial:
            chunks.append(min(n, Z_CHUNK))
        else:
            chunks.append(1)
    return tuple(chunks)


def default_shards(
    shape: Sequence[int], chunks: Sequence[int], types: Sequence[str | None]
) -> tuple[int, ...]:
    spatial = [i for i, t in enumerate(types) if t == "space"]
    return tuple(
        min(c * SHARD_CHUNKS, -(-n // c) * c) if i in spatial[-2:] else c
        for i, (n, c) in enumerate(zip(shape, chunks, strict=True))
    )


def _check_blocks(field: str, value: Any, shape: Sequence[int]) -> tuple[int, ...]:
    """Chunk or shard shape: an int applies to every axis (as zarr); a shorter tuple
    applies to the last axes, the leading ones taking the array's own extent (as
    ome-zarr-py)."""
    ndim = len(shape)
    if isinstance(value, int) and not isinstance(value, bool):
        value = (value,) * ndim
    if isinstance(value, str) or not isinstance(value, Sequence):
        wrong_type(field, value, "a list of integers, one per axis")
    if not 1 <= len(value) <= ndim:
        invalid(field, list(value), f"needs 1 to {ndim} values (the last axes)")
    for v in value:
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            invalid(field, list(value), "values must be integers >= 1")
    return (*shape[: ndim - len(value)], *(int(v) for v in value))


def level_storage(
    options: Mapping[str, Any],
    shape: Sequence[int],
    types: Sequence[str | None],
    zarr_format: int,
    where: str,
) -> tuple[tuple[int, ...], tuple[int, ...] | None]:
    """Chunks and shards for one level from its storage options (defaults where absent):
    chunks clamped to the shape, shards a multiple of chunks, sharding only on Zarr v3."""
    given_chunks = options.get("chunks")
    if given_chunks is None:
        chunks = default_chunks(shape, types)
    else:
        given = _check_blocks(f"{where}chunks", given_chunks, shape)
        chunks = tuple(min(c, n) for c, n in zip(given, shape, strict=True))
    shards_opt = options.get("shards", "default")
    if shards_opt is None or shards_opt is False or zarr_format == 2:
        if zarr_format == 2 and shards_opt not in ("default", None, False):
            invalid(f"{where}shards", shards_opt, "sharding needs Zarr v3 (OME-NGFF 0.5)")
        return chunks, None
    if shards_opt == "default":
        shards = default_shards(shape, chunks, types)
    else:
        shards = _check_blocks(f"{where}shards", shards_opt, shape)
        # Clamp to the shape rounded up to whole chunks, so small levels are one shard.
        shards = tuple(
            min(s, -(-n // c) * c) for s, n, c in zip(shards, shape, chunks, strict=True)
        )
        for s, c in zip(shards, chunks, strict=True):
            if s % c:
                invalid(
                    f"{where}shards",
                    list(shards_opt),
                    f"must be multiples of chunks {list(chunks)}",
                )
    if all(s == c for s, c in zip(shards, chunks, strict=True)):
        return chunks, None  # one chunk per shard: plain chunks are the same, cheaper
    return chunks, shards


def level_options(storage_options: Any, i: int) -> Mapping[str, Any]:
    """Level ``i``'s storage options: the one dict for every level, or its own."""
    if storage_options is None:
        return {}
    if isinstance(storage_options, Mapping):
        return storage_options
    return storage_options[i] if len(storage_options) > 1 else storage_options[0]


def plan_levels(
    shape: Sequence[int],
    axes: Sequence[Mapping[str, Any]],
    scale_factors: Any,
    storage_options: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None,
    zarr_format: int,
    placement: Placement | None = None,
) -> list[Level]:
    """Every level of the pyramid, validated (``ValueError`` naming the bad parameter)."""
    placement = placement or Placement()
    names = [a["name"] for a in axes]
    types = [a.get("type") for a in axes]
    base_scale = _positive_finite("scale", _per_axis(placement.scale, names, "scale", 1.0))
    base_shift = _per_axis(placement.translation, names, "translation", 0.0)
    for v in base_shift:
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            invalid("translation", base_shift, "values must be finite numbers")
    options_list = storage_options
    if options_list is None or isinstance(options_list, Mapping):
        options_list = [options_list or {}]
    else:
        options_list = list(options_list)
        for i, o in enumerate(options_list):
            if not isinstance(o, Mapping):
                wrong_type(f"storage_options[{i}]", o, "a dict")
    chunks0, _ = level_storage(options_list[0], shape, types, zarr_format, "storage_options.")
    factors = [
        (1,) * len(shape),
        *cumulative_factors(scale_factors, shape, names, types, chunks0, base_scale),
    ]
    if 1 < len(options_list) < len(factors):
        invalid(
            "storage_options",
            f"{len(options_list)} dicts",
            f"give 1 or at least {len(factors)} (one per level; extra ones are unused)",
        )
    levels = []
    previous = factors[0]
    for i, cumulative in enumerate(factors):
        level_shape = tuple(-(-n // f) for n, f in zip(shape, cumulative, strict=True))
        options = options_list[i] if len(options_list) > 1 else options_list[0]
        where = f"storage_options[{i}]." if len(options_list) > 1 else "storage_options."
        chunks, shards = level_storage(options, level_shape, types, zarr_format, where)
        level_scale = tuple(s * f for s, f in zip(base_scale, cumulative, strict=True))
        if not placement.translated:
            shift = None
        elif not placement.centred:
            shift = tuple(float(t) for t in base_shift)
        else:  # block methods: keep each pixel's centre where it physically is
            shift = tuple(
                t + s * (f - 1) / 2
                for t, s, f in zip(base_shift, base_scale, cumulative, strict=True)
            )
        levels.append(
            Level(
                path=f"s{i}",
                shape=level_shape,
                factors=tuple(c // p for c, p in zip(cumulative, previous, strict=True)),
                cumulative=cumulative,
                chunks=chunks,
                shards=shards,
                scale=level_scale,
                translation=shift,
            )
        )
        previous = cumulative
    return levels
