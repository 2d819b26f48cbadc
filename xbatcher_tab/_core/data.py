"""What the package accepts as data: xarray objects, numpy- or dask-backed."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Hashable, Iterable, Iterator
from typing import Any

import xarray as xr

__all__ = [
    "DEFAULT_NAME",
    "as_dataset",
    "chunk_sizes",
    "computing_in",
    "is_dask",
    "is_lazy",
]

DEFAULT_NAME = "values"


def as_dataset(data: object, argname: str = "X") -> xr.Dataset:
    """The data as a Dataset: a DataArray becomes its only variable, named after it,
    or ``"values"`` (:data:`DEFAULT_NAME`) when it has no name.

    Examples
    --------
    >>> import numpy as np
    >>> list(as_dataset(xr.DataArray(np.zeros(3), dims="t")).data_vars)
    ['values']
    """
    if isinstance(data, xr.Dataset):
        return data
    if isinstance(data, xr.DataArray):
        return data.to_dataset(name=data.name if data.name is not None else DEFAULT_NAME)
    raise TypeError(
        f"{argname} must be an xarray.Dataset or xarray.DataArray, got {type(data).__name__}; "
        "the tabularizer cuts windows from labelled grids, not from 2-D arrays"
    )


def is_dask(data: Any) -> bool:
    """Whether an array is a dask array (without importing dask)."""
    return type(data).__module__.startswith("dask.")


def is_lazy(variables: Iterable[xr.Variable]) -> bool:
    """Whether any of the variables is dask-backed."""
    return any(is_dask(v.data) for v in variables)


def chunk_sizes(ds: xr.Dataset, dim: Hashable) -> tuple[int, ...] | None:
    """The chunk lengths of ``ds`` along ``dim`` (None for numpy-backed data).

    When variables are chunked differently, the first data variable with ``dim``
    decides.
    """
    try:
        chunks = ds.chunksizes.get(dim)
    except ValueError:  # inconsistent chunks between variables
        chunks = next((v.chunksizes[dim] for v in ds.data_vars.values() if dim in v.dims), None)
    return tuple(int(c) for c in chunks) if chunks else None


@contextlib.contextmanager
def computing_in(owner: int) -> Iterator[None]:
    """Dask computes on its synchronous scheduler inside the block when this is not
    process ``owner`` (the one that made a data loader): a loader's worker, forked
    after the parent started dask's thread pool, inherits the pool without its threads,
    and computing on it would wait forever. The workers are the parallelism there; the
    owner's own computations, and every other process, are left alone."""
    if os.getpid() == owner:
        yield
        return
    import dask

    with dask.config.set(scheduler="synchronous"):
        yield
