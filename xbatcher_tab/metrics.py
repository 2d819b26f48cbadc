"""Scores of a predicted map against the truth, optionally area-weighted.

``rmse`` and ``mae`` compare two DataArrays on the same grid (aligned by their
coordinates; cells where either is NaN are left out), over all dims or some of them,
with no weight, ``"coslat"`` (the cosine of the latitude, as WeatherBench and most
global evaluations weight cells) or any DataArray of weights.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np
import xarray as xr

from ._core.deprecation import keyword_only
from ._core.geo import check_weight_kind, coslat, latitude_dim

__all__ = ["mae", "rmse"]


def _weighted_mean(
    values: xr.DataArray,
    weight: str | xr.DataArray | None,
    dim: Hashable | Sequence[Hashable] | None,
    sources: Sequence[xr.DataArray] = (),
) -> xr.DataArray:
    """The mean of ``values`` over ``dim``, weighted; ``"coslat"`` finds the latitude
    on ``values`` or, where arithmetic lost its attributes, on one of ``sources`` (the
    two maps compared), so the order of the arguments does not matter."""
    weight = check_weight_kind("weight", weight, "of cell weights")
    if weight is None:
        return values.mean(dim)
    if isinstance(weight, str):
        lat = None
        for source in (values, *sources):
            try:
                lat = latitude_dim(source, list(values.dims))
                break
            except ValueError:
                continue
        if lat is None:
            latitude_dim(values, list(values.dims))  # raises, saying what it looks for
        weight = values[lat].copy(data=coslat(values[lat].values))
    # weights where the error is missing do not count: xarray's weighted mean skips them
    return values.weighted(weight.fillna(0)).mean(dim)


def _errors(predicted: xr.DataArray, truth: xr.DataArray) -> xr.DataArray:
    for name, value in (("predicted", predicted), ("truth", truth)):
        if not isinstance(value, xr.DataArray):
            raise TypeError(f"{name} must be a DataArray, got {type(value).__name__}")
    predicted, truth = xr.align(predicted, truth, join="inner")
    if not predicted.size:
        raise ValueError("predicted and truth share no cell (compare them on the same grid)")
    return predicted - truth


@keyword_only(2, ["weight", "dim"])
def rmse(
    predicted: xr.DataArray,
    truth: xr.DataArray,
    *,
    weight: str | xr.DataArray | None = None,
    dim: Hashable | Sequence[Hashable] | None = None,
) -> xr.DataArray:
    """Root mean squared error of ``predicted`` against ``truth``.

    Parameters
    ----------
    predicted, truth : DataArray
        On the same grid (aligned by coordinates: only common cells count). Cells
        where either is NaN are left out (e.g. the map's edges without a sample).
    weight : None, "coslat" or DataArray
        Cell weights: ``"coslat"`` is the cosine of the latitude coordinate.
    dim : dim or dims, optional
        Dims to reduce over (default all): ``dim=("lat", "lon")`` gives a score per
        time step.

    Examples
    --------
    >>> import xbatcher_tab as xt
    >>> truth = xt.datasets.tasmax(time=2, lat=5, lon=4).tasmax
    >>> warm = truth + 1.0
    >>> round(float(rmse(warm, truth)), 6), round(float(rmse(warm, truth, weight="coslat")), 6)
    (1.0, 1.0)
    >>> rmse(truth + 1.0, truth, dim=("lat", "lon")).dims
    ('time',)
    """
    errors = _errors(predicted, truth)
    return np.sqrt(_weighted_mean(errors**2, weight, dim, (truth, predicted)))


@keyword_only(2, ["weight", "dim"])
def mae(
    predicted: xr.DataArray,
    truth: xr.DataArray,
    *,
    weight: str | xr.DataArray | None = None,
    dim: Hashable | Sequence[Hashable] | None = None,
) -> xr.DataArray:
    """Mean absolute error of ``predicted`` against ``truth``; see :func:`rmse`.

    Examples
    --------
    >>> import xbatcher_tab as xt
    >>> truth = xt.datasets.tasmax(time=2, lat=5, lon=4).tasmax
    >>> round(float(mae(truth - 2.0, truth, weight="coslat")), 6)
    2.0
    """
    return _weighted_mean(abs(_errors(predicted, truth)), weight, dim, (truth, predicted))
