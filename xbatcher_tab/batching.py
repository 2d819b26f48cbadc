"""Batches of a window table, for ``partial_fit`` loops and xgboost's data iterators.

Samples are enumerated over the whole dataset first (the order of
``WindowTabularizer.tabularize``), then grouped into batches, so overlap crosses batch
edges and no sample is lost or repeated. A batch is gathered only when it is asked for.
Most users call :meth:`WindowTabularizer.iter_batches`; the machinery lives in
:mod:`xbatcher_tab._table.batches`.

Where the data lives
--------------------
* numpy-backed data is one in-memory source: ``shuffle=True`` permutes every sample of
  the epoch.
* dask-backed data (zarr, netCDF opened with chunks) is read in *slabs*: the samples
  whose windows start in one source chunk along the outermost dim, plus the window's
  halo. Sequential epochs read each slab once. ``shuffle=True`` visits the slabs in a
  random order, ``shuffle_buffer`` slabs at a time, and permutes the samples of those
  slabs: every sample once per epoch, each chunk read about once, and batches that mix
  ``shuffle_buffer`` chunks (not the whole epoch). ``shuffle="full"`` loads the whole
  source once and permutes every sample, for sources that fit in memory.
"""

# the machinery behind WindowTabularizer.iter_batches (internal: its names may change)
from ._table.batches import Shard as Shard
from ._table.batches import augmented as augmented
from ._table.batches import iter_batches as iter_batches
from ._table.batches import rebatch as rebatch

__all__: list[str] = []  # nothing a user passes or receives: see tab.iter_batches
