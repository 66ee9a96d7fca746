"""Command line: ``gpu-omezarr convert | info | validate | preview | demo``.

User mistakes (bad arguments, unreadable or damaged inputs, an output that holds an image
without ``--overwrite``) end with one line on stderr and exit code 2, never a traceback;
``validate`` exits 1 when the store has problems; a convert that fails while writing exits 3
(``cli/output.py``), one interrupted by Ctrl-C 130.
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
import warnings

from . import convert, demo, inspect, preview
from .output import FAILED, INTERRUPTED, WriteFailed

USER_ERRORS = (ValueError, TypeError, OSError, KeyError, RuntimeError)
# The library's parameter names in its messages, as the flags a user of the CLI typed.
FLAGS = [
    (re.compile(r"(?<![\w.-])storage_options\.(chunks|shards)\b"), r"--\1"),
    (re.compile(r"(?<![\w.-])(resume|overwrite)=True\b"), r"--\1"),
    (re.compile(r"(?<![\w.-])scale_factors\b"), "--scale-factors"),
    (re.compile(r"(?<![\w.-])version=(?=')"), "--ngff-version="),
    (re.compile(r"(?<![\w.-])(scale|axes|method|backend|series)(?=[=\[])"), r"--\1"),
    (re.compile(r"(?<![\w.-])group=(?=')"), "output="),
]


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__

    parser = argparse.ArgumentParser(
        prog="gpu-omezarr",
        description="Write OME-Zarr image pyramids fast (CuPy on a GPU, NumPy elsewhere).",
    )
    parser.add_argument("--version", action="version", version=f"gpu-omezarr {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (convert, inspect, preview, demo):
        module.add_parsers(sub)
    return parser


def as_flags(message: str) -> str:
    """``message`` with the library's parameter names as the CLI's flags."""
    for pattern, flag in FLAGS:
        message = pattern.sub(flag, message)
    return message


def _one_line(message: Warning | str, category: type, *args: object, **kwargs: object) -> str:
    return f"gpu-omezarr: warning: {message}\n"


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    formatwarning = warnings.formatwarning
    warnings.formatwarning = _one_line  # a warning is a line for the user, not a source line
    try:
        return _run(args)
    finally:
        warnings.formatwarning = formatwarning


def _run(args: argparse.Namespace) -> int:
    """``args.run(args)``, each failure one line on stderr and its exit code."""
    try:
        return args.run(args)
    except KeyboardInterrupt as exc:
        # zarr's coroutines cut short are not worth a word to the user ("Task was destroyed
        # but it is pending", "coroutine ... was never awaited" as the process ends).
        logging.getLogger("asyncio").setLevel(logging.CRITICAL + 1)
        warnings.filterwarnings("ignore", "coroutine .* was never awaited", RuntimeWarning)
        print(f"gpu-omezarr: {exc or 'interrupted'}", file=sys.stderr)
        return INTERRUPTED
    except WriteFailed as exc:
        print(f"gpu-omezarr: error: {as_flags(str(exc))}", file=sys.stderr)
        return FAILED
    except USER_ERRORS as exc:
        message = str(exc) or type(exc).__name__
        if isinstance(exc, KeyError):
            message = f"not found: {message}"
        print(f"gpu-omezarr: error: {as_flags(message)}", file=sys.stderr)
        return 2
