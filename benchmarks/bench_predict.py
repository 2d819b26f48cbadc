"""Predicting a whole grid and putting it on the map: xt.predict against the table.

9x9x9 windows at stride 1 with a next-day label over the notebook's grid (time=60,
lat=145, lon=192, float32): about 1.3 M windows x 729 features. A Ridge regression
(fitted once on the first 12 days) predicts every window. Each mode runs in its own
process, so its peak resident memory (VmHWM) growth is its own:

* table: ``model.predict(tab.transform(ds))`` (the whole 3.8 GB table at once), then
  ``to_grid``, the way without ``xt.predict``;
* xt.predict: ``xt.predict(model, tab, ds)`` on the same in-memory data, in batches of
  65,536 rows, into the map;
* zarr -> zarr: ``xt.predict(model, tab, xr.open_zarr(store)).to_zarr(out)``, lazy and
  streamed, chunks of 10 days.

Speed is samples per second (xt.predict also predicts the last windows, the forecasts
for the day after the data: 2 % more samples).

    python benchmarks/bench_predict.py [--time 60] [--markdown]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import argparse
import json
import pickle
import tempfile
import time

from _report import print_rows, rss_kb, run_child  # noqa: E402

MODES = ["table", "xt.predict", "zarr -> zarr"]
WINDOW = dict(
    input_dims={"lat": 9, "lon": 9, "time": 9},
    input_overlap={"lat": 8, "lon": 8, "time": 8},
)


def run_mode(mode: str, tmp: str) -> dict:
    import warnings

    import numpy as np
    import xarray as xr

    import xbatcher_tab as xt

    warnings.simplefilter("ignore")
    model = pickle.loads(Path(tmp, "model.pkl").read_bytes())
    store = Path(tmp, "tasmax.zarr")
    ds = xr.open_zarr(store, consolidated=False)
    if mode != "zarr -> zarr":
        ds = ds.load()
    tab = xt.WindowTabularizer(**WINDOW, target=xt.Target("tasmax", lead={"time": 1})).fit(ds)
    base = rss_kb("VmRSS")
    start = time.perf_counter()
    if mode == "table":
        X, _, coords = tab.tabularize(ds)
        grid = tab.to_grid(model.predict(X), coords, like=ds)
        n = len(X)
    elif mode == "xt.predict":
        grid = xt.predict(model, tab, ds)
        n = int(grid.notnull().sum())
    else:
        out = Path(tmp, "pred.zarr")
        xt.predict(model, tab, ds).to_dataset().to_zarr(out, mode="w", consolidated=False)
        grid = xr.open_zarr(out, consolidated=False)["tasmax"].load()
        n = int(grid.notnull().sum())
    seconds = time.perf_counter() - start
    return {
        "mode": mode,
        "samples": n,
        "seconds": seconds,
        "samples_per_s": n / seconds,
        "growth_gb": (rss_kb("VmHWM") - base) / 1e6,
        "checksum": float(np.nansum(grid.values, dtype=np.float64)),
    }


def main(argv=None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time", type=int, default=60)
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--mode", help=argparse.SUPPRESS)
    parser.add_argument("--tmp", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.mode:  # child process: one mode
        print(json.dumps(run_mode(args.mode, args.tmp)))
        return []

    import warnings

    from sklearn.linear_model import Ridge

    import xbatcher_tab as xt

    warnings.simplefilter("ignore")
    with tempfile.TemporaryDirectory() as tmp:
        ds = xt.datasets.tasmax(time=args.time)
        ds.chunk({"time": 10}).to_zarr(Path(tmp, "tasmax.zarr"), consolidated=False)
        tab = xt.WindowTabularizer(**WINDOW, target=xt.Target("tasmax", lead={"time": 1}))
        X, y, _ = tab.tabularize(ds.isel(time=slice(0, 12)))
        model = Ridge(solver="lsqr").fit(X, y)
        del X, y
        Path(tmp, "model.pkl").write_bytes(pickle.dumps(model))
        results = {}
        for mode in MODES:
            results[mode] = run_child(__file__, "--mode", mode, "--tmp", tmp)
    table, ours, zarr = (results[m] for m in MODES)
    rows = [
        ("windows predicted (xt.predict: with the forecast day)", f"{ours['samples']:,}"),
        (
            "xt.predict vs predict(transform) + to_grid, samples/s",
            f"{ours['samples_per_s'] / table['samples_per_s']:.2f}x",
        ),
        (
            "peak memory growth, xt.predict vs the table way",
            f"{ours['growth_gb']:.2f} GB vs {table['growth_gb']:.2f} GB "
            f"({100 * ours['growth_gb'] / table['growth_gb']:.0f} %)",
        ),
        (
            "zarr -> xt.predict -> zarr vs the in-memory table way, samples/s",
            f"{zarr['samples_per_s'] / table['samples_per_s']:.2f}x",
        ),
        ("zarr -> zarr peak memory growth", f"{zarr['growth_gb']:.2f} GB"),
        (
            "same predictions (sums of the maps agree)",
            str(abs(ours["checksum"] - zarr["checksum"]) <= 1e-6 * abs(ours["checksum"])),
        ),
    ]
    print_rows(rows, args.markdown, width=68)
    return list(results.values())


if __name__ == "__main__":
    main()
