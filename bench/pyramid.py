"""Whole-pyramid write time and peak memory, each writer in its own process, side by side.

Run: python bench/pyramid.py --shape 128 2048 2048 --repeats 3 --source memory
     python bench/pyramid.py --shape 128 2048 2048 --repeats 1 --source zarr

Every writer gets the same chunks (16 x 256 x 256, no shards), the same codec (zstd level 1)
and the same data (uint16 noise rounded to multiples of 16: some compressibility). Each run is
a fresh process; imports and making the source happen before the clock starts, so the time
is the write alone (first-call costs such as loading compiled kernels included). Runs go
in rounds, each round in its own shuffled order of the writers, and the table shows the
median and the range.

``--settle S``: each writer waits S seconds (source made, clock not started). On a VM that
hands freed memory back to its host (free page reporting, as on this project's machines), the
first touch of a page the host took back costs about 3 ms per MB written, nine times the write
into warm memory, and how much is warm depends on what ran just before. After ~10 s every
writer starts from the same cold state: slower for all, but no order effects.

``--baseline DIR``: a checkout of an earlier commit (its C kernels built, or copied in);
its pyramids run as writers ``then_yx`` / ``then_zyx`` beside ours, in the same rounds, so a
change's cost is read off one run (``git worktree add DIR REV``).

``--source memory``: the image is a NumPy array in the process (peak RSS shown above it).
``--source zarr``: the image is a Zarr array on disk, opened lazily (dask for the peers), so
peak RSS is the writer's own working memory plus the interpreter. ``--source zarr-sharded``:
the same, stored in shards of 16 x 1024 x 1024 (a 0.5 pyramid's level 0, re-pyramided).
With ``--source zarr`` the source's chunks are stored as our level 0 stores them, so
gpu_omezarr copies them as they are; ``--source zarr-zstd3`` stores the source with zstd
level 3, so every writer must encode level 0 again (the general case).
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

CHUNKS = (16, 256, 256)
SOURCE_SHARDS = (16, 1024, 1024)  # --source zarr-sharded: as OME-Zarr 0.5 writers store it
ZSTD = {"name": "zstd", "configuration": {"level": 1}}

WRITERS = {
    "ts": "TensorStore, level 0 alone",
    "zarr": "zarr-python, level 0 alone",
    "ours_l0": "gpu_omezarr, level 0 alone",
    "ours_yx": "gpu_omezarr, y/x pyramid",
    "ours_zyx": "gpu_omezarr, z/y/x pyramid",
    "then_yx": "gpu_omezarr --baseline, y/x pyramid",
    "then_zyx": "gpu_omezarr --baseline, z/y/x pyramid",
    "omezarr_yx": "ome-zarr-py local_mean, y/x",
    "omezarr_zyx": "ome-zarr-py local_mean, z/y/x",
    "ngff_yx": "ngff-zarr dask_bin_shrink, y/x",
    "ngff_zyx": "ngff-zarr dask_bin_shrink, z/y/x",
}


def factors(kind: str) -> list[dict[str, int]]:
    if kind.endswith("l0"):
        return []
    z = kind.endswith("zyx")
    return [{"z": f if z else 1, "y": f, "x": f} for f in (2, 4, 8)]


def rss() -> int:
    """Peak resident memory of this process (VmHWM: unlike ru_maxrss, not inherited from the
    parent across fork and exec)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def make_source(shape, path=None, shards=None, level=1):
    import numpy as np

    rng = np.random.default_rng(0)
    if path is None:
        data = rng.integers(0, 4000, shape, dtype=np.uint16)
        data //= 16
        data *= 16
        return data
    import zarr

    out = zarr.create_array(
        path,
        shape=shape,
        chunks=CHUNKS,
        shards=shards,
        dtype="uint16",
        compressors=zarr.codecs.ZstdCodec(level=level),
    )
    for z in range(0, shape[0], CHUNKS[0]):
        block = rng.integers(0, 4000, (min(CHUNKS[0], shape[0] - z), *shape[1:]), dtype=np.uint16)
        out[z : z + CHUNKS[0]] = block // 16 * 16
    return out


def child(kind: str, shape, source_path: str | None, out: str) -> None:
    import zarr

    src = make_source(shape) if source_path is None else zarr.open_array(source_path, mode="r")
    if kind == "ts":
        import tensorstore as ts
    elif kind.startswith("ours"):
        import gpu_omezarr
        import gpu_omezarr.api.image  # the package loads its parts lazily: load them now
    elif kind.startswith("omezarr"):
        import dask.array as da
        import ome_zarr.writer
    elif kind.startswith("ngff"):
        import dask.array as da
        import ngff_zarr
    time.sleep(float(os.environ.get("BENCH_SETTLE", "0")))
    before = rss()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    if kind == "ts":
        spec = {
            "driver": "zarr3",
            "kvstore": {"driver": "file", "path": out},
            "metadata": {
                "shape": list(shape),
                "data_type": "uint16",
                "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": list(CHUNKS)}},
                "codecs": [{"name": "bytes", "configuration": {"endian": "little"}}, ZSTD],
            },
            "create": True,
            "delete_existing": True,
        }
        dest = ts.open(spec).result()
        if source_path is None:
            dest.write(src).result()
        else:
            source = ts.open(
                {"driver": "zarr3", "kvstore": {"driver": "file", "path": source_path}}
            )
            dest.write(source.result()).result()
    elif kind == "zarr":
        a = zarr.create_array(
            out,
            shape=shape,
            chunks=CHUNKS,
            dtype="uint16",
            compressors=zarr.codecs.ZstdCodec(level=1),
        )
        a[...] = src if source_path is None else src[...]
    elif kind.startswith("ours"):
        gpu_omezarr.write_image(
            src,
            out,
            axes="zyx",
            scale_factors=factors(kind),
            backend="numpy",
            storage_options={"chunks": CHUNKS, "shards": None},
        )
    elif kind.startswith("omezarr"):
        group = zarr.open_group(out, mode="w")
        ome_zarr.writer.write_image(
            src if source_path is None else da.from_zarr(src),
            group,
            axes="zyx",
            scale_factors=factors(kind),
            method="local_mean",
            storage_options={"chunks": CHUNKS, "compressors": zarr.codecs.ZstdCodec(level=1)},
        )
    elif kind.startswith("ngff"):
        image = ngff_zarr.to_ngff_image(
            src if source_path is None else da.from_zarr(src), dims=("z", "y", "x")
        )
        multiscales = ngff_zarr.to_multiscales(
            image,
            scale_factors=factors(kind),
            method=ngff_zarr.Methods.DASK_BIN_SHRINK,
            chunks=CHUNKS,
        )
        ngff_zarr.to_ngff_zarr(out, multiscales, version="0.5", compressors=[ZSTD])
    seconds = time.perf_counter() - t0
    end = resource.getrusage(resource.RUSAGE_SELF)
    result = {
        "seconds": seconds,
        "cpu": end.ru_utime + end.ru_stime - usage.ru_utime - usage.ru_stime,
        "sys": end.ru_stime - usage.ru_stime,
        "peak_rss": rss(),
        "rss_before": before,
        "faults": end.ru_minflt - usage.ru_minflt,
    }
    print(json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shape", type=int, nargs=3, default=(128, 2048, 2048))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--source", choices=("memory", "zarr", "zarr-sharded", "zarr-zstd3"), default="memory"
    )
    parser.add_argument("--only", nargs="*", default=list(WRITERS))
    parser.add_argument(
        "--settle",
        type=float,
        default=0.0,
        help="seconds each writer waits before its clock starts (see the module docstring)",
    )
    parser.add_argument("--baseline", help="an earlier checkout, run as then_yx / then_zyx")
    parser.add_argument("--child", nargs=3)
    args = parser.parse_args()
    shape = tuple(args.shape)
    if args.child:
        kind, source_path, out = args.child
        child(kind, shape, None if source_path == "-" else source_path, out)
        return
    os.environ["BENCH_SETTLE"] = str(args.settle)  # read by the children
    work = tempfile.mkdtemp(dir=os.environ.get("BENCH_DIR"))
    source_path = "-"
    if args.source != "memory":
        source_path = os.path.join(work, "source.zarr")
        sharded = args.source == "zarr-sharded"
        level = 3 if args.source == "zarr-zstd3" else 1
        make_source(shape, source_path, SOURCE_SHARDS if sharded else None, level)
    if args.baseline is None:
        args.only = [k for k in args.only if not k.startswith("then_")]
    runs: dict[str, list[dict]] = {kind: [] for kind in args.only}
    for round_ in range(args.repeats):
        # A new order each round (the same for a given round): what ran just before a writer
        # changes how warm the machine's free memory is, so no writer may always follow the
        # same one (a peer that frees 1.6 GB at exit leaves the next writer warm memory).
        order = random.Random(round_).sample(args.only, len(args.only))
        for kind in order:
            out = os.path.join(work, "out.zarr")
            os.sync()  # the last run's dirty pages are not this run's cost
            cmd = [sys.executable, __file__, "--shape", *map(str, shape)]
            env = dict(os.environ)
            if kind.startswith("then_"):  # the baseline's package first on the path
                env["PYTHONPATH"] = os.path.abspath(args.baseline)
            child_kind = kind.replace("then_", "ours_")
            done = subprocess.run(
                [*cmd, "--child", child_kind, source_path, out],
                capture_output=True,
                text=True,
                env=env,
            )
            stored = sum(
                os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(out) for f in fs
            )
            shutil.rmtree(out, ignore_errors=True)
            if done.returncode:
                print(f"{kind} failed:\n{done.stderr[-2000:]}", file=sys.stderr)
                continue
            runs[kind].append(
                json.loads(done.stdout.strip().splitlines()[-1])
                | {"stored": stored, "round": round_}
            )
    shutil.rmtree(work, ignore_errors=True)
    report(shape, args, runs)


def report(shape, args, runs) -> None:
    mib = shape[0] * shape[1] * shape[2] * 2 / 2**20
    med = {k: statistics.median(r["seconds"] for r in v) for k, v in runs.items() if v}
    base = med.get("ts")
    print(
        f"# {shape} uint16 ({mib:,.0f} MiB) from {args.source}, chunks {CHUNKS}, zstd 1, "
        f"{os.cpu_count()} cores, median of {args.repeats}, settle {args.settle:g} s\n"
    )
    rss_label = "peak RSS MiB" if args.source != "memory" else "peak RSS above the source, MiB"
    print(
        "| writer | seconds (range) | MiB/s of level 0 | x TensorStore level 0 "
        "| x TensorStore, paired by round (range) | CPU s: user + sys | MB stored "
        f"| {rss_label} | page faults (median) |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for kind, results in runs.items():
        if not results:
            print(f"| {WRITERS[kind]} | failed | | | | | | | |")
            continue
        seconds = [r["seconds"] for r in results]
        peak = max(
            r["peak_rss"] - (r["rss_before"] if args.source == "memory" else 0) for r in results
        )
        ratio = f"{med[kind] / base:.2f}" if base else "-"
        # Each writer against TensorStore in the same round: the machine's slow drifts cancel.
        ts_by_round = {t["round"]: t["seconds"] for t in runs.get("ts", [])}
        pairs = [
            r["seconds"] / ts_by_round[r["round"]] for r in results if r["round"] in ts_by_round
        ]
        paired = (
            f"{statistics.median(pairs):.2f} ({min(pairs):.2f}-{max(pairs):.2f})" if pairs else "-"
        )
        user = statistics.median(r["cpu"] - r["sys"] for r in results)
        system = statistics.median(r["sys"] for r in results)
        print(
            f"| {WRITERS[kind]} | {med[kind]:.2f} ({min(seconds):.2f}-{max(seconds):.2f}) "
            f"| {mib / med[kind]:,.0f} | {ratio} | {paired} | {user:.2f} + {system:.2f} "
            f"| {statistics.median(r['stored'] for r in results) / 1e6:,.0f} "
            f"| {peak / 2**20:,.0f} | {statistics.median(r['faults'] for r in results):,.0f} |"
        )


if __name__ == "__main__":
    main()
