"""Writing while acquiring: frames appended along the first axis as they are produced, the
pyramid computed on the fly (:func:`open_stream`, :class:`FrameStream`).

Built on one :class:`~gpu_omezarr.job.Write` (levels from :mod:`..plan`, arrays from its
``array_specs``, the OME blocks from :mod:`..describe`) whose steps are spread over the
acquisition: the arrays are made at open (length 0 along the first axis, or reopened to
resume), frames go through the levels' ``ChunkWriter``s tile by tile, and every completed
tile is *published*: its units stored, then every level resized to cover exactly the frames
stored, then (the first time) the OME metadata. Modules: ``open`` (arguments to a stream),
``frames`` (the stream), ``publish`` (arrays on disk: made, reopened, resized).
"""

from .frames import FrameStream
from .open import open_stream

__all__ = ["FrameStream", "open_stream"]
