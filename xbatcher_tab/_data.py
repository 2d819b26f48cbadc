"""What the package accepts as data: xarray objects, numpy- or dask-backed."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from ._columns import PERIODS

# pandas' names of the calendar fields that xarray spells without underscores
PANDAS_FIELDS = {"dayofyear": "day_of_year", "dayofweek": "day_of_week"}

__all__ = [
    "DEFAULT_NAME",
    "as_dataset",
    "chunk_sizes",
    "coordinate_features",
    "coordinate_labels",
    "coordinate_values",
    "is_dask",
    "is_lazy",
]

DEFAULT_NAME = "values"


def as_dataset(data: object, argname: str = "X") -> xr.Dataset:
    """The data as a Dataset: a DataArray becomes its only variable, named after it,
    or ``"values"`` (:data:`DEFAULT_NAME`) when it has no name.

    Examples
    --------
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


def coordinate_values(ds: xr.Dataset, dims: Iterable[Hashable]) -> dict:
    """Each dim's 1-D index coordinate values, or None for dims without one."""
    return {
        d: (np.asarray(ds[d].values) if d in ds.coords and ds[d].dims == (d,) else None)
        for d in dims
    }


def coordinate_labels(values: np.ndarray | None, cells: np.ndarray, dim: Hashable) -> np.ndarray:
    """Labels of ``cells`` (integer positions) on a dim's coordinate ``values``.

    Cells past the coordinate's end (the anchors of forecasts) are labelled by
    extrapolating its regular step: ``values[-1] + k * step``, for numeric and datetime
    coordinates. A dim without a coordinate (``values`` None) is labelled by position.

    Examples
    --------
    >>> days = np.array(["2000-01-01", "2000-01-02"], dtype="datetime64[D]")
    >>> coordinate_labels(days, np.array([0, 1, 2]), "time").tolist()
    [datetime.date(2000, 1, 1), datetime.date(2000, 1, 2), datetime.date(2000, 1, 3)]
    >>> coordinate_labels(None, np.array([3, 4]), "x").tolist()
    [3, 4]
    """
    cells = np.asarray(cells, dtype=np.int64)
    if values is None:
        return cells
    n = len(values)
    if not cells.size or cells.max() < n:
        return values[cells]
    step = regular_step(values, dim)
    inside = np.minimum(cells, n - 1)
    ahead = cells - inside  # 0 inside the coordinate, k cells past its end
    return values[inside] + ahead * step


def regular_step(values: np.ndarray, dim: Hashable):
    """The constant step of a coordinate, or a clear error if it has none."""
    kind = np.asarray(values).dtype.kind
    if len(values) < 2 or kind not in "iufmM":
        raise ValueError(
            f"cannot label forecasts past the end of {dim!r}: its coordinate needs a regular "
            f"numeric or datetime step to extrapolate, got {len(values)} value(s) of dtype "
            f"{np.asarray(values).dtype}"
        )
    steps = np.diff(values)
    step = steps[0]
    regular = np.all(steps == step) if kind in "iumM" else np.allclose(steps, step, rtol=1e-9)
    if not regular:
        raise ValueError(
            f"cannot label forecasts past the end of {dim!r}: its coordinate is irregular "
            f"(steps from {steps.min()} to {steps.max()}); forecasts need a regular step"
        )
    return step


def coordinate_features(
    values: dict, cells: dict, specs: Sequence[tuple[str, str]], dtype=np.float64
) -> np.ndarray:
    """Columns of the anchors' coordinate features, ``(n_samples, n_columns)``.

    ``specs`` are ``(source, encoding)`` pairs: a source is a dim (its coordinate label,
    or the anchor's position for a dim without a coordinate) or ``dim.field``, a
    calendar field of a datetime coordinate (``time.hour``); "cyclic" gives its sine
    and cosine over the field's period (a day of year over its year's length).

    Examples
    --------
    >>> hours = np.array(["2000-01-01T06", "2000-01-01T18"], dtype="datetime64[h]")
    >>> coordinate_features({"time": hours}, {"time": np.array([0, 1])},
    ...                     [("time.hour", "raw"), ("time.hour", "cyclic")]).round(6).tolist()
    [[6.0, 1.0, 0.0], [18.0, -1.0, -0.0]]
    """
    columns = []
    for source, encoding in specs:
        dim, _, field_ = source.partition(".")
        labels = coordinate_labels(values[dim], cells[dim], dim)
        if field_:
            if np.asarray(labels).dtype.kind != "M":
                raise ValueError(
                    f"coord_features {source!r} needs a datetime coordinate along {dim!r}, "
                    f"got dtype {np.asarray(labels).dtype}"
                )
            index = pd.DatetimeIndex(labels)
            attribute = PANDAS_FIELDS.get(field_, field_)
            raw = np.asarray(getattr(index, attribute), dtype=np.float64)
        else:
            raw = np.asarray(labels, dtype=np.float64)
        if encoding != "cyclic":
            columns.append(raw)
            continue
        if field_ == "dayofyear":
            phase = (raw - 1) / np.where(index.is_leap_year, 366.0, 365.0)
        elif field_ in ("month",):
            phase = (raw - 1) / PERIODS[field_]
        else:
            phase = raw / PERIODS[field_ or dim]
        columns += [np.sin(2 * np.pi * phase), np.cos(2 * np.pi * phase)]
    n = len(next(iter(cells.values()))) if cells else 0
    return np.stack(columns, axis=1).astype(dtype) if columns else np.empty((n, 0), dtype)
