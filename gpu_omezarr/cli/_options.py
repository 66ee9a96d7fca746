"""Parsing of the option values shared by the commands."""

from __future__ import annotations

import argparse
from typing import Any


def ints(text: str) -> tuple[int, ...]:
    """``"16,256,256"`` -> ``(16, 256, 256)``."""
    try:
        values = tuple(int(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r}: expected integers separated by commas"
        ) from None
    return values


def per_axis(text: str) -> dict[str, str] | list[str]:
    """``"z=2,y=0.5"`` -> ``{"z": "2", "y": "0.5"}``; ``"2,0.5,0.5"`` -> a list."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if all("=" in p for p in parts):
        return {k.strip(): v.strip() for k, v in (p.split("=", 1) for p in parts)}
    if any("=" in p for p in parts):
        raise argparse.ArgumentTypeError(f"{text!r}: use either 'z=2,y=0.5' or '2,0.5'") from None
    return parts


def floats_per_axis(text: str) -> dict[str, float] | list[float]:
    values = per_axis(text)
    try:
        if isinstance(values, dict):
            return {k: float(v) for k, v in values.items()}
        return [float(v) for v in values]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected numbers") from None


def scale_factors(text: str) -> Any:
    """``auto``; ``2,4,8`` (cumulative y/x factors); or ``z=1:2:4,y=2:4:8,x=2:4:8`` (each
    axis's cumulative factor per level)."""
    if text == "auto":
        return "auto"
    if "=" not in text:
        return ints(text)
    per = per_axis(text)
    assert isinstance(per, dict)
    try:
        columns = {axis: [int(f) for f in v.split(":")] for axis, v in per.items()}
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: factors must be integers") from None
    n = {len(v) for v in columns.values()}
    if len(n) != 1:
        raise argparse.ArgumentTypeError(
            f"{text!r}: give every axis the same number of levels"
        ) from None
    return [{axis: v[i] for axis, v in columns.items()} for i in range(n.pop())]


def codec(text: str, zarr_format: int) -> Any:
    """``zstd[:level]``, ``gzip[:level]``, ``blosc[:level]`` or ``none`` as zarr compressors."""
    import numcodecs
    import zarr

    name, _, level_text = text.partition(":")
    try:
        level = int(level_text) if level_text else None
    except ValueError:
        raise ValueError(f"--codec={text!r}: the level must be an integer") from None
    if name == "none":
        return None
    v3 = zarr_format == 3
    if name == "zstd":
        level = 1 if level is None else level
        return zarr.codecs.ZstdCodec(level=level) if v3 else numcodecs.Zstd(level=level)
    if name == "gzip":
        level = 6 if level is None else level
        return zarr.codecs.GzipCodec(level=level) if v3 else numcodecs.GZip(level=level)
    if name == "blosc":
        level = 5 if level is None else level
        if v3:
            return zarr.codecs.BloscCodec(cname="zstd", clevel=level, shuffle="bitshuffle")
        return numcodecs.Blosc(cname="zstd", clevel=level, shuffle=numcodecs.Blosc.BITSHUFFLE)
    raise ValueError(f"--codec={text!r}: use zstd[:level], gzip[:level], blosc[:level] or none")
