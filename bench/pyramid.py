"""Whole-pyramid write time, each writer in its own process, side by side in one run.

Run: python bench/pyramid.py --shape 128 2048 2048 > bench/results/pyramid.md
Same chunks (1 x 256 x 256 for level 0 alone; ours uses the same chunks) and the same codec
(zstd level 1, no shards) for every writer; peak RSS of each process is reported.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

CHUNKS = (16, 256, 256)

WRITERS = {
    "tensorstore level 0 alone": "ts",
    "zarr-python level 0 alone": "zarr",
    "gpu_omezarr pyramid y/x (4 levels)": "ours_yx",
    "gpu_omezarr pyramid z/y/x (4 levels)": "ours_zyx",
    "ome-zarr-py local_mean y/x (4 levels)": "omezarr",
}


def child(kind: str, shape, out: str) -> None:
    import numpy as np
    import psutil

    src = np.random.default_rng(0).integers(0, 4000, shape, dtype=np.uint16)
    src = (src // 16 * 16).astype(np.uint16)  # some compressibility, like real images
    t0 = time.perf_counter()
    if kind == "ts":
        import tensorstore as ts

        spec = {
            "driver": "zarr3",
            "kvstore": {"driver": "file", "path": out},
            "metadata": {
                "shape": list(shape),
                "data_type": "uint16",
                "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": list(CHUNKS)}},
                "codecs": [
                    {"name": "bytes", "configuration": {"endian": "little"}},
                    {"name": "zstd", "configuration": {"level": 1}},
                ],
            },
            "create": True,
            "delete_existing": True,
        }
        ts.open(spec).result().write(src).result()
    elif kind == "zarr":
        import zarr

        a = zarr.create_array(
            out,
            shape=shape,
            chunks=CHUNKS,
            dtype="uint16",
            compressors=zarr.codecs.ZstdCodec(level=1),
        )
        a[...] = src
    elif kind.startswith("ours"):
        import gpu_omezarr as g

        factors = (2, 4, 8) if kind == "ours_yx" else [{"z": f, "y": f, "x": f} for f in (2, 4, 8)]
        g.write_image(
            src,
            out,
            axes="zyx",
            scale_factors=factors,
            backend="numpy",
            storage_options={"chunks": CHUNKS, "shards": None},
        )
    elif kind == "omezarr":
        import ome_zarr.writer as w
        import zarr

        group = zarr.open_group(out, mode="w")
        w.write_image(
            src,
            group,
            axes="zyx",
            scale_factors=(2, 4, 8),
            method="local_mean",
            storage_options={"chunks": CHUNKS, "compressors": zarr.codecs.ZstdCodec(level=1)},
        )
    seconds = time.perf_counter() - t0
    rss = psutil.Process().memory_info().rss  # peak is approximated below via ru_maxrss
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"seconds": seconds, "peak_rss": max(peak, rss)}))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shape", type=int, nargs=3, default=(128, 2048, 2048))
    parser.add_argument("--child", nargs=2)
    parser.add_argument("--skip", nargs="*", default=[])
    args = parser.parse_args()
    if args.child:
        child(args.child[0], tuple(args.shape), args.child[1])
        return
    shape = tuple(args.shape)
    mib = shape[0] * shape[1] * shape[2] * 2 / 2**20
    results = {}
    for name, kind in WRITERS.items():
        if kind in args.skip:
            continue
        out = tempfile.mkdtemp(dir=os.environ.get("BENCH_DIR"))
        cmd = [
            sys.executable,
            __file__,
            "--shape",
            *map(str, shape),
            "--child",
            kind,
            out + "/x.zarr",
        ]
        done = subprocess.run(cmd, capture_output=True, text=True)
        shutil.rmtree(out, ignore_errors=True)
        if done.returncode:
            results[name] = None
            print(done.stderr[-2000:], file=sys.stderr)
            continue
        results[name] = json.loads(done.stdout.strip().splitlines()[-1])
    base = results.get("tensorstore level 0 alone")
    print(
        f"# Pyramid writes: {shape} uint16 ({mib:,.0f} MiB), chunks {CHUNKS}, zstd 1, "
        f"{os.cpu_count()} cores, one run\n"
    )
    print("| writer | seconds | MiB/s of level 0 | x TensorStore level 0 | peak RSS MiB |")
    print("|---|---|---|---|---|")
    for name, r in results.items():
        if r is None:
            print(f"| {name} | failed | | | |")
            continue
        ratio = f"{r['seconds'] / base['seconds']:.2f}" if base else "-"
        print(
            f"| {name} | {r['seconds']:.2f} | {mib / r['seconds']:,.0f} | {ratio} | {r['peak_rss'] / 2**20:,.0f} |"
        )


if __name__ == "__main__":
    main()
