"""xgboost from a window table it never sees whole: ``WindowDataIter`` feeds
``ExtMemQuantileDMatrix`` batch by batch (pages cached on disk), then predictions go
back on the map. Run: ``python examples/xgboost_external_memory.py``.
"""

from __future__ import annotations

import tempfile

import numpy as np
import xgboost

import xbatcher_tab as xt


def main(time: int = 60, lat: int = 145, lon: int = 192, verbose: bool = True) -> dict:
    ds = xt.datasets.tasmax(time=time, lat=lat, lon=lon, chunks={"time": 10})
    split = time * 2 // 3
    train, test = ds.isel(time=slice(0, split)), ds.isel(time=slice(split, None))
    tab = xt.WindowTabularizer(
        input_dims={"lat": 5, "lon": 5, "time": 5},
        input_overlap={"lat": 4, "lon": 4, "time": 4},
        target=xt.Target("tasmax", lead={"time": 1}),
    ).fit(train)
    X, y, coords = tab.tabularize(test)
    names = list(tab.get_feature_names_out())
    with tempfile.TemporaryDirectory() as cache:
        it = xt.WindowDataIter(tab, train, batch_size=131072, cache_prefix=f"{cache}/xgb")
        dtrain = xgboost.ExtMemQuantileDMatrix(it, max_bin=64)
        params = {"max_depth": 6, "eta": 0.3, "max_bin": 64, "nthread": 2}
        booster = xgboost.train(params, dtrain, num_boost_round=60)
        pred = booster.predict(xgboost.DMatrix(X, feature_names=names))
        del booster, dtrain, it  # the booster keeps the training pages: release them first
    today = X[:, names.index("tasmax(lat+0;lon+0;time-1)")]
    result = {
        "rmse": float(np.sqrt(np.mean((pred - y) ** 2))),
        "rmse_persistence": float(np.sqrt(np.mean((today - y) ** 2))),
        "grid": tab.to_grid(pred, coords, like=test),
    }
    if verbose:
        print(
            f"xgboost (external memory): RMSE {result['rmse']:.3f} K, "
            f"persistence {result['rmse_persistence']:.3f} K"
        )
    return result


if __name__ == "__main__":
    main()
