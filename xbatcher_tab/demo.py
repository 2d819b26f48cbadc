"""The main job on built-in data: windows -> xgboost -> scores and maps.

``run_demo`` is what ``xbatcher-tab demo`` and ``make demo`` run.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import datasets, metrics
from ._core.checks import check_bool, check_int
from ._core.deprecation import keyword_only, warn_deprecated
from ._core.window import Target
from .prediction import predict
from .tabularizer import WindowTabularizer

__all__ = ["run_demo"]


@keyword_only(0, ["size", "out", "rounds", "quiet", "lat", "lon"])
def run_demo(
    *,
    size: float = 1.0,
    out: str | Path = "demo_output",
    rounds: int = 40,
    progress: bool = True,
    lat: int = 145,
    lon: int = 192,
    **deprecated: object,
) -> dict:
    """Train xgboost on 9x9x9 windows of synthetic tasmax and score the held-out days.

    The first two thirds of the days train, the rest test: the two periods are cut
    before tabularizing, so no test window shares a day with a training window or
    label. Longitude is periodic (windows wrap around the globe, so every cell has a
    sample) and samples are weighted by cell area (cos latitude). Training streams the
    table through :class:`WindowDataIter` into a ``QuantileDMatrix``. Scores are
    area-weighted RMSEs on the test period for the model, persistence (tomorrow =
    today) and climatology (each cell's training-period mean). Then
    :func:`xbatcher_tab.predict` puts the model's predictions on the map, including the
    forecast for the day after the data's last day. Writes ``truth.png``,
    ``prediction.png`` and ``error.png`` (the last test day), ``forecast.png`` (the
    day after) and ``importance.png`` (the model's gain by window offset: lag x
    longitude, summed over latitude, from :meth:`WindowTabularizer.feature_map`) to
    ``out``.
    """
    days, split = _check_demo_args(size, rounds, lat, lon)
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"out {out} is a file; the demo writes its maps into a folder")
    import xgboost

    from .xgboost import WindowDataIter

    if "quiet" in deprecated:
        warn_deprecated("run_demo(quiet=...)", "run_demo(progress=not quiet)", stacklevel=4)
        progress = not deprecated.pop("quiet")
    if deprecated:
        raise TypeError(f"run_demo got an unexpected keyword argument {next(iter(deprecated))!r}")
    say = print if check_bool("progress", progress) else (lambda *a: None)
    ds = datasets.tasmax(time=days, lat=lat, lon=lon)
    train, test = ds.isel(time=slice(0, split)), ds.isel(time=slice(split, None))
    tab = WindowTabularizer(
        input_dims={"lat": WINDOW, "lon": WINDOW, "time": WINDOW},
        input_overlap={"lat": WINDOW - 1, "lon": WINDOW - 1, "time": WINDOW - 1},
        target=Target("tasmax", lead={"time": LEAD}),
        boundary={"lon": "periodic"},  # a global grid: windows wrap across 0/360
        weight="coslat",  # train and score by cell area
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
    persistence = X[:, names.index("tasmax(lat+0;lon+0;time-1)")]
    clim = train.tasmax.mean("time")
    climatology = clim.values[
        clim.get_index("lat").get_indexer(coords["lat"]),
        clim.get_index("lon").get_indexer(coords["lon"]),
    ]
    del X
    area = tab.sample_weight(coords)

    def rmse(a):
        errors = (np.asarray(a, dtype=np.float64) - y) ** 2
        return float(np.sqrt(np.sum(area * errors) / np.sum(area)))

    scores = {
        "model": rmse(pred),
        "persistence": rmse(persistence),
        "climatology": rmse(climatology),
    }
    say(f"test: {len(y):,} samples")
    say(
        f"area-weighted RMSE  xgboost {scores['model']:.3f} K | persistence "
        f"{scores['persistence']:.3f} K | climatology {scores['climatology']:.3f} K"
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
    truth = test.tasmax.isel(time=slice(WINDOW - 1 + LEAD, None))
    by_day = metrics.rmse(forecast, truth, weight="coslat", dim=("lat", "lon"))
    say(
        f"on the map: every longitude has a forecast ({forecast.lon.size} of "
        f"{test.lon.size}); area-weighted RMSE per test day "
        f"{float(by_day.min()):.3f}-{float(by_day.max()):.3f} K"
    )
    maps = _write_maps(Path(out), test.tasmax.sel(time=day), forecast.sel(time=day), tomorrow)
    # which neighbours and lags the model uses: its gain by window offset
    importance = tab.feature_map(booster.get_score(importance_type="total_gain")).tasmax
    by_offset = importance.sum("lat_offset") / float(importance.sum())
    maps.append(_write_importance(Path(out), by_offset))
    last = by_offset.sel(time_offset=-1)
    west = float(last.sel(lon_offset=slice(None, -1)).sum())
    east = float(last.sel(lon_offset=slice(1, None)).sum())
    say(
        f"the model's gain: {100 * float(last.sum()):.1f} % from the last day; beside its "
        f"center, {west / max(west + east, 1e-12):.0%} from the cells west of it (the "
        "weather drifts east)"
    )
    say("maps: " + ", ".join(str(p) for p in maps))
    grid = forecast.sel(time=test.time)
    return {
        "scores": scores,
        "maps": maps,
        "importance": by_offset,
        "n_test": len(y),
        "grid": grid,
        "forecast": tomorrow,
        "pred": pred,
        "rmse_by_day": by_day,
        "truth": test.tasmax,
    }


WINDOW, LEAD = 9, 1


def _check_demo_args(size: float, rounds: int, lat: int, lon: int) -> tuple[int, int]:
    """Days and the train/test split, checked before any work: each period must hold
    a 9-day window and its next-day label."""
    if not isinstance(size, int | float) or not size > 0:
        raise ValueError(f"size must be a number > 0, got {size!r}")
    check_int("rounds", rounds, 1)
    for name, n in (("lat", lat), ("lon", lon)):
        if check_int(name, n, 1) < WINDOW:
            raise ValueError(f"{name} must be at least {WINDOW} (the window), got {n}")
    days = max(24, round(60 * size))
    split = days * 2 // 3
    if days - split < WINDOW + LEAD:
        raise ValueError(
            f"size {size:g} gives {days} days and {days - split} test days, fewer than the "
            f"{WINDOW + LEAD} a {WINDOW}-day window and its next-day label need: use a size "
            "of at least 0.5"
        )
    return days, split


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


def _write_importance(out: Path, by_offset) -> Path:
    """The model's share of gain by lag and longitude offset, as a labelled picture
    (a log scale: the last day's center takes most, the neighbours tell the rest)."""
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm

    fig, ax = plt.subplots(figsize=(6, 4.5))
    shown = by_offset.where(by_offset > 0).transpose("lon_offset", "time_offset")
    shown.plot(
        ax=ax,
        cmap="viridis",
        norm=LogNorm(vmin=max(float(shown.min()), 1e-6), vmax=float(shown.max())),
        cbar_kwargs={"label": "share of the model's gain (log scale)"},
    )
    ax.set_xlabel("days before the label's day (time offset)")
    ax.set_ylabel("cells east of the center (lon offset)")
    ax.set_title("what xgboost uses: gain by window offset, summed over latitude")
    path = out / "importance.png"
    fig.savefig(path, dpi=90, bbox_inches="tight")
    plt.close(fig)
    return path
