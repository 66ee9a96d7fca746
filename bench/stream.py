"""Writing while acquiring: frames per second and peak memory of gpu_omezarr's open_stream
against acquire-zarr, side by side, each run in its own process.

Run: python bench/stream.py --frames 128 --size 2048 --repeats 3

Both get the same frames (uint16 noise rounded to multiples of 16, a pool of 17 distinct
frames appended in turn, so the source costs 17 frames of memory, not the length) appended
one at a time along z: OME-NGFF 0.5 (Zarr v3), chunks 16 x 256 x 256, shards 16 x 1024 x
1024, 4 levels of z/y/x 2x mean, 2 threads. Codecs: ours zstd level 1; acquire-zarr offers
zstd only inside Blosc 1 (``BLOSC_ZSTD`` level 1, byte shuffle). gpu_omezarr streams with an
unknown length (the first axis grows; readers see every completed tile), acquire-zarr with
the z extent given. The clock covers opening the stream, every append and closing it (all
data and metadata stored); peak RSS is the process's VmHWM. Runs go in rounds, each round in
a shuffled order, and the table shows the median and the range.

acquire-zarr is an optional bench dependency (``pip install -e .[bench]``).
"""

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pyramid import rss

CHUNKS = (16, 256, 256)
SHARDS = (16, 1024, 1024)
POOL = 17  # distinct frames, appended in turn: not a multiple of the chunk depth
WRITERS = {
    "ours": "gpu_omezarr open_stream",
    "acquire": "acquire-zarr 0.10 ZarrStream",
    # The same pyramid from memory, for scale (one encoder thread per core: 2 here).
    "whole": "gpu_omezarr write_image (stacked)",
}


def frames(size: int):
    import numpy as np

    rng = np.random.default_rng(0)
    pool = rng.integers(0, 4000, (POOL, size, size), dtype=np.uint16)
    return pool // 16 * 16


def run_ours(pool, count: int, out: str, threads: int) -> None:
    import gpu_omezarr

    levels = [{"z": f, "y": f, "x": f} for f in (2, 4, 8)]
    with gpu_omezarr.open_stream(
        out,
        pool.shape[1:],
        pool.dtype,
        axes="zyx",
        scale_factors=levels,
        storage_options={"chunks": CHUNKS, "shards": SHARDS},
        backend="numpy",
        threads=threads,
    ) as stream:
        for i in range(count):
            stream.append(pool[i % POOL])


def run_whole(image, count: int, out: str, threads: int) -> None:
    import gpu_omezarr

    gpu_omezarr.write_image(
        image,
        out,
        axes="zyx",
        scale_factors=[{"z": f, "y": f, "x": f} for f in (2, 4, 8)],
        storage_options={"chunks": CHUNKS, "shards": SHARDS},
        backend="numpy",
    )


def run_acquire(pool, count: int, out: str, threads: int) -> None:
    import acquire_zarr as az

    size = pool.shape[1]
    dims = [
        az.Dimension(
            name="z",
            kind=az.DimensionType.SPACE,
            array_size_px=count,
            chunk_size_px=CHUNKS[0],
            shard_size_chunks=SHARDS[0] // CHUNKS[0],
        ),
        *(
            az.Dimension(
                name=name,
                kind=az.DimensionType.SPACE,
                array_size_px=size,
                chunk_size_px=CHUNKS[1],
                shard_size_chunks=SHARDS[1] // CHUNKS[1],
            )
            for name in "yx"
        ),
    ]
    settings = az.StreamSettings(
        store_path=out,
        arrays=[
            az.ArraySettings(
                dimensions=dims,
                data_type=pool.dtype,
                compression=az.CompressionSettings(
                    compressor=az.Compressor.BLOSC1,
                    codec=az.CompressionCodec.BLOSC_ZSTD,
                    level=1,
                    shuffle=1,
                ),
                downsampling_method=az.DownsamplingMethod.MEAN,
                max_levels=3,
            )
        ],
        max_threads=threads,
        overwrite=True,
    )
    stream = az.ZarrStream(settings)
    for i in range(count):
        stream.append(pool[i % POOL])
    stream.close()


def level_shapes(out: str) -> list:
    import zarr

    group = zarr.open_group(out, mode="r")
    multiscale = group.attrs.asdict().get("ome", group.attrs.asdict())["multiscales"][0]
    return [list(group[d["path"]].shape) for d in multiscale["datasets"]]


def child(kind: str, count: int, size: int, out: str, threads: int) -> None:
    pool = frames(size)
    if kind == "whole":  # every frame in memory before the clock starts (peak RSS: + source)
        import numpy as np

        import gpu_omezarr.api.image

        pool = np.stack([pool[i % POOL] for i in range(count)])
    elif kind == "ours":
        import gpu_omezarr.acquire  # noqa: F401  (the package loads its parts lazily)
    else:
        import acquire_zarr  # noqa: F401
    before = rss()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    run = {"ours": run_ours, "acquire": run_acquire, "whole": run_whole}[kind]
    run(pool, count, out, threads)
    seconds = time.perf_counter() - t0
    end = resource.getrusage(resource.RUSAGE_SELF)
    result = {
        "seconds": seconds,
        "cpu": end.ru_utime + end.ru_stime - usage.ru_utime - usage.ru_stime,
        "faults": end.ru_minflt - usage.ru_minflt,
        "peak_rss": rss(),
        "rss_before": before,
        "shapes": level_shapes(out),
        "stored": sum(f.stat().st_size for f in Path(out).rglob("*") if f.is_file()),
    }
    print(json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--frames", type=int, default=128)
    parser.add_argument("--size", type=int, default=2048)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--writers", nargs="+", default=["ours", "acquire"])
    parser.add_argument("--child", nargs=2, metavar=("KIND", "OUT"))
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.frames, args.size, args.child[1], args.threads)
        return
    where = tempfile.mkdtemp(prefix="bench-stream-")
    results: dict[str, list[dict]] = {k: [] for k in args.writers}
    try:
        for _ in range(args.repeats):
            order = list(args.writers)
            random.shuffle(order)
            for kind in order:
                out = os.path.join(where, f"{kind}.zarr")
                shutil.rmtree(out, ignore_errors=True)
                command = [sys.executable, __file__, "--frames", str(args.frames)]
                command += ["--size", str(args.size), "--threads", str(args.threads)]
                line = subprocess.run(
                    [*command, "--child", kind, out], capture_output=True, text=True, check=True
                ).stdout.strip()
                results[kind].append(json.loads(line.splitlines()[-1]))
    finally:
        shutil.rmtree(where, ignore_errors=True)
    gib = args.frames * args.size * args.size * 2 / 2**30
    print(f"{args.frames} frames of {args.size} x {args.size} uint16 ({gib:.2f} GiB), z/y/x mean")
    print(
        f"{'writer':30} {'frames/s (range)':>20} {'MiB/s':>6} {'CPU s':>6} {'faults':>8} {'MB':>5} {'peak RSS MiB':>13} {'above start':>11}  levels"
    )
    rates = {}
    for kind, runs in results.items():
        fps = [args.frames / r["seconds"] for r in runs]
        rates[kind] = statistics.median(fps)
        mib = rates[kind] * args.size * args.size * 2 / 2**20
        peak = statistics.median(r["peak_rss"] for r in runs) / 2**20
        cpu = statistics.median(r["cpu"] for r in runs)
        faults = statistics.median(r["faults"] for r in runs)
        stored = runs[0]["stored"] / 1e6
        above = statistics.median(r["peak_rss"] - r["rss_before"] for r in runs) / 2**20
        shapes = " ".join("x".join(map(str, s)) for s in runs[0]["shapes"])
        spread = f"{rates[kind]:.1f} ({min(fps):.1f}-{max(fps):.1f})"
        print(
            f"{WRITERS[kind]:30} {spread:>20} {mib:6.0f} {cpu:6.1f} {faults:8.0f} {stored:5.0f} {peak:13.0f} {above:11.0f}  {shapes}"
        )
    if "ours" in rates and "acquire" in rates:
        paired = [
            a["seconds"] / o["seconds"]
            for o, a in zip(results["ours"], results["acquire"], strict=True)
        ]
        cpu = [
            a["cpu"] / o["cpu"] for o, a in zip(results["ours"], results["acquire"], strict=True)
        ]
        print(
            f"ours / acquire-zarr frame rate: {rates['ours'] / rates['acquire']:.2f} (medians); "
            f"paired by round {statistics.median(paired):.2f} ({min(paired):.2f}-{max(paired):.2f}); "
            f"CPU seconds acquire-zarr / ours {statistics.median(cpu):.2f}"
        )


if __name__ == "__main__":
    main()
