"""nvCOMP's GPU zstd on the device: its frames decoded by numcodecs (every CPU reader's path)
to the same bytes, whether they carry the content size, and encode throughput against CPU zstd
level 1 on all cores.

Run (GPU machine, through bench/gpu_run.sh):  python3 bench/nvcomp_check.py --out "$OUT"
Dry run on the stand-ins:  PYTHONPATH=tests/fakecupy python bench/nvcomp_check.py --cpu-check
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numcodecs
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gpu_omezarr import gpu_zstd


def has_content_size(frame: bytes) -> bool:
    """Whether a zstd frame header declares the content size (RFC 8878, 3.1.1.1.1)."""
    descriptor = frame[4]
    return (descriptor >> 6) != 0 or bool(descriptor & 0x20)


def chunks(dtype: str, nbytes: int, count: int, rng) -> list[np.ndarray]:
    n = nbytes // np.dtype(dtype).itemsize
    if dtype == "uint16":  # smooth plus noise, as microscopy
        base = (np.arange(n) % 4096).astype(np.uint16)
        return [base + rng.integers(0, 64, n).astype(np.uint16) for _ in range(count)]
    return [
        np.repeat(rng.integers(0, 5000, n // 64 + 1).astype(dtype), 64)[:n] for _ in range(count)
    ]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default=os.environ.get("OUT", "bench-gpu-out"))
    p.add_argument("--cpu-check", action="store_true")
    args = p.parse_args()
    os.environ[gpu_zstd.ENV_VAR] = "on"  # an error, not a quiet fallback, if nvCOMP fails
    codec = gpu_zstd.zstd_codec(1, checksum=False)
    cpu = numcodecs.Zstd(level=1)
    rng = np.random.default_rng(4)
    sizes = [2**16, 2**21] if args.cpu_check else [2**16, 2**21, 2**23]
    count = 4 if args.cpu_check else 64
    report: dict = {"nvcomp": getattr(sys.modules.get("nvidia.nvcomp"), "__version__", "?")}
    for dtype in ("uint16", "uint32"):
        for size in sizes:
            blocks = chunks(dtype, size, count, rng)
            codec.encode_many(blocks[:2])  # warm-up: codec and memory pools
            start = time.perf_counter()
            frames = codec.encode_many(blocks)
            gpu_s = time.perf_counter() - start
            for b, f in zip(blocks, frames, strict=True):
                if not np.array_equal(np.frombuffer(cpu.decode(f), b.dtype), b):
                    raise AssertionError(f"{dtype} {size}: numcodecs decodes other bytes")
            with ThreadPoolExecutor(os.cpu_count()) as pool:
                start = time.perf_counter()
                cpu_frames = list(pool.map(cpu.encode, blocks))
                cpu_s = time.perf_counter() - start
            total = sum(b.nbytes for b in blocks)
            report[f"{dtype}_{size}"] = {
                "chunks": count,
                "decoded_equal": True,
                "content_size_in_frames": all(has_content_size(f) for f in frames),
                "gpu_GBps": total / gpu_s / 1e9,
                "cpu_all_cores_GBps": total / cpu_s / 1e9,
                "gpu_ratio": total / sum(map(len, frames)),
                "cpu_ratio": total / sum(map(len, cpu_frames)),
            }
            print(f"{dtype} {size >> 10} KiB x {count}: {report[f'{dtype}_{size}']}")
    Path(args.out).mkdir(parents=True, exist_ok=True)
    (Path(args.out) / "nvcomp.json").write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
