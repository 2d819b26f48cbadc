"""Which samples a table keeps: the ``dropna`` and ``where`` rules.

``where`` keeps samples by their anchor (a boolean DataArray, or a function of the
data giving one, resolved on the whole data once); ``dropna`` drops samples with NaN
in a feature's window (window NaN found by box sums, never by building windows) or in
their label.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr

from ._checks import describe
from ._kernels import window_any

__all__ = [
    "check_dropna",
    "check_where",
    "flagged_windows",
    "in_mask",
    "nan_windows",
    "resolve_where",
]


def check_dropna(value: object) -> bool | str:
    """``dropna``: False, True (NaN in a feature or the label) or "target" (the label).

    Examples
    --------
    >>> check_dropna("target"), check_dropna(np.bool_(True))
    ('target', True)
    >>> check_dropna("yes")
    Traceback (most recent call last):
    ...
    ValueError: dropna must be True, False or 'target', got 'yes'
    """
    if value == "target":
        return "target"
    if isinstance(value, str):
        raise ValueError(f"dropna must be True, False or 'target', got {value!r}")
    if isinstance(value, bool | np.bool_):
        return bool(value)
    raise TypeError(f"dropna must be True, False or 'target', got {describe(value)}")


def check_where(value: object) -> object:
    """``where``: None, a boolean DataArray, or a function of the data giving one."""
    if value is not None and not (isinstance(value, xr.DataArray) or callable(value)):
        raise TypeError(
            "where must be a boolean DataArray over some of the data's dims, or a function "
            f"of the data giving one, got {type(value).__name__}"
        )
    return value


def resolve_where(where: object, ds: xr.Dataset, dims: Sequence[Hashable]):
    """``where`` on the whole data ``ds`` (whose dims are ``dims``, in sample order), as
    ``(its dims, a boolean array)``, or None without one. A function is called on the
    (possibly lazy) data and its mask computed; a mask is aligned with the data by
    label along dims where both have a coordinate, else it must have the data's length.
    """
    if where is None:
        return None
    mask = where(ds) if callable(where) and not isinstance(where, xr.DataArray) else where
    if not isinstance(mask, xr.DataArray):
        raise TypeError(f"where(data) must give a boolean DataArray, got {type(mask).__name__}")
    extra = [d for d in mask.dims if d not in dims]
    if extra:
        raise ValueError(
            f"where has dims {extra} that the data does not have; its dims are {list(dims)}"
        )
    for d in mask.dims:  # on the data's grid: by label where both have a coordinate
        if d in mask.coords and d in ds.coords and mask[d].dims == (d,):
            mask = mask.reindex({d: ds[d].values}, fill_value=False)
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
