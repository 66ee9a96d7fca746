"""ome-zarr-py's ways of choosing the downsampling: ``method=`` as its ``Methods`` enum (or
that enum's value), and the deprecated ``scaler=`` (a ``Scaler``: method, downscale,
max_layer). Each is turned into ours, or refused with the alternative named."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .metadata._errors import invalid, wrong_type

OURS = ("mean", "nearest", "mode")
# ome-zarr-py's names with a faithful equivalent here.
EQUIVALENT = {"local_mean": "mean", "nearest": "nearest"}
# Interpolating methods (skimage / scipy resampling) that this writer does not compute.
INTERPOLATING = ("resize", "resize_image", "zoom", "laplacian", "gaussian")


def ome_zarr_method(method: Any, scaler: Any, default: str) -> str:
    """Our method name for ``method`` (ours, ``Methods.X`` or its value) or ``scaler``.

    ``scaler.method`` decides when a scaler is given (as in ome-zarr-py); ``None`` is
    ``default``.
    """
    if scaler is not None:
        if not hasattr(scaler, "method") or not hasattr(scaler, "max_layer"):
            wrong_type("scaler", scaler, "an ome-zarr-py Scaler (method, downscale, max_layer)")
        method, field = scaler.method, "scaler.method"
    else:
        field = "method"
    if method is None:
        return default
    name = getattr(method, "value", method)  # an Enum member, or its value
    if not isinstance(name, str):
        wrong_type(field, method, f"one of {', '.join(OURS)} or an ome_zarr Methods member")
    if name in OURS:
        return name
    if name in EQUIVALENT:
        return EQUIVALENT[name]
    if name in INTERPOLATING:
        invalid(
            field,
            method,
            "interpolating resampling is not implemented here; use Methods.LOCAL_MEAN "
            "('mean': the block mean, what resize's anti-aliasing approximates at integer "
            "factors) or Methods.NEAREST ('nearest'); 'mode' for labels",
        )
    invalid(field, method, f"expected one of {', '.join(OURS)} or an ome_zarr Methods member")


def scaler_factors(scaler: Any, axes: Sequence[dict], scale_factors: Any) -> Any:
    """``scale_factors`` unless a Scaler is given: then ``downscale ** i`` on y and x (the
    last two space axes) for ``i`` in 1..max_layer, as ome-zarr-py's Scaler."""
    if scaler is None:
        return scale_factors
    downscale = getattr(scaler, "downscale", 2)
    max_layer = scaler.max_layer
    for field, v in (("scaler.downscale", downscale), ("scaler.max_layer", max_layer)):
        if isinstance(v, bool) or not isinstance(v, int) or v < (2 if "down" in field else 0):
            invalid(field, v, "must be an integer (downscale >= 2, max_layer >= 0)")
    spatial = [a["name"] for a in axes if a.get("type") == "space"][-2:]
    return [{n: downscale**i for n in spatial} for i in range(1, max_layer + 1)]
