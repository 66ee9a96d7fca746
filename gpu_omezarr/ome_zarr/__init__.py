"""ome-zarr-py's writing API on our writer: change ``ome_zarr`` to ``gpu_omezarr.ome_zarr``
in the imports (``from gpu_omezarr.ome_zarr.writer import write_image``,
``from gpu_omezarr.ome_zarr.format import FormatV04``, ``from gpu_omezarr.ome_zarr import
OMEZarrImage``...). The modules mirror ome-zarr-py's: ``format``, ``axes``, ``scale``,
``writer``. Reading (``ome_zarr.io``, ``ome_zarr.reader``) stays ome-zarr-py's.
"""

from .classes import OMEZarrImage, OMEZarrLabels, OMEZarrMultiscale

# ome-zarr-py: True when its dask passes zarr array arguments (shards, serializer...)
# through. Our writer always honours them.
USE_DASK_ARRAY_KWARGS = True

__all__ = ["USE_DASK_ARRAY_KWARGS", "OMEZarrImage", "OMEZarrLabels", "OMEZarrMultiscale"]
