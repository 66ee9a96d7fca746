"""The whole writer under property-based fuzzing: random shapes, dtypes, per-axis factors,
chunks, shards, versions and tile sizes. Every level must equal the slow reference applied
level by level, level 0 must round-trip, and the store must validate."""

import tempfile

import numpy as np
import zarr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reference import reference_downsample

import gpu_omezarr as g
import gpu_omezarr.stream
from gpu_omezarr.validate import validate

DTYPES = ["uint8", "uint16", "int16", "uint32", "int32", "float32", "uint64", "int64", "bool"]


@st.composite
def cases(draw):
    ndim = draw(st.integers(2, 4))
    names = "tczyx"[-ndim:] if ndim < 4 else "czyx"
    shape = tuple(draw(st.integers(1, 24)) for _ in range(ndim))
    dtype = draw(st.sampled_from(DTYPES))
    method = draw(
        st.sampled_from(
            ["nearest", "mode"]
            if dtype == "bool"
            else ["mean", "nearest"]
            if dtype.startswith("float")
            else ["mean", "nearest", "mode"]
        )
    )
    spatial = [a for a in names if a in "zyx"]
    levels, cumulative = [], dict.fromkeys(spatial, 1)
    for _ in range(draw(st.integers(1, 3))):
        step = {a: draw(st.sampled_from([1, 2, 3])) for a in spatial}
        if all(f == 1 for f in step.values()):
            step[spatial[-1]] = 2
        cumulative = {a: cumulative[a] * step[a] for a in spatial}
        levels.append(dict(cumulative))
    chunks = tuple(draw(st.integers(1, 8)) for _ in range(ndim))
    version = draw(st.sampled_from(["0.4", "0.5"]))
    shards = None
    if version == "0.5" and draw(st.booleans()):
        shards = tuple(c * draw(st.integers(1, 3)) for c in chunks)
    tile_bytes = draw(st.sampled_from([1, 64, 2**25]))
    seed = draw(st.integers(0, 2**16))
    return names, shape, dtype, method, levels, chunks, shards, version, tile_bytes, seed


def make(shape, dtype, seed):
    rng = np.random.default_rng(seed)
    if dtype == "bool":
        return rng.integers(0, 2, shape).astype(bool)
    if dtype.startswith("float"):
        return rng.normal(0, 100, shape).astype(dtype)
    info = np.iinfo(dtype)
    # Mostly small values (ties, repeats) plus the dtype's extremes.
    x = rng.integers(0, 5, shape).astype(dtype)
    extremes = rng.random(shape) < 0.1
    ends = np.array([info.min, info.max], dtype=dtype)
    x[extremes] = ends[rng.integers(0, 2, int(extremes.sum()))]
    return x


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cases())
def test_writer_equals_reference_round_trips_and_validates(case):
    names, shape, dtype, method, levels, chunks, shards, version, tile_bytes, seed = case
    x = make(shape, dtype, seed)
    old = gpu_omezarr.stream.TILE_BYTES
    gpu_omezarr.stream.TILE_BYTES = tile_bytes
    try:
        with tempfile.TemporaryDirectory() as tmp:
            path = f"{tmp}/img.zarr"
            g.write_image(
                x,
                path,
                axes=names,
                scale_factors=levels,
                method=method,
                version=version,
                storage_options={"chunks": chunks, "shards": shards},
            )
            root = zarr.open_group(path, mode="r")
            np.testing.assert_array_equal(root["s0"][...], x)
            want, previous = x, dict.fromkeys(names, 1)
            for i, cumulative in enumerate(levels, start=1):
                step = tuple(cumulative.get(a, 1) // previous.get(a, 1) for a in names)
                previous = {a: cumulative.get(a, 1) for a in names}
                want = reference_downsample(want, step, method)
                got = root[f"s{i}"][...]
                if x.dtype.kind == "f" and method == "mean":
                    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
                else:
                    np.testing.assert_array_equal(got, want)
            report = validate(path)
            assert report.ok, report.problems
    finally:
        gpu_omezarr.stream.TILE_BYTES = old
