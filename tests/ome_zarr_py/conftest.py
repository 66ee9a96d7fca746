"""ome-zarr-py 0.18.0's own ``tests/test_writer.py`` (vendored, imports pointed at
``gpu_omezarr.ome_zarr``) runs against our writers. The tests that assert behaviour we
change on purpose are expected to fail (strictly: if one passes, the difference is gone and
this list must shrink); each reason is a row of docs/ome-zarr-py-differences.md.
"""

from __future__ import annotations

import pytest
import skimage.data

_binary_blobs = skimage.data.binary_blobs


def _seeded_blobs(*args, rng=0, **kwargs):
    """The suite draws its label blobs without a seed; seeded here (before the test module
    imports the function) so that every run tests the same data. Unseeded, about one draw
    in 75 has no blob that wins a whole 16 x 16 block, and our mode downsampling (the
    label default; ome-zarr-py's is nearest) then leaves level 4 without that label."""
    return _binary_blobs(*args, rng=rng, **kwargs)


skimage.data.binary_blobs = _seeded_blobs

Z_HALVED = (
    "integer scale_factors halve z too once voxels are near isotropic (ours); ome-zarr-py "
    "never downsamples z for integer factors"
)
CEIL_SHAPES = (
    "levels are ceil(n / f) pixels at exactly f times the scale (edge blocks partial, no "
    "pixel dropped); ome-zarr-py resizes to n // f pixels, scale n / (n // f)"
)
DEFAULT_CODECS = (
    "our defaults: zstd level 1 (faster, same ratio class) and, in 0.5, shards of 4 x 4 "
    "chunks; ome-zarr-py: zstd level 0 (= 3), unsharded"
)
NO_V03 = (
    "OME-NGFF 0.3 is refused (ome-zarr-py itself stopped writing 0.3 images in 0.15); "
    "ome-zarr-py still writes 0.3 multiscales metadata"
)
WELL_DICT = (
    "a well dict without rowIndex / columnIndex is completed from its path (a contradicting "
    "one is refused); ome-zarr-py refuses it"
)
UNKNOWN_VERSION = (
    "to_ome_zarr(version='0.5.5') raises ValueError; ome-zarr-py writes nothing and says "
    "nothing for a pathlib.Path group"
)

# test name (and parameter prefix) -> reason
EXPECTED_TO_FAIL = {
    "TestWriter::test_image_class_bad_args": UNKNOWN_VERSION,
    "TestWriter::test_write_image_current[": Z_HALVED,
    "TestWriter::test_write_image_dask[": f"{Z_HALVED}; {CEIL_SHAPES}",
    "TestWriter::test_default_compression[": DEFAULT_CODECS,
    "TestMultiscalesMetadata::test_axes_V03[": NO_V03,
    "TestPlateMetadata::test_invalid_well_keys[wells1]": WELL_DICT,
    "TestPlateMetadata::test_invalid_well_keys[wells2]": WELL_DICT,
    "TestPlateMetadata::test_invalid_well_keys[wells3]": WELL_DICT,
    "TestPlateMetadata::test_missing_well_keys": WELL_DICT,
}


def _reason(nodeid: str) -> str | None:
    name = nodeid.split("test_writer.py::", 1)[-1]
    for key, reason in EXPECTED_TO_FAIL.items():
        if name == key or (key.endswith("[") and name.startswith(key)):
            return reason
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if "ome_zarr_py" in item.nodeid and (reason := _reason(item.nodeid)) is not None:
            item.add_marker(pytest.mark.xfail(reason=reason, strict=True))
