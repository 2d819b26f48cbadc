"""The window table as lazy dask arrays, block by block from the source's own chunks.

Each block of rows is one slab of the source (a source chunk along the outermost dim
plus the window's halo), cut by the same kernel as the eager path, so ``to_dask(ds)``
and ``tabularize(ds)`` agree by construction. Building the graph computes nothing; each
task holds one slab and its rows, never the table. Most users call
:meth:`WindowTabularizer.to_dask`; the machinery lives in
:mod:`xbatcher_tab._table.blocks`.
"""

# the machinery behind WindowTabularizer.to_dask, importable here as before
from ._table.blocks import to_dask as to_dask

__all__: list[str] = []  # nothing a user passes or receives: see tab.to_dask
