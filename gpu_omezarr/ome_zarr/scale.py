"""ome-zarr-py's ``ome_zarr.scale``: the ``Methods`` enum and the (deprecated there)
``Scaler``, backed by our kernels, so a user of ``Scaler`` gets our speed.

``nearest`` and ``local_mean`` are ours (``x[::f]`` and the exact block mean, DESIGN.md);
each level has ``ceil(n / f)`` pixels per axis (ome-zarr-py: ``n // f``). The interpolating
methods (``resize_image``, ``zoom``, ``gaussian``, ``laplacian``) raise ``ValueError``
naming ``local_mean`` / ``nearest`` instead.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

import numpy as np

from ..backends import get_backend
from ..compat_args import ome_zarr_method
from ..metadata._errors import invalid

SPATIAL_DIMS = ("z", "y", "x")


class Methods(Enum):
    """ome-zarr-py's downsampling methods; ``LOCAL_MEAN`` and ``NEAREST`` are computed
    here, ``RESIZE`` and ``ZOOM`` (interpolating) are refused by the writers."""

    RESIZE = "resize"
    NEAREST = "nearest"
    LOCAL_MEAN = "local_mean"
    ZOOM = "zoom"


def _downsample(x: Any, factors: Sequence[int], method: str) -> np.ndarray:
    backend = get_backend("numpy")
    return backend.to_host(backend.downsample(np.ascontiguousarray(x), factors, method))


@dataclass
class Scaler:
    """Downsampling by ``downscale`` along y and x (the last two axes), ``max_layer``
    times. ``order`` is kept for ome-zarr-py's signature (resize only, not computed here)."""

    copy_metadata: bool = False
    downscale: int = 2
    in_place: bool = False
    labeled: bool = False
    max_layer: int = 4
    method: str = "nearest"
    order: int = 1

    @staticmethod
    def methods() -> Iterator[str]:
        """The method names a Scaler accepts (those computed here first)."""
        yield from ("nearest", "local_mean", "resize_image", "zoom", "gaussian", "laplacian")

    @property
    def func(self) -> Any:
        """The pyramid function named by ``method``."""
        if self.method not in tuple(self.methods()):
            invalid("Scaler.method", self.method, f"expected one of {list(self.methods())}")
        return getattr(self, self.method)

    def _pyramid(self, base: Any, method: str) -> list[np.ndarray]:
        base = np.asarray(base)
        if base.ndim < 2:
            invalid("base.shape", base.shape, "need at least 2 axes (y, x)")
        factors = (1,) * (base.ndim - 2) + (self.downscale, self.downscale)
        levels = [base]
        for _ in range(self.max_layer):
            levels.append(_downsample(levels[-1], factors, method))
        return levels

    def nearest(self, base: Any) -> list[np.ndarray]:
        """``base`` and ``max_layer`` levels, each the previous one's ``[..., ::d, ::d]``."""
        return self._pyramid(base, "nearest")

    def local_mean(self, base: Any) -> list[np.ndarray]:
        """``base`` and ``max_layer`` levels of d x d block means (exact, in base's dtype)."""
        return self._pyramid(base, "mean")

    def resize_image(self, image: Any) -> Any:
        """Refused: interpolating resampling is not computed here."""
        ome_zarr_method("resize", None, "mean")

    def zoom(self, base: Any) -> Any:
        """Refused: interpolating resampling is not computed here."""
        ome_zarr_method("zoom", None, "mean")

    def gaussian(self, base: Any) -> Any:
        """Refused: interpolating resampling is not computed here."""
        ome_zarr_method("gaussian", None, "mean")

    def laplacian(self, base: Any) -> Any:
        """Refused: interpolating resampling is not computed here."""
        ome_zarr_method("laplacian", None, "mean")

    def scale(self, input_array: str, output_directory: str) -> None:
        """Downsample the zarr array ``input_array`` into the group ``output_directory``
        (arrays ``base``, ``1``, ``2``...), as ome-zarr-py's Scaler."""
        import zarr

        base = zarr.open_array(input_array, mode="r")
        pyramid = self.func(base[...])
        group = zarr.open_group(output_directory, mode="a")
        for i, level in enumerate(pyramid):
            group.create_array("base" if i == 0 else str(i), data=level, chunks=base.chunks)
        if self.copy_metadata:
            group.attrs.update(base.attrs.asdict())


def _build_pyramid(
    image: Any,
    scale_factors: Sequence[Mapping[str, int]] | Sequence[int],
    dims: Sequence[str],
    method: str | Methods = "nearest",
    chunks: Any = None,
) -> list[Any]:
    """Level 0 and one level per entry of ``scale_factors`` (cumulative, by axis name; an
    integer list means ``2 ** i`` on y and x), computed with our kernels. Returns dask
    arrays, as ome-zarr-py."""
    import dask.array as da

    ours = ome_zarr_method(method, None, "nearest")
    if all(isinstance(s, int) for s in scale_factors):
        scale_factors = [
            {d: 2**i for d in dims if d in SPATIAL_DIMS[1:]}
            for i in range(1, len(scale_factors) + 1)
        ]
    data = np.asarray(image.compute() if hasattr(image, "compute") else image)
    levels = [data]
    previous = [1] * len(dims)
    for level in scale_factors:
        cumulative = [int(level.get(d, 1)) for d in dims]
        relative = [c // p for c, p in zip(cumulative, previous, strict=True)]
        levels.append(_downsample(levels[-1], relative, ours))
        previous = cumulative
    return [da.from_array(x, chunks=chunks) if chunks else da.from_array(x) for x in levels]
