"""Relative features beat raw ones on a spatial-gradient task.

A synthetic "geopotential" field ``z`` whose level shifts between seasons (the training
days sit about 300 m lower than the test days), and a "wind" ``v`` that follows its
east-west gradient, as the geostrophic wind does. A tree ensemble fed raw 3x3 windows
of ``z`` learns thresholds on absolute heights that the test season never reaches;
fed the same windows relative to their center (``center="anchor"``), it learns the
gradient, which does not depend on the level.

    python examples/relative_features.py
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from scipy.ndimage import gaussian_filter
from sklearn.ensemble import HistGradientBoostingRegressor

import xbatcher_tab as xt


def gradient_data(time: int = 40, lat: int = 30, lon: int = 48, seed: int = 0) -> xr.Dataset:
    rng = np.random.default_rng(seed)
    field = gaussian_filter(rng.normal(size=(time, lat, lon)), sigma=(0, 2, 2), mode="wrap")
    level = np.where(np.arange(time) < time // 2, 5500.0, 5800.0)  # two seasons
    z = level[:, None, None] + 80.0 * field / field.std()
    v = (np.roll(z, -1, axis=2) - np.roll(z, 1, axis=2)) / 2.0 + rng.normal(0, 1.0, z.shape)
    coords = {
        "time": np.arange(time),
        "lat": np.linspace(-60, 60, lat),
        "lon": np.arange(lon) * 360.0 / lon,
    }
    dims = ("time", "lat", "lon")
    return xr.Dataset(
        {"z": (dims, z.astype("float32")), "v": (dims, v.astype("float32"))}, coords=coords
    )


def main(verbose: bool = True) -> dict:
    ds = gradient_data()
    train, test = ds.isel(time=slice(0, 20)), ds.isel(time=slice(20, None))
    scores = {}
    for name, center in (("raw", None), ("relative", "anchor")):
        tab = xt.WindowTabularizer(
            input_dims={"lat": 3, "lon": 3},
            input_overlap={"lat": 2, "lon": 2},
            variables=["z"],
            target="v",
            center=center,
        )
        X, y, _ = tab.tabularize(train)
        model = HistGradientBoostingRegressor(max_iter=200, random_state=0).fit(X, y)
        X_test, y_test, _ = tab.tabularize(test)
        pred = model.predict(X_test)
        scores[name] = {
            "rmse": float(np.sqrt(np.mean((pred - y_test) ** 2))),
            "corr": float(np.corrcoef(pred, y_test)[0, 1]),
        }
    scores["zero"] = {"rmse": float(np.sqrt(np.mean(y_test**2))), "corr": float("nan")}
    if verbose:
        for name, s in scores.items():
            print(f"{name:<9} RMSE {s['rmse']:6.2f}   correlation {s['corr']:.2f}")
    return scores


if __name__ == "__main__":
    main()
