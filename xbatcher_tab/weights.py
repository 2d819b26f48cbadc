"""Sample weights: one weight per sample, the weight of its anchor's cell.

A tabularizer's ``weight`` is a DataArray over some of the sample dims, or
``"coslat"``: the cosine of the latitude, the area of a cell of a regular latitude-
longitude grid relative to one at the equator. A sample's weight depends only on its
anchor, so it is looked up from the coordinate frame of any rows (a table, a batch, a
shuffled batch): ``tab.sample_weight(coords)``.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from ._coords import label_positions

__all__ = ["CosLat", "check_weight", "latitude_dim", "sample_weight"]

LATITUDE_UNITS = {"degrees_north", "degree_north", "degree_N", "degrees_N", "degreeN", "degreesN"}


@dataclass(frozen=True)
class CosLat:
    """``cos(latitude)`` of the anchor, ``dim`` being the latitude dim (in degrees)."""

    dim: Hashable

    def of(self, latitude: np.ndarray) -> np.ndarray:
        return np.cos(np.deg2rad(np.asarray(latitude, dtype=np.float64)))


def latitude_dim(ds: xr.Dataset | xr.DataArray, dims: Sequence[Hashable]) -> Hashable:
    """The dim among ``dims`` whose coordinate is the latitude: by CF ``standard_name``
    or ``units``, else by the name ``lat`` or ``latitude``.

    Examples
    --------
    >>> import xbatcher_tab as xt
    >>> latitude_dim(xt.datasets.tasmax(time=2, lat=3, lon=4), ["time", "lat", "lon"])
    'lat'
    """
    with_coord = [d for d in dims if d in ds.coords and ds[d].dims == (d,)]
    for d in with_coord:
        attrs = ds[d].attrs
        if attrs.get("standard_name") == "latitude" or attrs.get("units") in LATITUDE_UNITS:
            return d
    for d in with_coord:
        if str(d).lower() in ("lat", "latitude"):
            return d
    raise ValueError(
        "weight='coslat' needs a latitude coordinate along one of the sample dims "
        f"{list(dims)} (standard_name 'latitude', units 'degrees_north', or named lat or "
        "latitude); none was found: give weight a DataArray instead"
    )


def check_weight(weight: object, ds: xr.Dataset, dims: Sequence[Hashable]) -> object:
    """The tabularizer's ``weight``, checked against the data: None, :class:`CosLat`
    or a DataArray over some of the sample ``dims``."""
    if weight is None:
        return None
    if isinstance(weight, str):
        if weight != "coslat":
            raise ValueError(f"weight must be 'coslat' or a DataArray, got {weight!r}")
        return CosLat(latitude_dim(ds, dims))
    if not isinstance(weight, xr.DataArray):
        raise TypeError(
            "weight must be 'coslat' or a DataArray over some of the sample dims, got "
            f"{type(weight).__name__}"
        )
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
    if not isinstance(coords, pd.DataFrame):
        raise TypeError(
            "sample_weight takes the samples' coordinate frame (the coords of tabularize, a "
            f"batch or sample_coords), got {type(coords).__name__}"
        )
    needed = [weight.dim] if isinstance(weight, CosLat) else list(weight.dims)
    missing = [d for d in needed if d not in coords.columns]
    if missing:
        raise ValueError(f"coords lacks the columns {missing} the weight is looked up by")
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
    return np.broadcast_to(values[tuple(index)], (len(coords),)).copy()
