"""Kernel throughput (GB/s of input) per method and dtype, against a memory copy and tinybrain.

Run: python bench/kernels.py [--shape 64 512 512] > bench/results/kernels.md
"""

import argparse
import platform
import time

import numpy as np

from gpu_omezarr.backends import NumpyBackend


def best_of(fn, repeat=7):
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shape", type=int, nargs=3, default=(64, 512, 512))
    args = parser.parse_args()
    shape = tuple(args.shape)
    rng = np.random.default_rng(0)
    compiled, pure = NumpyBackend(compiled=True), NumpyBackend(compiled=False)
    try:
        import tinybrain
    except ImportError:
        tinybrain = None
    yy, xx = np.mgrid[0 : shape[1], 0 : shape[2]]
    blobs = ((yy // 37 + xx // 53) % 97).astype(np.uint32)[None].repeat(shape[0], 0)
    cases = [
        ("mean", "uint16", rng.integers(0, 4000, shape, dtype=np.uint16)),
        ("mean", "uint8", rng.integers(0, 255, shape, dtype=np.uint8)),
        ("mean", "float32", rng.standard_normal(shape).astype(np.float32)),
        ("mean", "uint64", rng.integers(0, 2**63, shape, dtype=np.uint64)),
        ("mode", "uint32 random", rng.integers(0, 1000, shape, dtype=np.uint32)),
        ("mode", "uint32 blobs", blobs),
        ("nearest", "uint16", rng.integers(0, 4000, shape, dtype=np.uint16)),
    ]
    print(
        f"# Kernels, 2x2x2, input {shape}, one thread, {platform.processor() or platform.machine()}\n"
    )
    print(
        "| method | data | copy GB/s | ours (C) GB/s | ours/copy | pure NumPy GB/s | tinybrain GB/s | ours/tinybrain |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for method, label, x in cases:
        gb = x.nbytes / 1e9
        copy = gb / best_of(lambda: x.copy())
        ours = gb / best_of(lambda: compiled.downsample(x, (2, 2, 2), method))
        floor = gb / best_of(lambda: pure.downsample(x, (2, 2, 2), method), repeat=2)
        tb = None
        if tinybrain is not None and method in ("mean", "mode") and x.dtype != np.uint64:
            xt = np.asfortranarray(x.transpose(2, 1, 0))
            fn = (
                tinybrain.downsample_with_averaging
                if method == "mean"
                else tinybrain.downsample_segmentation
            )
            tb = gb / best_of(lambda: fn(xt, (2, 2, 2)))
        tb_s = f"{tb:.2f}" if tb else "-"
        ratio = f"{ours / tb:.2f}x" if tb else "-"
        print(
            f"| {method} | {label} | {copy:.2f} | {ours:.2f} | {ours / copy:.2f} | {floor:.2f} | {tb_s} | {ratio} |"
        )


if __name__ == "__main__":
    main()
