"""zstd on the GPU (nvCOMP) through the stand-ins (tests/fakecupy: CuPy and nvCOMP, the latter
encoding with CPU zstd into frames without a content size): every CPU reader decodes the
output to the same array."""

import numcodecs
import numpy as np
import pytest
import zarr
import zstandard

import gpu_omezarr as g
from gpu_omezarr import gpu_zstd
from gpu_omezarr.backends import NumpyBackend

OPTIONS = dict(axes="zyx", scale_factors=[{"y": 2, "x": 2}, {"y": 4, "x": 4}], method="mean")


def image():
    rng = np.random.default_rng(3)
    return (rng.integers(0, 50, (9, 70, 90)) * 16).astype(np.uint16)


def chunk_files(path):
    return [p for p in path.rglob("*") if p.is_file() and not p.name.startswith((".", "zarr"))]


@pytest.mark.parametrize(
    ("version", "storage"),
    [
        ("0.5", {"chunks": (4, 16, 16), "shards": (8, 32, 32)}),
        ("0.5", {"chunks": (4, 16, 16), "shards": None}),
        ("0.4", {"chunks": (4, 16, 16)}),
    ],
)
def test_gpu_zstd_output_decodes_to_the_same_array(fake_cupy, tmp_path, version, storage):
    from nvidia import nvcomp

    nvcomp.STATS.clear()
    x = image()
    path = tmp_path / "gpu.zarr"
    g.write_image(x, str(path), version=version, storage_options=storage, **OPTIONS)
    assert nvcomp.STATS["chunks"] > 0
    if storage.get("shards"):  # one batch per shard: all its inner chunks at once
        assert nvcomp.STATS["batches"] < nvcomp.STATS["chunks"]
    want = tmp_path / "cpu.zarr"
    g.write_image(
        x, str(want), version=version, storage_options=storage, backend=NumpyBackend(), **OPTIONS
    )
    got, ref = zarr.open_group(str(path), mode="r"), zarr.open_group(str(want), mode="r")
    for key in ref.array_keys():
        np.testing.assert_array_equal(got[key][...], ref[key][...])
    if not storage.get("shards"):  # a stored chunk: a plain zstd frame numcodecs decodes
        stored = next(p for p in chunk_files(path / "s0") if p.stat().st_size > 0)
        frame = stored.read_bytes()
        assert zstandard.get_frame_parameters(frame).content_size == zstandard.CONTENTSIZE_UNKNOWN
        assert len(numcodecs.Zstd().decode(frame)) == 4 * 16 * 16 * 2


def test_gpu_zstd_off_and_checksums_stay_on_the_cpu(fake_cupy, tmp_path, monkeypatch):
    from nvidia import nvcomp

    nvcomp.STATS.clear()
    monkeypatch.setenv(gpu_zstd.ENV_VAR, "off")
    g.write_image(
        image(), str(tmp_path / "off.zarr"), storage_options={"chunks": (4, 16, 16)}, **OPTIONS
    )
    assert nvcomp.STATS["chunks"] == 0
    monkeypatch.setenv(gpu_zstd.ENV_VAR, "auto")
    assert isinstance(gpu_zstd.zstd_codec(3, checksum=True), numcodecs.Zstd)
    assert isinstance(gpu_zstd.zstd_codec(3, checksum=False), gpu_zstd.NvcompZstd)


def test_gpu_zstd_on_without_nvcomp_is_an_error(monkeypatch):
    monkeypatch.setattr(gpu_zstd, "_available", lambda: "nvCOMP is not installed")
    monkeypatch.setenv(gpu_zstd.ENV_VAR, "on")
    with pytest.raises(RuntimeError, match="GPU_OMEZARR_GPU_ZSTD=on: nvCOMP is not installed"):
        gpu_zstd.zstd_codec(1, checksum=False)
    monkeypatch.setenv(gpu_zstd.ENV_VAR, "auto")
    assert isinstance(gpu_zstd.zstd_codec(1, checksum=False), numcodecs.Zstd)
    monkeypatch.setenv(gpu_zstd.ENV_VAR, "maybe")
    with pytest.raises(ValueError, match="expected auto, on or off"):
        gpu_zstd.zstd_codec(1, checksum=False)
