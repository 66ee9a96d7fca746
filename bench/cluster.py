"""Speed-up of a pyramid write from 1 to 2 dask worker processes, against one process alone.

Run: PYTHONPATH=. python bench/cluster.py --shape 64 2048 2048 > bench/results/cluster.md
Source: a Zarr array on disk (chunks 16 x 256 x 256, zstd 1), read by the tasks themselves;
output: 4-level y/x mean pyramid, chunks 16 x 256 x 256, shards 16 x 1024 x 1024, zstd 1.
"""

import argparse
import os
import shutil
import statistics
import tempfile
import time

import numpy as np
import zarr

import gpu_omezarr as g


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shape", type=int, nargs=3, default=(64, 2048, 2048))
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    shape = tuple(args.shape)
    work = tempfile.mkdtemp(dir=os.environ.get("BENCH_DIR"))
    src = zarr.create_array(
        f"{work}/src.zarr",
        shape=shape,
        chunks=(16, 256, 256),
        dtype="uint16",
        compressors=zarr.codecs.ZstdCodec(level=1),
    )
    rng = np.random.default_rng(0)
    for z in range(0, shape[0], 16):
        src[z : z + 16] = (
            rng.integers(0, 4000, (min(16, shape[0] - z), *shape[1:]), dtype=np.uint16) // 16 * 16
        )
    options = {"chunks": (16, 256, 256), "shards": (16, 1024, 1024)}
    factors = [{"z": 1, "y": f, "x": f} for f in (2, 4, 8)]

    def write(out: str) -> float:
        shutil.rmtree(out, ignore_errors=True)
        os.sync()
        t0 = time.perf_counter()
        g.write_image(src, out, axes="zyx", scale_factors=factors, storage_options=options)
        return time.perf_counter() - t0

    from distributed import Client, LocalCluster

    results = {"one process, no cluster": [write(f"{work}/out.zarr") for _ in range(args.repeats)]}
    for workers in (1, 2):
        with (
            LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
            ) as cluster,
            Client(cluster) as client,
        ):
            write(f"{work}/warm.zarr")  # workers import and load kernels once
            results[f"LocalCluster, {workers} worker process(es)"] = [
                write(f"{work}/out.zarr") for _ in range(args.repeats)
            ]
            del client
    shutil.rmtree(work, ignore_errors=True)
    mib = np.prod(shape) * 2 / 2**20
    print(
        f"# {shape} uint16 ({mib:,.0f} MiB) from a Zarr array, {os.cpu_count()} cores, median of {args.repeats}\n"
    )
    print("| run | seconds (range) | MiB/s of level 0 |")
    print("|---|---|---|")
    for name, times in results.items():
        med = statistics.median(times)
        print(f"| {name} | {med:.2f} ({min(times):.2f}-{max(times):.2f}) | {mib / med:,.0f} |")


if __name__ == "__main__":
    main()
