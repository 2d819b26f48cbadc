"""The main job on built-in data: windows -> xgboost -> scores and maps.

``run_demo`` is what ``xbatcher-tab demo`` and ``make demo`` run.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import datasets
from ._spec import Target
from .prediction import predict
from .tabularizer import WindowTabularizer

__all__ = ["run_demo"]


def run_demo(
    size: float = 1.0,
    out: str | Path = "demo_output",
    rounds: int = 40,
    quiet: bool = False,
    lat: int = 145,
    lon: int = 192,
) -> dict:
    """Train xgboost on 9x9x9 windows of synthetic tasmax and score the held-out days.

    The first two thirds of the days train, the rest test: the two periods are cut
    before tabularizing, so no test window shares a day with a training window or
    label. Training streams the table through :class:`WindowDataIter` into a
    ``QuantileDMatrix``. Scores are RMSEs on the test period for the model, persistence
    (tomorrow = today) and climatology (each cell's training-period mean). Then
    :func:`xbatcher_tab.predict` puts the model's predictions on the map, including the
    forecast for the day after the data's last day. Writes ``truth.png``,
    ``prediction.png`` and ``error.png`` (the last test day) and ``forecast.png`` (the
    day after) to ``out``.
    """
    import xgboost

    from .xgboost import WindowDataIter

    say = (lambda *a: None) if quiet else print
    days = max(24, round(60 * size))
    ds = datasets.tasmax(time=days, lat=lat, lon=lon)
    split = days * 2 // 3
    train, test = ds.isel(time=slice(0, split)), ds.isel(time=slice(split, None))
    tab = WindowTabularizer(
        input_dims={"lat": 9, "lon": 9, "time": 9},
        input_overlap={"lat": 8, "lon": 8, "time": 8},
        target=Target("tasmax", lead={"time": 1}),
    ).fit(train)
    names = [str(n) for n in tab.get_feature_names_out()]
    n_train = tab.count_samples(train)
    say(
        f"data: synthetic tasmax {dict(ds.sizes)}; train days 0-{split - 1}, test days "
        f"{split}-{days - 1}"
    )
    say(
        f"train: {n_train:,} samples x {len(names)} features "
        f"({n_train * len(names) * 4 / 1e9:.1f} GB, streamed in batches)"
    )

    dtrain = xgboost.QuantileDMatrix(WindowDataIter(tab, train, batch_size=131072), max_bin=64)
    params = {"max_depth": 6, "eta": 0.3, "max_bin": 64, "objective": "reg:squarederror"}
    booster = xgboost.train(params, dtrain, num_boost_round=rounds)
    del dtrain

    X, y, coords = tab.tabularize(test)
    pred = booster.inplace_predict(X)
    persistence = X[:, names.index("tasmax(lat+0,lon+0,time-1)")]
    clim = train.tasmax.mean("time")
    climatology = clim.values[
        clim.get_index("lat").get_indexer(coords["lat"]),
        clim.get_index("lon").get_indexer(coords["lon"]),
    ]
    del X

    def rmse(a):
        return float(np.sqrt(np.mean((np.asarray(a, dtype=np.float64) - y) ** 2)))

    scores = {
        "model": rmse(pred),
        "persistence": rmse(persistence),
        "climatology": rmse(climatology),
    }
    say(f"test: {len(y):,} samples")
    say(
        f"RMSE  xgboost {scores['model']:.3f} K | persistence {scores['persistence']:.3f} K "
        f"| climatology {scores['climatology']:.3f} K"
    )
    gain = 1 - scores["model"] / scores["persistence"]
    say(f"xgboost beats persistence by {100 * gain:.0f} % on the held-out days")

    # back on the map: every test window, and the day after the data's last day
    forecast = predict(booster, tab, test)
    day, ahead = test.time.values[-1], forecast.time.values[-1]
    tomorrow = forecast.sel(time=ahead)
    say(
        f"forecast for {np.datetime_as_string(ahead, unit='D')} (the day after the data "
        f"ends): {int(tomorrow.notnull().sum()):,} cells, mean {float(tomorrow.mean()):.1f} K"
    )
    maps = _write_maps(
        Path(out), test.tasmax.sel(time=day), forecast.sel(time=day), tomorrow
    )
    say("maps: " + ", ".join(str(p) for p in maps))
    grid = forecast.sel(time=test.time)
    return {
        "scores": scores,
        "maps": maps,
        "n_test": len(y),
        "grid": grid,
        "forecast": tomorrow,
        "pred": pred,
    }


def _write_maps(out: Path, truth, prediction, forecast) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    day = np.datetime_as_string(truth.time.values, unit="D")
    error = prediction - truth
    vmin, vmax = float(truth.min()), float(truth.max())
    panels = [
        ("truth", truth, {"cmap": "inferno", "vmin": vmin, "vmax": vmax}, "tasmax (K)"),
        (
            "prediction",
            prediction,
            {"cmap": "inferno", "vmin": vmin, "vmax": vmax},
            "predicted tasmax (K)",
        ),
        ("error", error, {"cmap": "RdBu_r", "center": 0}, "prediction - truth (K)"),
        (
            "forecast",
            forecast,
            {"cmap": "inferno", "vmin": vmin, "vmax": vmax},
            "forecast tasmax (K)",
        ),
    ]
    ahead = np.datetime_as_string(forecast.time.values, unit="D")
    paths = []
    for name, field, style, label in panels:
        fig, ax = plt.subplots(figsize=(8, 4.5))
        field.plot(ax=ax, cbar_kwargs={"label": label}, **style)
        title = f"forecast for {ahead}, past the data" if name == "forecast" else ""
        ax.set_title(title or f"{name}, {day} (held out)")
        path = out / f"{name}.png"
        fig.savefig(path, dpi=90, bbox_inches="tight")
        plt.close(fig)
        paths.append(path)
    return paths
