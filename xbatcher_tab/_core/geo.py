"""The globe: which dim is the latitude and which the longitude, by CF attributes
(``standard_name``, ``units``) first and by name (``lat``/``latitude``,
``lon``/``longitude``) second."""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np
import xarray as xr

__all__ = ["COSLAT", "check_weight_kind", "coslat", "is_longitude", "latitude_dim"]

COSLAT = "coslat"

LATITUDE_UNITS = {"degrees_north", "degree_north", "degree_N", "degrees_N", "degreeN", "degreesN"}
LONGITUDE_UNITS = {"degrees_east", "degree_east", "degree_E", "degrees_E", "degreeE", "degreesE"}


def is_longitude(ds: xr.Dataset | xr.DataArray, dim: Hashable) -> bool:
    """Whether ``dim``'s coordinate is a longitude: by CF ``standard_name`` or
    ``units``, else by the name lon or longitude."""
    if dim not in ds.coords:
        return False
    attrs = ds[dim].attrs
    if attrs.get("standard_name") == "longitude" or attrs.get("units") in LONGITUDE_UNITS:
        return True
    return str(dim).lower() in ("lon", "longitude")


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


def coslat(latitude: object) -> np.ndarray:
    """``cos(latitude)`` (degrees) as float64: the area of a cell of a regular
    latitude-longitude grid relative to one at the equator.

    Examples
    --------
    >>> coslat([0.0, 60.0]).round(3).tolist()
    [1.0, 0.5]
    """
    return np.cos(np.deg2rad(np.asarray(latitude, dtype=np.float64)))


def check_weight_kind(name: str, value: object, where: str) -> object:
    """A ``weight`` argument: None, ``"coslat"`` or a DataArray (``where`` says what
    its dims must be, for the message).

    Examples
    --------
    >>> check_weight_kind("weight", "area", "over the sample dims")
    Traceback (most recent call last):
    ...
    ValueError: weight must be None, 'coslat' or a DataArray over the sample dims, got 'area'
    """
    valid = f"None, 'coslat' or a DataArray {where}"
    if value is None or isinstance(value, xr.DataArray):
        return value
    if isinstance(value, str):
        if value != COSLAT:
            raise ValueError(f"{name} must be {valid}, got {value!r}")
        return value
    raise TypeError(f"{name} must be {valid}, got {type(value).__name__}")
