"""Peak memory and time against image size, and read throughput against decode threads.

Run (from the repository root):
    PYTHONPATH=. python bench/scale.py volumes                  # 64 x N x N uint16, N = 2048..8192
    PYTHONPATH=. python bench/scale.py volumes --large          # and N = 16384 (32 GiB)
    PYTHONPATH=. python bench/scale.py slides                   # 3 x N x N uint8, N = 16384, 32768
    PYTHONPATH=. python bench/scale.py slides --large           # and N = 65536 (12 GiB)
    PYTHONPATH=. python bench/scale.py read --threads 1 2 4     # a Zarr source's decode rate

``volumes``: a 5-level z/y/x mean pyramid (scale factors 2, 4, 8, 16; z halved too) of a
computed uint16 source of 64 z-planes; ``slides``: a 3-channel uint8 whole-slide image with
``auto`` levels. Defaults everywhere else (0.5: chunks 16 x 256 x 256, shards of 4 x 4
chunks, zstd 1). The computed source repeats one block of noise (rounded to multiples of 16,
as bench/pyramid.py's) the size of a tile and hands out views of it: reading costs nothing,
holding it costs the one block (32 MiB for volumes, 16 MiB for slides), the same at every
size. ``--order c`` walks the tiles in C order (what the writer did before the nested walk)
for the same runs side by side (``--rounds R``: each size R times, the orders alternating
which goes first). Each write runs in a fresh process; the table shows its peak
RSS (VmHWM) and its write time, the output deleted after each run.

``read``: reads a 1 GiB Zarr array (chunks 16 x 256 x 256, zstd 1, made once in the output
folder) tile by tile (16 x 1024 x 1024) with ``ChunkReader(threads=T)``, once to warm the page
cache, then timed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

VOLUMES = [2048, 4096, 8192]
SLIDES = [16384, 32768]
LARGE = {"volumes": [16384], "slides": [65536]}


class Computed:
    """A read-only array-like of ``shape`` repeating ``block``: regions aligned to the block
    and of its size are views of it, any other region is assembled from it."""

    def __init__(self, shape: tuple[int, ...], block: np.ndarray) -> None:
        self.shape, self.dtype, self.block = shape, block.dtype, block
        block.flags.writeable = False

    def __getitem__(self, region: tuple[slice, ...]) -> np.ndarray:
        period = self.block.shape
        if all(
            r.start % p == 0 and r.stop - r.start == p for r, p in zip(region, period, strict=True)
        ):
            return self.block
        out = self.block
        for axis, r in enumerate(region):
            out = np.take(out, np.arange(r.start, r.stop) % period[axis], axis=axis)
        return out


def noise(shape: tuple[int, ...], dtype: str, high: int) -> np.ndarray:
    block = np.random.default_rng(0).integers(0, high, shape, dtype=dtype)
    block //= 16
    block *= 16
    return block


def peak_rss() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def child(kind: str, n: int, out: str, order: str) -> None:
    import gpu_omezarr as g
    import gpu_omezarr.api.image  # load the package's parts before the clock
    import gpu_omezarr.stream

    if order == "c":  # the traversal before the nested walk, for comparison
        gpu_omezarr.stream.nested_tiles = lambda shape, tile, feet: gpu_omezarr.stream.tiles(
            shape, tile
        )
    if kind == "volumes":
        source = Computed((64, n, n), noise((16, 1024, 1024), "uint16", 4000))
        options = {"axes": "zyx", "scale_factors": (2, 4, 8, 16)}
    else:
        source = Computed((3, n, n), noise((1, 1024, 16384), "uint8", 256))
        options = {"axes": "cyx", "scale_factors": "auto"}
    before = os.times()
    t0 = time.perf_counter()
    g.write_image(source, out, **options)
    seconds = time.perf_counter() - t0
    after = os.times()
    cpu = after.user - before.user + after.system - before.system
    print(json.dumps({"seconds": seconds, "cpu": cpu, "rss": peak_rss()}))


def run_writes(kind: str, sizes: list[int], orders: list[str], where: str, rounds: int) -> None:
    itemsize, planes = (2, 64) if kind == "volumes" else (1, 3)
    print(f"| {kind} | image GiB | order | seconds | s/GiB | CPU s | peak RSS MiB |")
    print("|---|---|---|---|---|---|---|")
    runs = [(n, i) for n in sizes for i in range(rounds)]
    for n, i in runs:
        gib = planes * n * n * itemsize / 2**30
        for order in orders[i % 2 :] + orders[: i % 2]:  # each round starts with the next
            out = os.path.join(where, f"{kind}-{n}.zarr")
            cmd = [sys.executable, __file__, "child", kind, str(n), out, order]
            result = subprocess.run(cmd, capture_output=True, text=True, check=False)
            shutil.rmtree(out, ignore_errors=True)
            if result.returncode:
                print(f"| {n} | {gib:g} | {order} | failed: {result.stderr.strip()[-300:]} |")
                continue
            r = json.loads(result.stdout.strip().splitlines()[-1])
            print(
                f"| {planes} x {n} x {n} | {gib:g} | {order} | {r['seconds']:.1f} | "
                f"{r['seconds'] / gib:.2f} | {r['cpu']:.1f} | {r['rss'] / 2**20:.0f} |",
                flush=True,
            )


def run_reads(threads: list[int], where: str) -> None:
    import zarr

    from gpu_omezarr.reader import ChunkReader
    from gpu_omezarr.stream import tiles

    path = os.path.join(where, "read-source.zarr")
    shape = (64, 4096, 2048)
    if not os.path.exists(path):
        array = zarr.create_array(
            path, shape=shape, chunks=(16, 256, 256), dtype="uint16",
            compressors=zarr.codecs.ZstdCodec(level=1),
        )  # fmt: skip
        for z in range(0, shape[0], 16):
            array[z : z + 16] = noise((16, *shape[1:]), "uint16", 4000)
    array = zarr.open_array(path, mode="r")
    nbytes = np.prod(shape) * 2
    print("| decode threads | seconds | GB/s decoded | CPU s | CPU s / wall s |")
    print("|---|---|---|---|---|")
    for t in threads:
        reader = ChunkReader(array, threads=t)
        for _pass in ("warm the page cache", "timed"):
            before = os.times()
            t0 = time.perf_counter()
            for region in tiles(shape, (16, 1024, 1024)):
                reader[region]
            seconds = time.perf_counter() - t0
            after = os.times()
        cpu = after.user - before.user + after.system - before.system
        print(
            f"| {t} | {seconds:.2f} | {nbytes / seconds / 1e9:.2f} | {cpu:.2f} | "
            f"{cpu / seconds:.2f} |",
            flush=True,
        )


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "child":
        child(sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("what", choices=["volumes", "slides", "read"])
    parser.add_argument("--sizes", type=int, nargs="+", help="y = x sizes (default: see above)")
    parser.add_argument("--large", action="store_true", help="add the largest size")
    parser.add_argument("--order", choices=["nested", "c", "both"], default="nested")
    parser.add_argument(
        "--rounds", type=int, default=1, help="runs of each size (orders alternate)"
    )
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--dir", default=None, help="where outputs go (default: a temp folder)")
    args = parser.parse_args()
    where = args.dir or tempfile.mkdtemp(prefix="gpu-omezarr-scale-")
    if args.what == "read":
        run_reads(args.threads, where)
        return
    sizes = args.sizes or (VOLUMES if args.what == "volumes" else SLIDES)
    if args.large and not args.sizes:
        sizes = sizes + LARGE[args.what]
    orders = ["c", "nested"] if args.order == "both" else [args.order]
    run_writes(args.what, sizes, orders, where, args.rounds)


if __name__ == "__main__":
    main()
