"""Windows to a table, a scikit-learn Pipeline, predictions back on the map.

Tabularizes 5x5x5 windows of notebook-shaped synthetic ``tasmax`` with the next day at
the window's center as the label, trains ``StandardScaler`` + ``Ridge`` on the first 40
days, and scores the last 20 against persistence (tomorrow = today).
Run: ``python examples/tabularize_ridge.py``.
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

import xbatcher_tab as xt


def main(time: int = 60, lat: int = 145, lon: int = 192, verbose: bool = True) -> dict:
    ds = xt.datasets.tasmax(time=time, lat=lat, lon=lon)
    tab = xt.WindowTabularizer(
        input_dims={"lat": 5, "lon": 5, "time": 5},
        input_overlap={"lat": 4, "lon": 4, "time": 4},
        target=xt.Target("tasmax", lead={"time": 1}),
    )
    split = time * 2 // 3
    # the test period's windows start after the training labels: no shared days
    train, test = ds.isel(time=slice(0, split)), ds.isel(time=slice(split, None))
    y_train = tab.fit(train).target_values(train)
    model = Pipeline([("tab", tab), ("scale", StandardScaler()), ("ridge", Ridge(alpha=1.0))]).fit(
        train, y_train
    )

    X_test, y_test, coords = tab.tabularize(test)
    pred = model[1:].predict(X_test)  # the same as model.predict(test), sharing X_test
    # persistence: the label's day minus one = the window's last day at its center
    names = list(tab.get_feature_names_out())
    today = X_test[:, names.index("tasmax(lat+0;lon+0;time-1)")]
    rmse = float(np.sqrt(np.mean((pred - y_test) ** 2)))
    rmse_persistence = float(np.sqrt(np.mean((today - y_test) ** 2)))
    grid = tab.to_grid(pred, coords, like=test)
    if verbose:
        print(f"train: {len(y_train):,} samples x {len(names)} features")
        print(f"test:  {len(y_test):,} samples")
        print(f"RMSE ridge {rmse:.3f} K, persistence {rmse_persistence:.3f} K")
        print(f"prediction map: {dict(grid.sizes)}, {int(grid.notnull().sum()):,} cells filled")
    return {"rmse": rmse, "rmse_persistence": rmse_persistence, "grid": grid, "n_test": len(y_test)}


if __name__ == "__main__":
    main()
