"""Bad cells in the data hurt a model; an outlier rule recovers its held-out score.

Decoding errors are injected into 0.5 % of the cells of synthetic ``tasmax``, in the
training and the test period alike: half read as 0 K (a missing value decoded as
zero), half 273.15 K too warm (degrees Celsius taken for kelvin twice). A Ridge on
5x5x3 windows is trained on the first two thirds of the days three times: on clean
data, on the spiky data as it is, and on the spiky data with
``outliers={"tasmax": ("range", 150, 350)}, outlier_action="drop"`` (no near-surface
air is colder than 150 K or warmer than 350 K: every sample whose window or label holds
such a cell is dropped). Each is scored on the held-out days against the clean truth,
on the cells the rule keeps (windows free of bad cells: the others have no honest
prediction). Run: ``python examples/outliers_spikes.py``.
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import Ridge

import xbatcher_tab as xt

WINDOW = dict(
    input_dims={"lat": 5, "lon": 5, "time": 3},
    input_overlap={"lat": 4, "lon": 4, "time": 2},
    target=xt.Target("tasmax", lead={"time": 1}),
)
RULE = dict(outliers={"tasmax": ("range", 150.0, 350.0)}, outlier_action="drop")


def with_bad_cells(ds, fraction: float, seed: int = 0):
    """``ds`` with a ``fraction`` of its cells read as 0 K or 273.15 K too warm."""
    rng = np.random.default_rng(seed)
    bad = rng.random(ds.tasmax.shape) < fraction
    values = ds.tasmax.values.copy()
    zero = rng.random(bad.sum()) < 0.5
    values[bad] = np.where(zero, 0.0, values[bad] + 273.15).astype(values.dtype)
    return ds.copy(data={"tasmax": values})


def main(
    time: int = 60, lat: int = 145, lon: int = 192, fraction: float = 0.005, verbose: bool = True
) -> dict:
    clean = xt.datasets.tasmax(time=time, lat=lat, lon=lon)
    spiky = with_bad_cells(clean, fraction)
    split = time * 2 // 3
    truth = clean.tasmax.isel(time=slice(split, None))

    def predicted(data, **options):
        tab = xt.WindowTabularizer(**WINDOW, **options)
        X, y, _ = tab.tabularize(data.isel(time=slice(0, split)))
        model = Ridge(solver="lsqr").fit(X, y)
        test = data.isel(time=slice(split, None))[["tasmax"]]
        return xt.predict(model, tab, test, forecast=False)

    maps = {
        "clean": predicted(clean),
        "spiky": predicted(spiky),
        "dropped": predicted(spiky, **RULE),
    }
    kept = maps["dropped"].notnull()
    scores = {k: float(xt.metrics.rmse(m.where(kept), truth)) for k, m in maps.items()}
    scores["kept"] = float(kept.sum() / maps["clean"].notnull().sum())
    if verbose:
        print(
            f"held-out RMSE against the clean truth, {100 * fraction:g} % of cells bad, on the "
            f"{100 * scores['kept']:.0f} % of held-out windows free of them:\n"
            f"  trained on clean data                 {scores['clean']:.3f} K\n"
            f"  trained on the data with bad cells    {scores['spiky']:.3f} K\n"
            f"  the same, their samples dropped       {scores['dropped']:.3f} K"
        )
    return scores


if __name__ == "__main__":
    main()
