"""Command line: ``gpu-omezarr convert | info | validate | preview | demo``.

User mistakes (bad arguments, unreadable inputs, an existing output without ``--overwrite``)
end with one line on stderr and exit code 2, never a traceback; ``validate`` exits 1 when
the store has problems.
"""

from __future__ import annotations

import argparse
import sys

from . import convert, demo, inspect, preview

USER_ERRORS = (ValueError, TypeError, OSError, KeyError, RuntimeError)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gpu-omezarr",
        description="Write OME-Zarr image pyramids fast (CuPy on a GPU, NumPy elsewhere).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (convert, inspect, preview, demo):
        module.add_parsers(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except KeyboardInterrupt:
        print("gpu-omezarr: interrupted", file=sys.stderr)
        return 130
    except USER_ERRORS as exc:
        message = str(exc) or type(exc).__name__
        if isinstance(exc, KeyError):
            message = f"not found: {message}"
        print(f"gpu-omezarr: error: {message}", file=sys.stderr)
        return 2
