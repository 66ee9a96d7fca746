"""What the output of a convert already is, and what a failed or interrupted convert leaves.

Exit codes (``gpu-omezarr``): 0 done; 1 ``validate`` found problems; 2 refused before
anything was written (bad arguments, an unreadable or damaged input, an output that holds an
image without ``--overwrite``); 3 the convert failed while writing (a read or decode error
midway, a full disk, an I/O error): a store this run created is removed, one it did not is
left for ``--resume``; 130 interrupted (Ctrl-C): what is stored stays, ``--resume`` finishes it.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import shutil
import traceback
from collections.abc import Iterator

from ..groups import folder_listing, not_a_store

FAILED = 3  # exit code of a convert that failed while writing
INTERRUPTED = 130
OME_ROOTS = ("multiscales", "plate", "well", "bioformats2raw.layout")
# Where a failure's traceback passes through these, it happened while writing.
# What a convert writes at the top of its store (levels, labels, series, Zarr metadata).
OUR_NAMES = r"s\d+|\d+|labels|OME|zarr\.json|\.z(group|attrs|array)|\..*"
WRITING = ("stream.py", "writer.py", "storage.py", "reader.py", "regions.py")


class WriteFailed(Exception):
    """A convert that failed after it began to write (exit code 3)."""


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during a convert; ``str()`` says what is left and how to finish it."""


def output_state(path: str) -> str:
    """``missing``, ``empty`` (a folder with nothing in it), ``image`` (OME-Zarr metadata at
    its root: an image, plate or bioformats2raw layout), ``unfinished`` (a Zarr group with no
    OME metadata: what a failed or killed write leaves), ``array`` (a Zarr array) or
    ``zarr`` (a Zarr group holding other data) or ``foreign`` (a file, or a folder that is
    not a Zarr store)."""
    if not os.path.lexists(path):
        return "missing"
    if not_a_store(path):
        return "foreign"
    names = os.listdir(path)
    if not names:
        return "empty"
    attributes, node = _root_attributes(path)
    if node == "array":
        return "array"
    ome = attributes.get("ome", attributes)
    if any(key in ome for key in OME_ROOTS):
        return "image"
    ours = all(re.fullmatch(OUR_NAMES, name) for name in names)
    return "unfinished" if ours else "zarr"


def _root_attributes(path: str) -> tuple[dict, str]:
    try:
        if os.path.exists(os.path.join(path, "zarr.json")):
            with open(os.path.join(path, "zarr.json")) as f:
                meta = json.load(f)
            return meta.get("attributes", {}) or {}, meta.get("node_type", "group")
        if os.path.exists(os.path.join(path, ".zarray")):
            return {}, "array"
        if os.path.exists(os.path.join(path, ".zattrs")):
            with open(os.path.join(path, ".zattrs")) as f:
                return json.load(f), "group"
    except (OSError, ValueError):
        pass
    return {}, "group"


def check_output(path: str, overwrite: bool, resume: bool) -> str:
    """Refuse an output this convert must not write into; return its state."""
    state = output_state(path)
    if state == "foreign":
        what = not_a_store(path)
        raise ValueError(
            f"output={path!r}: {what}, not a Zarr store; only a Zarr store is ever "
            "replaced: choose another output"
        )
    if state == "array":
        raise ValueError(f"output={path!r}: a Zarr array, not an image; choose another output")
    if state == "image" and not (overwrite or resume):
        raise ValueError(
            f"output={path!r} holds an image; pass --overwrite to replace it "
            "(or --resume to finish an interrupted convert)"
        )
    if state == "zarr" and not overwrite:
        raise ValueError(
            f"output={path!r}: a Zarr group holding other data ({folder_listing(path)}); pass "
            "--overwrite to write the image into it"
        )
    return state


@contextlib.contextmanager
def guarded(source: str, output: str, state: str, nbytes: int) -> Iterator[None]:
    """Turn what goes wrong while writing ``output`` into one line: a failure (exit 3;
    a store this run created is removed) or an interruption (how to resume)."""
    free = _free_bytes(output)
    try:
        yield
    except KeyboardInterrupt:
        if os.path.exists(output) and output_state(output) != "empty":
            raise Interrupted(
                f"interrupted; {output} keeps what was stored: run the same command with "
                "--resume to finish it"
            ) from None
        raise Interrupted("interrupted before anything was written") from None
    except Exception as exc:
        if _refused(exc, output, state):
            raise
        line = _explain(exc, source, output, nbytes, free)
        if state in ("missing", "empty"):
            shutil.rmtree(output, ignore_errors=True)
            if state == "empty":
                os.makedirs(output, exist_ok=True)
            line += f"; removed {output}, which this convert had begun"
        else:
            line += (
                f"; {output} keeps what was stored: --resume finishes it once the cause is "
                "fixed, --overwrite starts again"
            )
        raise WriteFailed(line) from exc


def _refused(exc: Exception, output: str, state: str) -> bool:
    """A check of the arguments that failed before anything was written (exit 2)."""
    if not isinstance(exc, ValueError | TypeError) or _while_writing(exc):
        return False
    return state not in ("missing", "empty") or output_state(output) == state


def _while_writing(exc: BaseException) -> bool:
    frames = traceback.extract_tb(exc.__traceback__)
    return any(
        os.path.basename(f.filename) in WRITING and "gpu_omezarr" in f.filename for f in frames
    )


def _explain(exc: Exception, source: str, output: str, nbytes: int, free: int | None) -> str:
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        where = f" ({exc.filename})" if exc.filename else ""
        had = f"; {free / 2**20:,.1f} MiB were free there when it began" if free else ""
        return (
            f"{output}: no space left on device{where}: the image is {nbytes / 2**20:,.1f} MiB "
            f"uncompressed, plus its coarser levels{had}"
        )
    if isinstance(exc, OSError) and exc.filename:
        return f"{exc.filename}: {exc.strerror or exc}"
    what = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    frames = traceback.extract_tb(exc.__traceback__)
    if any(os.path.basename(f.filename) == "storage.py" and f.name == "put" for f in frames):
        return f"{output}: writing failed ({what})"
    return f"{source}: reading failed midway ({what})"


def _free_bytes(path: str) -> int | None:
    """Free bytes on the filesystem ``path`` is (or will be) on."""
    where = os.path.abspath(path)
    while not os.path.exists(where):
        where = os.path.dirname(where)
    try:
        return shutil.disk_usage(where).free
    except OSError:
        return None
