"""Sample weights as ``fit`` takes them (``None``, ``"coslat"`` or a DataArray),
and each sample's weight looked up from a coordinate frame by its anchor.

The public face is :mod:`xbatcher_tab.weights`.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from .._core.coords import check_frame, label_positions
from .._core.geo import check_weight_kind, coslat, latitude_dim

__all__ = ["CosLat", "check_weight", "sample_weight"]


@dataclass(frozen=True)
class CosLat:
    """``cos(latitude)`` of the anchor, ``dim`` being the latitude dim (in degrees)."""

    dim: Hashable

    def of(self, latitude: np.ndarray) -> np.ndarray:
        return coslat(latitude)


def check_weight(weight: object, ds: xr.Dataset, dims: Sequence[Hashable]) -> object:
    """The tabularizer's ``weight``, checked against the data: None, :class:`CosLat`
    or a DataArray over some of the sample ``dims``."""
    weight = check_weight_kind("weight", weight, "over some of the sample dims")
    if weight is None:
        return None
    if isinstance(weight, str):
        return CosLat(latitude_dim(ds, dims))
    extra = [d for d in weight.dims if d not in dims]
    if extra:
        raise ValueError(
            f"weight has dims {extra} that the data does not have; its dims are {list(dims)}"
        )
    if weight.dtype.kind not in "biuf":
        raise TypeError(f"weight must be numeric, got dtype {weight.dtype}")
    for d in weight.dims:
        if d in ds.coords and ds[d].dims == (d,) and d not in weight.coords:
            raise ValueError(
                f"weight has no coordinate along {d!r}, but the data has one: give weight "
                f"the data's coordinate (weight.assign_coords({d}=ds[{d!r}])) so that each "
                "anchor finds its weight by label"
            )
    return weight


def sample_weight(weight: object, coords: pd.DataFrame) -> np.ndarray:
    """The weight of each row of a coordinate frame (float64, in its order).

    A DataArray is looked up by label along dims where it has a coordinate (every
    anchor's label must be among them) and by cell elsewhere (the frame holds cells
    for dims without a coordinate).

    Examples
    --------
    >>> frame = pd.DataFrame({"lat": [0.0, 60.0]})
    >>> sample_weight(CosLat("lat"), frame).round(3).tolist()
    [1.0, 0.5]
    >>> w = xr.DataArray([1.0, 2.0], dims="lat", coords={"lat": [0.0, 60.0]})
    >>> sample_weight(w, frame[::-1]).tolist()
    [2.0, 1.0]
    """
    needed = [weight.dim] if isinstance(weight, CosLat) else list(weight.dims)
    check_frame(coords, needed, "sample_weight")
    if isinstance(weight, CosLat):
        return weight.of(coords[weight.dim].to_numpy())
    index = []
    for d in weight.dims:
        labels = coords[d].to_numpy()
        if d in weight.coords and weight[d].dims == (d,):
            hint = f": give it every anchor's label along {d!r}"
            cells = label_positions(weight[d].values, labels, d, "weight's coordinate", hint)
        else:
            cells = labels.astype(np.int64)
            if cells.size and (cells.min() < 0 or cells.max() >= weight.sizes[d]):
                raise ValueError(
                    f"weight's {d!r} dimension (length {weight.sizes[d]}) does not cover "
                    "every anchor; give it a coordinate or the data's length"
                )
        index.append(cells)
    values = np.asarray(weight.values, dtype=np.float64)
    out = np.broadcast_to(values[tuple(index)], (len(coords),)).copy()
    bad = ~np.isfinite(out) | (out < 0)
    if bad.any():
        raise ValueError(
            f"weight must be finite and >= 0 at every sample's anchor; {int(bad.sum())} "
            f"sample(s) have another (e.g. {out[bad][0]}): give 0 where a cell should not "
            "count, or leave its samples out with where="
        )
    return out
