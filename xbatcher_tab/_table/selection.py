"""Which samples a table keeps, applied to the data: ``where`` and ``dropna``.

``where`` keeps samples by their anchor (a boolean DataArray, or a function of the
data giving one, resolved on the whole data once); ``dropna`` drops samples with NaN
in a feature's window (window NaN found by box sums, never by building windows) or in
their label. The rules are checked at fit by :mod:`~xbatcher_tab._fit.selection`.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr

from .._core.coords import matching_positions
from .._engine.kernels import window_any

__all__ = ["flagged_windows", "in_mask", "nan_windows", "resolve_where"]


def resolve_where(
    where: object, ds: xr.Dataset, dims: Sequence[Hashable], where_data: xr.Dataset | None = None
):
    """``where`` on the whole data ``ds`` (whose dims are ``dims``, in sample order), as
    ``(its dims, a boolean array)``, or None without one. A function is called on the
    (possibly lazy) data and its mask computed; a mask is aligned with the data by
    label along dims where both have a coordinate, else it must have the data's length.
    ``where_data``: what a function is called on (the data as the user gave it, with
    every variable), by default ``ds``.
    """
    if where is None:
        return None
    if callable(where) and not isinstance(where, xr.DataArray):  # on every variable given
        mask = where(ds if where_data is None else where_data)
    else:
        mask = where
    if not isinstance(mask, xr.DataArray):
        raise TypeError(f"where(data) must give a boolean DataArray, got {type(mask).__name__}")
    extra = [d for d in mask.dims if d not in dims]
    if extra:
        raise ValueError(
            f"where has dims {extra} that the data does not have; its dims are {list(dims)}"
        )
    for d in mask.dims:  # on the data's grid: by label where both have a coordinate
        if d in mask.coords and d in ds.coords and mask[d].dims == (d,):
            mask = on_labels(mask, d, ds[d].values)
        elif d in ds.coords and ds[d].dims == (d,):
            raise ValueError(
                f"where has no coordinate along {d!r}, but the data has one: give where the "
                f"data's coordinate (where.assign_coords({d}=ds[{d!r}])) so that it is "
                "aligned by label"
            )
        elif mask.sizes[d] != ds.sizes[d]:
            raise ValueError(
                f"where's {d!r} dimension has length {mask.sizes[d]} but the data's has "
                f"{ds.sizes[d]} (give where a coordinate to align it by label)"
            )
    mask_dims = tuple(d for d in dims if d in mask.dims)
    values = np.asarray(mask.transpose(*mask_dims).values)
    if values.dtype != bool:
        if values.dtype.kind not in "biuf":
            raise TypeError(f"where must be boolean, got dtype {values.dtype}")
        values = np.nan_to_num(values, nan=0.0).astype(bool)
    return mask_dims, values


def in_mask(mask: tuple, cells: Mapping[Hashable, np.ndarray], n: int) -> np.ndarray:
    """Whether a resolved ``where`` mask keeps each of ``n`` anchors at ``cells`` (True
    past the mask's extent: forecasts)."""
    dims, values = mask
    index = [cells[d] for d in dims]
    inside = np.ones(n, dtype=bool)
    for axis, idx in enumerate(index):
        inside &= idx < values.shape[axis]
    kept = np.ones_like(inside)
    kept[inside] = values[tuple(i[inside] for i in index)] if index else bool(values)
    return kept


def flagged_windows(
    features: Sequence[Any], pos: Mapping[Hashable, np.ndarray], n: int
) -> np.ndarray:
    """Whether the window of each of ``n`` samples at positions ``pos`` holds an
    outlier cell (a feature array's ``flagged`` cells) in any feature variable."""
    bad = np.zeros(n, dtype=bool)
    for f in features:
        if f.flagged is not None:
            bad |= window_any(f.flagged, f.axes, f.sizes, f.steps)[tuple(pos[d] for d in f.dims)]
    return bad


def nan_windows(features: Sequence[Any], pos: Mapping[Hashable, np.ndarray], n: int) -> np.ndarray:
    """Whether the window of each of ``n`` samples at positions ``pos`` holds a NaN in
    any feature variable."""
    bad = np.zeros(n, dtype=bool)
    for f in features:
        if f.arr.dtype.kind != "f":
            continue
        has_nan = window_any(np.isnan(f.arr), f.axes, f.sizes, f.steps)
        bad |= has_nan[tuple(pos[d] for d in f.dims)]
    return bad


def on_labels(mask: xr.DataArray, dim: Hashable, labels: np.ndarray) -> xr.DataArray:
    """``mask`` along ``dim`` at the data's ``labels``: found by label (float labels
    within float32 rounding, see :func:`~xbatcher_tab._core.coords.matching_positions`),
    False where the mask has no such label (it covers part of the grid). A mask none of
    whose labels is on the data's grid is refused: every sample would vanish."""
    at = matching_positions(mask[dim].values, labels)
    if labels.size and (at < 0).all():
        raise ValueError(
            f"where's {dim!r} labels ({_span(mask[dim].values)}) match none of the data's "
            f"({_span(labels)}): no sample would be kept; give where the data's grid "
            f"(where.assign_coords({dim}=ds[{dim!r}]) if only the labels differ)"
        )
    picked = mask.isel({dim: np.where(at >= 0, at, 0)}).assign_coords({dim: labels})
    inside = xr.DataArray(at >= 0, dims=(dim,), coords={dim: labels})
    return picked.where(inside, False)


def _span(values: np.ndarray) -> str:
    values = np.asarray(values)
    return f"{values[0]!r} to {values[-1]!r}" if values.size else "none"
