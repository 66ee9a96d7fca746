"""The writer's own encoding and reading of chunks (codecs.py, storage.py, reader.py) against
zarr-python's: the same stored bytes, the same values read back."""

import itertools

import numcodecs
import numpy as np
import pytest
import zarr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gpu_omezarr.codecs import ChunkCodec
from gpu_omezarr.reader import ChunkReader, region_reader
from gpu_omezarr.writer import chunk_writers

V3 = zarr.codecs
LAYOUTS = {  # name: create_array keywords
    "v3 zstd": {"compressors": V3.ZstdCodec(level=1)},
    "v3 zstd checksum": {"compressors": V3.ZstdCodec(level=3, checksum=True)},
    "v3 gzip": {"compressors": V3.GzipCodec(level=2)},
    "v3 zstd crc32c": {"compressors": [V3.ZstdCodec(level=1), V3.Crc32cCodec()]},
    "v3 raw": {"compressors": None},
    "v3 big-endian dtype": {"compressors": V3.ZstdCodec(level=1), "dtype": ">u2"},
    "v3 sharded": {"compressors": V3.ZstdCodec(level=1), "shards": (10, 14)},
    "v3 sharded crc32c": {
        "compressors": [V3.ZstdCodec(level=1), V3.Crc32cCodec()],
        "shards": (10, 21),
    },
    "v2 zstd": {"zarr_format": 2, "compressors": numcodecs.Zstd(level=1)},
    "v2 big-endian dtype": {"zarr_format": 2, "dtype": ">i2"},
    "v2 raw": {"zarr_format": 2, "compressors": None},
}
DTYPES = ["uint16", "int8", "float32", "bool", "uint64"]


def make_pair(tmp_path, layout, dtype, shape=(19, 29), chunks=(5, 7), fill_value=0):
    """The same array made twice (one for zarr to write, one for us); ``layout`` is a name
    of ``LAYOUTS`` or its keywords."""
    kwargs = {"dtype": dtype, **(LAYOUTS[layout] if isinstance(layout, str) else layout)}
    made = [
        zarr.create_array(
            str(tmp_path / name), shape=shape, chunks=chunks, fill_value=fill_value, **kwargs
        )
        for name in ("zarr.zarr", "ours.zarr")
    ]
    rng = np.random.default_rng(1)
    dtype = made[0].dtype
    if dtype == bool:
        x = rng.integers(0, 2, shape).astype(bool)
    elif dtype.kind == "f":
        x = rng.standard_normal(shape).astype(dtype)
    else:
        x = rng.integers(1, 100, shape).astype(dtype)
    return made, x


def stored(array, gzip_time=None):
    """Every stored chunk's bytes by key; ``gzip_time`` replaces gzip headers' time stamps
    (numcodecs writes the current time, we write zero)."""
    store = array.store
    keys = sorted(k for k in zarr.core.sync.sync(_keys(store)) if not k.endswith(".json"))
    proto = zarr.core.buffer.default_buffer_prototype()
    chunks = {k: zarr.core.sync.sync(store.get(k, proto)).to_bytes() for k in keys}
    if gzip_time is not None:
        chunks = {k: v[:4] + gzip_time + v[8:] for k, v in chunks.items()}
    return chunks


async def _keys(store):
    return [k async for k in store.list() if not k.startswith(".z") and "/.z" not in k]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_stored_bytes_are_the_bytes_zarr_stores(tmp_path, layout, dtype):
    (theirs, ours), x = make_pair(tmp_path, layout, dtype)
    theirs[...] = x
    with chunk_writers([ours]) as (writer,):
        writer.write((0, 0), x)
        writer.wait()
    assert ChunkCodec(ours).fast  # encoded here, not by zarr
    gzip_time = bytes(4) if "gzip" in layout else None
    assert stored(ours) == stored(theirs, gzip_time)
    if gzip_time:  # ours are the same bytes every time
        assert all(v[4:8] == gzip_time for v in stored(ours).values())
    np.testing.assert_array_equal(zarr.open_array(ours.store, mode="r")[...], x)


@st.composite
def regions(draw, shape):
    bounds = []
    for n in shape:
        a = draw(st.integers(0, n - 1))
        b = draw(st.integers(a + 1, n))
        bounds.append(slice(a, b))
    return tuple(bounds)


def _three_d(layout):
    """``layout`` for the (3, 19, 29) array of the reader tests (shards get a leading 2)."""
    kwargs = dict(LAYOUTS[layout])
    if "shards" in kwargs:
        kwargs["shards"] = (2, *kwargs["shards"])
    return kwargs


@pytest.mark.parametrize("dtype", ["uint16", "bool", "float32"])
@pytest.mark.parametrize("layout", list(LAYOUTS))
@settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_reader_reads_what_zarr_reads(tmp_path_factory, layout, dtype, data):
    tmp_path = tmp_path_factory.mktemp("r")
    (theirs, _), x = make_pair(
        tmp_path, _three_d(layout), dtype, shape=(3, 19, 29), chunks=(2, 5, 7), fill_value=1
    )
    theirs[...] = x
    # Units never written read as the fill value (whole shards, where sharded).
    for coords in [(0, 0, 0), (1, 1, 1)]:
        key = theirs.metadata.encode_chunk_key(coords)
        zarr.core.sync.sync(theirs.store.delete(key))
    if "shards" in LAYOUTS[layout]:  # and chunks left out of a shard (all fill) too
        theirs[2, 10:15, 0:7] = 1
    reader = region_reader(theirs)
    assert isinstance(reader, ChunkReader)
    region = data.draw(regions(theirs.shape))
    got = reader[region]
    assert got.dtype == theirs.dtype
    np.testing.assert_array_equal(got, theirs[region])
    whole = tuple(slice(0, n) for n in theirs.shape)  # every missing unit and chunk included
    np.testing.assert_array_equal(reader[whole], theirs[...])


def test_reader_leaves_what_it_cannot_read_to_zarr(tmp_path):
    blosc = zarr.create_array(
        str(tmp_path / "b.zarr"), shape=(8, 8), chunks=(2, 2), dtype="u1",
        compressors=V3.BloscCodec(),
    )  # fmt: skip
    fortran = zarr.create_array(
        str(tmp_path / "f.zarr"), shape=(8, 8), chunks=(2, 2), dtype="u1", zarr_format=2,
        order="F",
    )  # fmt: skip
    nested = zarr.create_array(
        str(tmp_path / "n.zarr"), shape=(8, 8), chunks=(4, 4), dtype="u1",
        serializer=V3.ShardingCodec(chunk_shape=(2, 2), codecs=[V3.ShardingCodec(chunk_shape=(1, 1))]),
        compressors=None,
    )  # fmt: skip
    for array in (blosc, fortran, nested):
        assert region_reader(array) is array
    x = np.arange(8)
    assert region_reader(x) is x


def test_reader_on_a_store_that_is_not_local(tmp_path):
    array = zarr.create_array(zarr.storage.MemoryStore(), shape=(9, 9), chunks=(4, 4), dtype="i4")
    array[...] = np.arange(81).reshape(9, 9)
    reader = region_reader(array)
    assert isinstance(reader, ChunkReader)
    np.testing.assert_array_equal(reader[1:8, 2:9], array[1:8, 2:9])
    np.testing.assert_array_equal(reader[::2, :], array[::2, :])  # a step: zarr's own read


def test_a_corrupt_checksummed_chunk_is_refused(tmp_path):
    (array, _), x = make_pair(tmp_path, "v3 zstd crc32c", "uint16")
    array[...] = x
    path = tmp_path / "zarr.zarr" / "c" / "0" / "0"
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="crc32c"):
        region_reader(array)[0:5, 0:7]


def test_every_chunk_of_a_region_is_read_once(tmp_path, monkeypatch):
    (array, _), x = make_pair(tmp_path, "v3 zstd", "uint16")
    array[...] = x
    reader = ChunkReader(array)
    seen = []
    get = reader.store.get
    monkeypatch.setattr(reader.store, "get", lambda c, *a: seen.append(c) or get(c, *a))
    np.testing.assert_array_equal(reader[4:11, 6:15], x[4:11, 6:15])
    assert sorted(seen) == sorted(itertools.product(range(0, 3), range(0, 3)))


def _index_at_start(store):
    codec = V3.ShardingCodec(
        chunk_shape=(4, 4), codecs=[V3.BytesCodec(), V3.ZstdCodec(level=1)], index_location="start"
    )
    return zarr.create_array(
        store, shape=(13, 18), chunks=(8, 8), dtype="i4", serializer=codec, compressors=None
    )


@pytest.mark.parametrize("store", ["local", "memory"])
def test_reader_reads_shards_with_the_index_at_the_start(tmp_path, store):
    array = _index_at_start(
        str(tmp_path / "a.zarr") if store == "local" else zarr.storage.MemoryStore()
    )
    x = np.arange(13 * 18, dtype="i4").reshape(13, 18)
    array[...] = x
    reader = region_reader(array)
    assert isinstance(reader, ChunkReader)
    assert not reader.codec.fast  # read here, but written by zarr (the writer puts it last)
    np.testing.assert_array_equal(reader[0:13, 0:18], x)
    np.testing.assert_array_equal(reader[3:11, 5:17], x[3:11, 5:17])


def test_a_sharded_read_fetches_only_the_index_and_the_chunks_it_needs(tmp_path, monkeypatch):
    array = zarr.create_array(
        str(tmp_path / "a.zarr"), shape=(16, 16), chunks=(4, 4), shards=(8, 8), dtype="u2"
    )
    x = np.arange(256, dtype="u2").reshape(16, 16)
    array[...] = x
    reader = ChunkReader(array)
    asked = []
    get_ranges = reader.store.get_ranges
    monkeypatch.setattr(
        reader.store,
        "get_ranges",
        lambda c, r, *a: asked.append((c, len(r))) or get_ranges(c, r, *a),
    )
    np.testing.assert_array_equal(reader[1:5, 1:3], x[1:5, 1:3])  # chunks (0, 0), (1, 0)
    assert asked == [((0, 0), 1), ((0, 0), 2)]  # the index, then both chunks in one read


def test_a_corrupt_shard_index_is_refused(tmp_path):
    (array, _), x = make_pair(tmp_path, "v3 sharded", "uint16")
    array[...] = x
    path = tmp_path / "zarr.zarr" / "c" / "0" / "0"
    data = bytearray(path.read_bytes())
    data[-10] ^= 0xFF  # inside the index, before its checksum
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="shard index is corrupt"):
        region_reader(array)[0:5, 0:7]


COPY_CASES = {  # name: (source keywords, target storage_options, chunks copied as stored)
    "same chunks and codec": (
        {"chunks": (4, 16, 16), "compressors": V3.ZstdCodec(level=1)},
        {"chunks": (4, 16, 16), "shards": None},
        True,
    ),
    "sharded source into shards": (
        {"chunks": (4, 16, 16), "shards": (4, 32, 32), "compressors": V3.ZstdCodec(level=1)},
        {"chunks": (4, 16, 16), "shards": (8, 32, 48)},
        True,
    ),
    "v2 source into 0.5": (
        {"chunks": (4, 16, 16), "zarr_format": 2, "compressors": numcodecs.Zstd(level=1)},
        {"chunks": (4, 16, 16), "shards": None},
        True,
    ),
    "other codec setting": (
        {"chunks": (4, 16, 16), "compressors": V3.ZstdCodec(level=3)},
        {"chunks": (4, 16, 16), "shards": None},
        False,
    ),
    "other chunks": (
        {"chunks": (4, 8, 16), "compressors": V3.ZstdCodec(level=1)},
        {"chunks": (4, 16, 16), "shards": None},
        False,
    ),
    "big-endian source": (
        {"chunks": (4, 16, 16), "zarr_format": 2, "dtype": ">u2"},
        {"chunks": (4, 16, 16), "shards": None},
        False,
    ),
}


@pytest.mark.parametrize("case", list(COPY_CASES))
def test_a_zarr_source_stored_as_level_0_is_copied_not_encoded(tmp_path, monkeypatch, case):
    import gpu_omezarr as g
    import gpu_omezarr.stream

    monkeypatch.setattr(g.stream, "TILE_BYTES", 1)  # many tiles, edge tiles
    source_kwargs, options, copied = COPY_CASES[case]
    x = np.random.default_rng(5).integers(0, 900, (10, 45, 70)).astype("uint16")
    x[:4, :16, :16] = 0  # a chunk zarr does not store (all fill): encoded by us
    source = zarr.create_array(
        str(tmp_path / "src.zarr"), shape=x.shape, **{"dtype": x.dtype, **source_kwargs}
    )
    source[...] = x
    encoded: list[tuple[int, ...]] = []
    encode = ChunkCodec.encode
    monkeypatch.setattr(
        ChunkCodec, "encode", lambda self, block: encoded.append(block.shape) or encode(self, block)
    )
    common = {"axes": "zyx", "scale_factors": (2,), "storage_options": options}
    g.write_image(source, str(tmp_path / "from-zarr.zarr"), **common)
    from_zarr = len(encoded)
    encoded.clear()
    g.write_image(x, str(tmp_path / "from-memory.zarr"), **common)
    # Chunks of 4 x 16 x 16: 3 x 3 x 5 in level 0, 2 x 2 x 3 in level 1 (5 x 23 x 35). Copied,
    # level 0 encodes only the chunk zarr did not store.
    assert len(encoded) == 45 + 12
    assert from_zarr == (1 + 12 if copied else 45 + 12)
    ours, theirs = (
        zarr.open_group(str(tmp_path / n), mode="r") for n in ("from-zarr.zarr", "from-memory.zarr")
    )
    for level in ("s0", "s1"):
        np.testing.assert_array_equal(ours[level][...], theirs[level][...])
    np.testing.assert_array_equal(ours["s0"][...], x)
