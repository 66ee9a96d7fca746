"""PNG files of previews: imagecodecs encodes the pixels (libpng, already a dependency for
TIFF codecs); what the preview shows (level, z, scale bar) is added as ``tEXt`` chunks."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Mapping

import numpy as np

_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def encode(rgb: np.ndarray, text: Mapping[str, str] | None = None) -> bytes:
    """``rgb`` (uint8, h x w x 3) as PNG bytes, with ``text`` as ``tEXt`` chunks after the
    header (Latin-1; characters it lacks are written as ``?``)."""
    import imagecodecs

    data = bytes(imagecodecs.png_encode(np.ascontiguousarray(rgb, np.uint8), level=6))
    header_end = len(_SIGNATURE) + 8 + 13 + 4  # signature, then IHDR: always 13 bytes
    chunks = b"".join(
        _chunk(b"tEXt", _latin1(key)[:79] + b"\0" + _latin1(value))
        for key, value in (text or {}).items()
    )
    return data[:header_end] + chunks + data[header_end:]


def read_text(data: bytes) -> dict[str, str]:
    """The ``tEXt`` entries of PNG ``data``."""
    if not data.startswith(_SIGNATURE):
        raise ValueError("not a PNG file")
    entries, at = {}, len(_SIGNATURE)
    while at + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[at : at + 8])
        if kind == b"tEXt":
            key, _, value = data[at + 8 : at + 8 + length].partition(b"\0")
            entries[key.decode("latin-1")] = value.decode("latin-1")
        at += 12 + length
    return entries


def _chunk(kind: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(kind + body) & 0xFFFFFFFF
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)


def _latin1(text: str) -> bytes:
    return text.encode("latin-1", errors="replace")
