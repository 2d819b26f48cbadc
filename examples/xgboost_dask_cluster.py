"""xgboost.dask on a LocalCluster, from a zarr store, predictions back on the map.

Writes notebook-shaped synthetic data to a zarr store (chunks of 10 days), opens it
lazily, builds the window table as dask arrays (nothing is computed until the
workers read their chunks), trains ``xgboost.dask`` on two worker processes and puts
the predictions of the last 20 days back on the grid.
Run: ``python examples/xgboost_dask_cluster.py``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import xarray as xr
from distributed import Client, LocalCluster
from xgboost import dask as dxgb

import xbatcher_tab as xt


def main(time: int = 60, lat: int = 145, lon: int = 192, verbose: bool = True) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        store = str(Path(tmp) / "tasmax.zarr")
        xt.datasets.tasmax(time=time, lat=lat, lon=lon).chunk({"time": 10}).to_zarr(
            store, consolidated=False
        )
        ds = xr.open_zarr(store, consolidated=False)  # lazy, dask-backed
        split = time * 2 // 3
        train, test = ds.isel(time=slice(0, split)), ds.isel(time=slice(split, None))
        tab = xt.WindowTabularizer(
            input_dims={"lat": 5, "lon": 5, "time": 5},
            input_overlap={"lat": 4, "lon": 4, "time": 4},
            target=xt.Target("tasmax", lead={"time": 1}),
        ).fit(train)
        X, y, _ = tab.to_dask(train)
        X_test, y_test, coords = tab.to_dask(test)
        with (
            LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster,
            Client(cluster) as client,
        ):
            dtrain = dxgb.DaskQuantileDMatrix(client, X, y, max_bin=64)
            params = {"max_depth": 6, "eta": 0.3, "max_bin": 64}
            booster = dxgb.train(client, params, dtrain, num_boost_round=60)["booster"]
            pred = dxgb.predict(client, booster, X_test).compute()
            truth = y_test.compute()
        grid = tab.to_grid(pred, coords, like=test)
        names = list(tab.get_feature_names_out())
        # read while the store exists (zarr fills missing chunks with NaN)
        today = X_test[:, names.index("tasmax(lat+0;lon+0;time-1)")].compute()
    result = {
        "rmse": float(np.sqrt(np.mean((pred - truth) ** 2))),
        "rmse_persistence": float(np.sqrt(np.mean((today - truth) ** 2))),
        "rmse_mean": float(np.std(truth)),
        "grid": grid,
    }
    if verbose:
        print(
            f"xgboost.dask on 2 workers: RMSE {result['rmse']:.3f} K, persistence "
            f"{result['rmse_persistence']:.3f} K, the mean {result['rmse_mean']:.3f} K"
        )
        print(f"prediction map: {dict(grid.sizes)}")
    return result


if __name__ == "__main__":
    main()
