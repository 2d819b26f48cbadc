"""Synthetic, seeded data shaped like the seed notebook's CMIP6 ``tasmax`` sample.

The notebook's data (time=60, lat=145, lon=192, float32 daily maximum temperature) is
not reachable offline; :func:`tasmax` makes data of the same shape and coordinates that
is realistic enough to learn from: a latitude gradient, a seasonal cycle and smooth
weather anomalies that drift eastward about one grid cell a day, so that a cell's
western neighbour carries tomorrow's signal.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr
from scipy.ndimage import gaussian_filter

from ._core.checks import check_random_state
from ._core.deprecation import renamed
from ._core.params import Boolean, Integer, validate_params

__all__ = ["tasmax"]

_TASMAX_ATTRS = {"units": "K", "long_name": "Daily Maximum Near-Surface Air Temperature"}


def _smooth_noise(rng: np.random.Generator, shape: tuple[int, int], sigma: float) -> np.ndarray:
    field = gaussian_filter(rng.standard_normal(shape), sigma=sigma, mode=("nearest", "wrap"))
    return field / max(float(field.std()), 1e-12)


@validate_params(
    {
        "time": Integer(1),
        "lat": Integer(1),
        "lon": Integer(1),
        "drift": Integer(),
        "static": Boolean(),
        "bounds": Boolean(),
    }
)
def tasmax(
    time: int = 60,
    lat: int = 145,
    lon: int = 192,
    *,
    random_state: int = 0,
    drift: int = 1,
    nan_fraction: float = 0.0,
    static: bool = False,
    calendar: str = "standard",
    bounds: bool = False,
    chunks: dict | None = None,
    **deprecated: object,
) -> xr.Dataset:
    """A notebook-shaped daily ``tasmax`` Dataset, deterministic by ``random_state``.

    Parameters
    ----------
    time, lat, lon : int
        Sizes. Time is daily from 1850-01-01T12:00; lat spans -90..90 evenly; lon
        spans 0..360 (exclusive) evenly, so the defaults match the notebook's grid
        (1.25° by 1.875°).
    random_state : int, numpy Generator or None
        Random seed; the same arguments give the same values (None: new values each
        call). (``seed``, its former
        name, works until 0.3.0 with a FutureWarning.)
    drift : int
        Cells per day the anomalies move eastward.
    nan_fraction : float
        Fraction of grid cells (a smooth, ocean-like mask) set to NaN at every time.
    static : bool
        Also return ``orog(lat, lon)``, a static surface height field in metres.
    calendar : str
        The time coordinate's calendar: ``"standard"`` gives ``datetime64`` labels,
        any other CF calendar (``"noleap"``, ``"360_day"``, ...) ``cftime`` ones, as
        xarray decodes a CMIP6 file.
    bounds : bool
        Add CF bounds variables as CMIP6 files carry them: ``time_bnds``, ``lat_bnds``
        and ``lon_bnds`` over a ``bnds`` dim, named by their coordinates' ``bounds``
        attribute.
    chunks : dict, optional
        If given, return dask-backed data with these chunks.

    Returns
    -------
    xarray.Dataset
        ``tasmax(time, lat, lon)`` float32 in K (plus ``orog`` if asked).

    Examples
    --------
    >>> ds = tasmax(time=5, lat=4, lon=6)
    >>> dict(ds.sizes)
    {'time': 5, 'lat': 4, 'lon': 6}
    >>> str(ds.tasmax.dtype), bool(ds.identical(tasmax(time=5, lat=4, lon=6)))
    ('float32', True)
    """
    if "seed" in deprecated:
        if random_state != 0:
            raise TypeError("tasmax takes random_state (or the deprecated seed), not both")
        renamed("seed", "random_state", "tasmax", deprecated, stacklevel=5)
        random_state = deprecated.pop("random_state")
    if deprecated:
        raise TypeError(f"tasmax got an unexpected keyword argument {next(iter(deprecated))!r}")
    random_state = check_random_state("random_state", random_state)
    if not 0.0 <= nan_fraction < 1.0:
        raise ValueError(f"nan_fraction must be in [0, 1), got {nan_fraction!r}")
    rng = np.random.default_rng(random_state)
    if calendar in ("standard", "gregorian", "proleptic_gregorian"):
        times = pd.date_range("1850-01-01T12:00", periods=time, freq="D")
        doy = times.day_of_year.to_numpy()
    else:
        times = xr.date_range(
            "1850-01-01T12:00", periods=time, freq="D", calendar=calendar, use_cftime=True
        )
        doy = times.dayofyear
    lats = np.linspace(-90.0, 90.0, lat)
    lons = np.arange(lon) * (360.0 / lon)

    phi = np.deg2rad(lats)[:, None]
    climate = 300.0 - 50.0 * np.sin(phi) ** 2  # warm tropics, cold poles
    land = _smooth_noise(rng, (lat, lon), sigma=max(lat, lon) / 24)
    climate = climate + 2.0 * land
    season_amp = 12.0 * np.sin(phi)  # opposite seasons in the two hemispheres
    season = np.cos(2 * np.pi * (doy - 200) / 365.25)

    sigma = max(min(lat, lon) / 60, 1.0)
    rho = 0.95
    anomaly = _smooth_noise(rng, (lat, lon), sigma)
    out = np.empty((time, lat, lon), dtype=np.float32)
    for t in range(time):
        if t:
            innovation = _smooth_noise(rng, (lat, lon), sigma)
            anomaly = rho * np.roll(anomaly, drift, axis=1) + np.sqrt(1 - rho**2) * innovation
        out[t] = climate + season_amp * season[t] + 4.0 * anomaly
    if nan_fraction > 0:
        threshold = np.quantile(land, nan_fraction)
        out[:, land < threshold] = np.nan

    ds = xr.Dataset(
        {
            "tasmax": (
                ("time", "lat", "lon"),
                out,
                _TASMAX_ATTRS,
            )
        },
        coords={
            "time": ("time", np.asarray(times), {"standard_name": "time"}),
            "lat": ("lat", lats, {"units": "degrees_north", "standard_name": "latitude"}),
            "lon": ("lon", lons, {"units": "degrees_east", "standard_name": "longitude"}),
        },
    )
    if bounds:
        ds = _with_bounds(ds)
    if static:
        height = np.clip(800.0 * land, 0.0, None).astype(np.float32)
        ds["orog"] = (("lat", "lon"), height, {"units": "m"})
    if chunks is not None:
        ds = ds.chunk(chunks)
    return ds


def _with_bounds(ds: xr.Dataset) -> xr.Dataset:
    """``ds`` with CF bounds variables for its coordinates, as CMIP6 files have them."""
    out = ds.copy()
    for d in ("time", "lat", "lon"):
        values = np.asarray(ds[d].values)
        if d == "time":
            half = (values[1] - values[0]) / 2 if len(values) > 1 else pd.Timedelta("12h")
        else:
            half = (values[1] - values[0]) / 2 if len(values) > 1 else 0.5
        edges = np.stack([values - half, values + half], axis=1)
        out[f"{d}_bnds"] = ((d, "bnds"), edges)
        out[d].attrs["bounds"] = f"{d}_bnds"
    out["time"].encoding["units"] = "days since 1850-01-01"  # shared with its bounds
    return out
