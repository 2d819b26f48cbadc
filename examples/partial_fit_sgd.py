"""Train StandardScaler + SGDRegressor batch by batch from a chunked (dask) source.

The table never exists in memory: ``xt.fit_batches`` streams shuffled batches, fits
the scaler on one full pass, then the regressor for a few epochs.
Run: ``python examples/partial_fit_sgd.py``.
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import SGDRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

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
    model = make_pipeline(StandardScaler(), SGDRegressor(random_state=0))
    xt.fit_batches(model, tab, train, batch_size=65536, epochs=3, random_state=0, progress=verbose)
    sq_err = sq_persist = n = 0.0
    today = list(tab.get_feature_names_out()).index("tasmax(lat+0;lon+0;time-1)")
    for X, y, _ in tab.iter_batches(test, batch_size=65536):
        sq_err += float(np.sum((model.predict(X) - y) ** 2))
        sq_persist += float(np.sum((X[:, today] - y) ** 2))
        n += len(y)
    result = {"rmse": (sq_err / n) ** 0.5, "rmse_persistence": (sq_persist / n) ** 0.5, "n": n}
    if verbose:
        print(
            f"SGD on streamed batches: RMSE {result['rmse']:.3f} K, "
            f"persistence {result['rmse_persistence']:.3f} K ({int(n):,} test samples)"
        )
    return result


if __name__ == "__main__":
    main()
