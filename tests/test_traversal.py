"""The tile walk: every tile once, and a level never holds more than a few of its own write
units partly filled, however wide the image (counted by the writers, not timed or measured)."""

import math

import numpy as np
import pytest
import zarr

import gpu_omezarr as g
import gpu_omezarr.stream
import gpu_omezarr.writer
from gpu_omezarr.stream import block_extents, nested_tiles


@pytest.mark.parametrize("seed", range(6))
def test_nested_tiles_cover_the_shape_once_and_finish_each_block(seed):
    rng = np.random.default_rng(seed)
    ndim = int(rng.integers(1, 4))
    shape = [int(n) for n in rng.integers(1, 40, ndim)]
    tile = [int(t) for t in rng.integers(1, 6, ndim)]
    footprints = [[int(f) for f in rng.integers(1, 12, ndim)] for _ in range(3)]
    seen = np.zeros(shape, int)
    order = []
    for region in nested_tiles(shape, tile, footprints):
        seen[region] += 1
        order.append(region)
    assert (seen == 1).all()
    # Each block of each extent is visited as one run of consecutive tiles.
    for extent in block_extents(shape, tile, footprints):
        block_ids = [tuple(r.start // e for r, e in zip(t, extent, strict=True)) for t in order]
        runs = [b for i, b in enumerate(block_ids) if i == 0 or block_ids[i - 1] != b]
        assert len(runs) == len(set(runs))


def _record_writers(monkeypatch):
    """Every ChunkWriter made during the test, in order (their ``most_partial`` counts)."""
    made = []
    init = gpu_omezarr.writer.ChunkWriter.__init__

    def recording(self, *args, **kwargs):
        init(self, *args, **kwargs)
        made.append(self)

    monkeypatch.setattr(gpu_omezarr.writer.ChunkWriter, "__init__", recording)
    return made


def _open_units(shape, tile, units, cumulative):
    """The bound ``stream`` states: level j holds at most prod(ceil(E_j / F_j)) units."""
    feet = [[u * c for u, c in zip(unit, cum, strict=True)] for unit, cum in zip(units, cumulative)]
    blocks = block_extents(shape, tile, feet)[1:]
    return [
        math.prod(-(-min(e, n) // min(f, n)) for e, f, n in zip(block, foot, shape, strict=True))
        for block, foot in zip(blocks, feet, strict=True)
    ]


def _write_both(tmp_path, monkeypatch, x, **options):
    """Write ``x`` in tiles as small as they go and in one tile; the writers of the first
    write, the tile extent it used, and every level of both, which must be equal."""
    made = _record_writers(monkeypatch)
    extents = []
    tile_shape = gpu_omezarr.stream.tile_shape

    def recording(*args, **kwargs):
        extents.append(tile_shape(*args, **kwargs))
        return extents[-1]

    monkeypatch.setattr(gpu_omezarr.stream, "tile_shape", recording)
    monkeypatch.setattr(gpu_omezarr.stream, "TILE_BYTES", 1)
    g.write_image(x, str(tmp_path / "tiles.zarr"), **options)
    writers = list(made)
    monkeypatch.setattr(gpu_omezarr.stream, "TILE_BYTES", 2**30)
    g.write_image(x, str(tmp_path / "one.zarr"), **options)
    for w in writers:
        ours = zarr.open_array(str(tmp_path / "tiles.zarr"), path=w.array.path, mode="r")
        one = zarr.open_array(str(tmp_path / "one.zarr"), path=w.array.path, mode="r")
        np.testing.assert_array_equal(ours[...], one[...])
    return writers, extents[0]


def test_a_wide_image_holds_one_unit_per_level(tmp_path, monkeypatch):
    """64 x 1024 in 16 x 16 chunks, tiles of one chunk: in C order level 1 would hold a row
    of 32 units at once, level 2 a row of 16; the nested walk holds one per level."""
    x = np.random.default_rng(1).integers(0, 250, (64, 1024)).astype(np.uint8)
    options = {"axes": "yx", "scale_factors": (2, 4, 8)}
    made, _ = _write_both(
        tmp_path, monkeypatch, x, storage_options={"chunks": (16, 16), "shards": None}, **options
    )
    assert [w.array.shape for w in made] == [(64, 1024), (32, 512), (16, 256), (8, 128)]
    assert [w.most_partial for w in made] == [0, 1, 1, 1]


def test_odd_units_stay_within_the_stated_bound(tmp_path, monkeypatch):
    """Chunks and shards of odd sizes in a wide 3-D image: units that do not nest. Every
    level stays within prod(ceil(E_j / F_j)), far below a row of units across the image."""
    shape = (12, 40, 1500)
    x = np.random.default_rng(2).integers(0, 60000, shape).astype(np.uint16)
    factors = [{"z": 1, "y": 2, "x": 2}, {"z": 2, "y": 4, "x": 4}, {"z": 2, "y": 8, "x": 8}]
    made, tile = _write_both(
        tmp_path,
        monkeypatch,
        x,
        axes="zyx",
        scale_factors=factors,
        storage_options={"chunks": (3, 10, 12), "shards": (6, 20, 36)},
    )
    units = [w.unit for w in made]
    cumulative = [(1, 1, 1)] + [tuple(f[a] for a in "zyx") for f in factors]
    bound = _open_units(shape, tile, units, cumulative)
    row = [  # what C order would hold: a row of units across y and x
        math.prod(-(-n // (u * c)) for n, u, c in zip(shape[1:], unit[1:], cum[1:], strict=True))
        for unit, cum in zip(units, cumulative, strict=True)
    ]
    most = [w.most_partial for w in made]
    assert all(m <= b for m, b in zip(most, bound, strict=True)), (most, bound)
    assert max(most[1:]) >= 1  # units were assembled across tiles at all
    assert all(b < r for b, r in zip(bound[1:], row[1:], strict=True)), (bound, row)
