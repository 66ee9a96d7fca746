"""The GPU write path through the strict stand-in (tests/fakecupy): the tile pipeline (pinned
buffers, streams, events), device inputs, dask arrays of CuPy chunks, region tasks, and the
choice of backend."""

import numpy as np
import pytest
import zarr

import gpu_omezarr as g
import gpu_omezarr.stream
from gpu_omezarr.backends import NumpyBackend, get_backend
from gpu_omezarr.backends import cuda_pipeline as pipeline

OPTIONS = dict(axes="zyx", scale_factors=[{"y": 2, "x": 2}, 4, {"z": 2, "y": 8, "x": 8}])
STORAGE = {"chunks": (4, 16, 16)}


def image(dtype=np.uint16):
    rng = np.random.default_rng(11)
    return rng.integers(0, 60000, (13, 70, 90)).astype(dtype)


def levels(path):
    root = zarr.open_group(path, mode="r")
    return [root[k][...] for k in sorted(root.array_keys())]


def write(src, path, backend, method="mean", **kwargs):
    g.write_image(
        src, str(path), method=method, backend=backend, storage_options=STORAGE, **OPTIONS, **kwargs
    )
    return levels(path)


@pytest.fixture(autouse=True)
def cpu_zstd(monkeypatch):
    """The pipeline's transfers alone: GPU zstd (tests/test_gpu_zstd.py) would add its own."""
    monkeypatch.setenv("GPU_OMEZARR_GPU_ZSTD", "off")


@pytest.fixture
def many_tiles(monkeypatch):
    monkeypatch.setattr(gpu_omezarr.stream, "TILE_BYTES", 1)  # the smallest aligned tiles


@pytest.mark.parametrize(
    ("dtype", "method"), [(np.uint16, "mean"), (np.uint32, "mode"), (np.float32, "mean")]
)
def test_pipeline_writes_what_the_numpy_backend_writes(
    fake_cupy, many_tiles, tmp_path, dtype, method
):
    from gpu_omezarr.backends.cupy_backend import CupyBackend

    x = image(dtype)
    want = write(x, tmp_path / "cpu.zarr", NumpyBackend(), method)
    gpu = CupyBackend()
    got = write(x, tmp_path / "gpu.zarr", gpu, method)
    assert len(got) == len(want) == 4
    for a, b in zip(got, want):
        np.testing.assert_array_equal(a, b)
    stats = fake_cupy.cuda.fake_stats
    tiles = gpu.stats["tiles"]
    assert tiles > pipeline.DEPTH  # slots were reused
    assert stats["h2d"] == tiles  # one copy in per tile, nothing else
    assert stats["d2h"] == 3 * tiles  # one copy out per coarser level
    assert stats["pageable_async"] == 0  # every async copy from / to pinned memory
    assert stats["blocking_d2h"] == 0  # no copy out holds the host until the slot is due
    assert stats["streams"] == pipeline.DEPTH
    assert stats["launches"] == 3 * tiles
    assert all(gpu.stats[k] >= 0 for k in ("h2d_s", "kernels_s", "d2h_s", "staging_s"))


def test_stand_in_catches_a_missing_wait(fake_cupy, many_tiles, tmp_path, monkeypatch):
    """Without the event wait the levels are read before their copies ran: poison, not
    results. (A test of the stand-in's stream model.)"""
    from gpu_omezarr.backends.cupy_backend import CupyBackend

    monkeypatch.setattr(pipeline._Slot, "finish", _finish_without_waiting)
    x = image()
    got = write(x, tmp_path / "gpu.zarr", CupyBackend())
    want = write(x, tmp_path / "cpu.zarr", NumpyBackend())
    assert not np.array_equal(got[1], want[1])
    assert np.any(got[1] == 0xA5A5)  # poison (or an older tile left in a reused buffer)


def _finish_without_waiting(self, stats):
    result = (self.key, [v.copy() for v in self.views])
    self.stream.synchronize()  # too late: the copies above were of the poisoned buffers
    return result


def test_device_input_never_crosses_to_the_host_before_the_kernels(fake_cupy, many_tiles, tmp_path):
    from gpu_omezarr.backends.cupy_backend import CupyBackend

    x = image()
    want = write(x, tmp_path / "cpu.zarr", NumpyBackend())
    d = fake_cupy.asarray(x)
    fake_cupy.cuda.fake_stats.clear()
    gpu = CupyBackend()
    got = write(d, tmp_path / "gpu.zarr", gpu)
    for a, b in zip(got, want):
        np.testing.assert_array_equal(a, b)
    stats = fake_cupy.cuda.fake_stats
    assert stats["h2d"] == 0  # the kernels read the device tiles where they are
    assert stats["d2h"] == 4 * gpu.stats["tiles"]  # level 0 and each coarser level, once


def test_big_endian_zarr_source_on_the_gpu(fake_cupy, tmp_path):
    """A Zarr v2 '>u2' source: level 0 was right and every coarser level silently wrong."""
    from gpu_omezarr.backends.cupy_backend import CupyBackend

    x = image()
    src = zarr.create_array(
        str(tmp_path / "src.zarr"), shape=x.shape, chunks=(4, 16, 16), dtype=">u2", zarr_format=2
    )
    src[...] = x
    want = write(x, tmp_path / "cpu.zarr", NumpyBackend())
    got = write(
        zarr.open_array(str(tmp_path / "src.zarr"), mode="r"), tmp_path / "gpu.zarr", CupyBackend()
    )
    for a, b in zip(got, want):
        np.testing.assert_array_equal(a, b)


def test_dask_array_of_cupy_chunks(fake_cupy, many_tiles, tmp_path):
    da = pytest.importorskip("dask.array")
    from gpu_omezarr.backends.cupy_backend import CupyBackend

    x = image()
    lazy = da.from_array(x, chunks=(5, 32, 32)).map_blocks(
        fake_cupy.asarray, meta=fake_cupy.empty((0, 0, 0), x.dtype)
    )
    want = write(x, tmp_path / "cpu.zarr", NumpyBackend())
    got = write(lazy, tmp_path / "gpu.zarr", CupyBackend())
    for a, b in zip(got, want):
        np.testing.assert_array_equal(a, b)


def test_region_tasks_get_their_region_of_a_device_array(fake_cupy, tmp_path, monkeypatch):
    import gpu_omezarr.regions as regions
    from gpu_omezarr.backends.cupy_backend import CupyBackend

    monkeypatch.setattr(regions, "REGION_BYTES", 2 * 16 * 32 * 2)
    shapes = []
    write_region = regions.write_region

    def recording(write, p, piece, *args, **kwargs):
        shapes.append(tuple(piece.shape))
        return write_region(write, p, piece, *args, **kwargs)

    monkeypatch.setattr(regions, "write_region", recording)
    x = image()
    d = fake_cupy.asarray(x)
    graph = g.write_image(
        d,
        str(tmp_path / "gpu.zarr"),
        backend=CupyBackend(),
        storage_options=STORAGE,
        compute=False,
        **OPTIONS,
    )
    import dask

    dask.compute(*graph, scheduler="sync")
    assert len(shapes) > 1 and all(np.prod(s) < x.size for s in shapes)
    want = write(x, tmp_path / "cpu.zarr", NumpyBackend())
    for a, b in zip(levels(tmp_path / "gpu.zarr"), want):
        np.testing.assert_array_equal(a, b)


def test_auto_falls_back_with_the_reason_when_kernels_cannot_compile(fake_cupy, monkeypatch):
    """A driver but no NVRTC: auto used to pick CuPy and fail at the first kernel."""
    from gpu_omezarr.backends import CupyUnavailable

    monkeypatch.delenv("GPU_OMEZARR_BACKEND", raising=False)
    monkeypatch.setenv("FAKECUPY_NVRTC", "0")
    with pytest.warns(RuntimeWarning, match="kernels do not compile.*libnvrtc"):
        assert get_backend("auto").name == "numpy"
    with pytest.raises(CupyUnavailable, match="NVRTC"):
        get_backend("cupy")


def test_auto_is_quiet_without_a_device_and_picks_a_working_gpu(fake_cupy, monkeypatch, recwarn):
    monkeypatch.delenv("GPU_OMEZARR_BACKEND", raising=False)
    monkeypatch.setenv("FAKECUPY_DEVICES", "0")
    assert get_backend("auto").name == "numpy"
    monkeypatch.setenv("FAKECUPY_DEVICES", "1")
    assert get_backend("auto").name == "cupy"
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]
