"""A Zarr source's chunks decoded on several threads at once: the same values (fill values for
missing chunks and shards), the same stored bytes for the copy, every thread used."""

import threading

import numpy as np
import pytest
import zarr

import gpu_omezarr as g
import gpu_omezarr.reader
import gpu_omezarr.stream
from gpu_omezarr.reader import ChunkReader, read_threads

LAYOUTS = {
    "v3 chunks": {"chunks": (2, 5, 7)},
    "v3 shards": {"chunks": (2, 5, 7), "shards": (2, 10, 14)},
    "v2 chunks": {"chunks": (2, 5, 7), "zarr_format": 2},
}


def _source(tmp_path, layout):
    x = np.random.default_rng(3).integers(0, 5000, (6, 23, 40)).astype(np.uint16)
    array = zarr.create_array(
        str(tmp_path / "src.zarr"), shape=x.shape, dtype=x.dtype, fill_value=7, **LAYOUTS[layout]
    )
    array[...] = x
    for coords in [(0, 0, 0), (2, 3, 4)]:  # never written: read as the fill value
        key = array.metadata.encode_chunk_key(coords)
        zarr.core.sync.sync(array.store.delete(key))
    return array


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_many_threads_read_what_one_thread_reads(tmp_path, monkeypatch, layout):
    monkeypatch.setattr(gpu_omezarr.reader, "BATCH_BYTES", 1)  # a thread for every chunk
    array = _source(tmp_path, layout)
    one, many = ChunkReader(array, threads=1), ChunkReader(array, threads=4)
    for region in [(slice(0, 6), slice(0, 23), slice(0, 40)), (slice(1, 5), slice(3, 21), slice(6, 33))]:  # fmt: skip
        stored_one: dict = {}
        stored_many: dict = {}
        expected = array[region]
        np.testing.assert_array_equal(one.read(region, stored_one), expected)
        np.testing.assert_array_equal(many.read(region, stored_many), expected)
        assert stored_one == stored_many and len(stored_one) > 4


def test_chunks_are_decoded_on_every_thread_at_once(tmp_path, monkeypatch):
    """Four threads each wait at a barrier in their first decode: it only opens when four
    decode at the same time (a serial reader breaks it)."""
    monkeypatch.setattr(gpu_omezarr.reader, "BATCH_BYTES", 1)
    array = _source(tmp_path, "v3 chunks")
    reader = ChunkReader(array, threads=4)
    barrier, waited = threading.Barrier(4, timeout=60), set()
    decode = reader.codec.decode

    def meeting(data, out=None):
        if threading.get_ident() not in waited:
            waited.add(threading.get_ident())
            barrier.wait()
        return decode(data, out)

    monkeypatch.setattr(reader.codec, "decode", meeting)
    np.testing.assert_array_equal(reader[0:6, 0:23, 0:40], array[...])
    assert len(waited) == 4


def test_a_write_from_a_zarr_source_decoded_in_parallel_is_the_write_from_memory(
    tmp_path, monkeypatch
):
    monkeypatch.setattr(gpu_omezarr.reader, "BATCH_BYTES", 1)
    monkeypatch.setattr(gpu_omezarr.stream, "TILE_BYTES", 1)
    monkeypatch.setenv("GPU_OMEZARR_READ_THREADS", "3")
    array = _source(tmp_path, "v3 shards")
    options = {"axes": "zyx", "scale_factors": (2,), "storage_options": {"chunks": (2, 8, 8)}}
    g.write_image(array, str(tmp_path / "from_zarr.zarr"), **options)
    g.write_image(array[...], str(tmp_path / "from_memory.zarr"), **options)
    for level in ("s0", "s1"):
        ours = zarr.open_array(str(tmp_path / "from_zarr.zarr"), path=level, mode="r")
        theirs = zarr.open_array(str(tmp_path / "from_memory.zarr"), path=level, mode="r")
        np.testing.assert_array_equal(ours[...], theirs[...])


def test_read_threads_setting(monkeypatch):
    monkeypatch.setenv("GPU_OMEZARR_READ_THREADS", "5")
    assert read_threads() == 5
    monkeypatch.setenv("GPU_OMEZARR_READ_THREADS", "many")
    with pytest.raises(ValueError, match="GPU_OMEZARR_READ_THREADS"):
        read_threads()
