"""Preprocessing inside the window against the plain gather, on the full notebook grid.

9x9x9 windows at stride 1 with a next-day label over notebook-shaped data (time=60,
lat=145, lon=192, float32): about 1.29 M rows x 729 features. Each configuration's
``transform`` is timed alternately with the plain one (best of ``--repeat``) and
reported as its cost relative to the plain gather (lower is better):

* center="anchor" + scale=True (relative, standardized values, plus the reference);
* stats=("mean", "std", "min", "max") (four summaries after the cells);
* where= a mask keeping 70 % of the grid's cells (30 % masked out, e.g. the ocean);
* coord_features with a cyclic day of year (five columns).

    python benchmarks/bench_preprocessing.py [--time 60] [--repeat 3] [--markdown]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import argparse
import gc
import time
import warnings

import numpy as np
from _report import print_rows  # noqa: E402

import xbatcher_tab as xt

WINDOW = dict(
    input_dims={"lat": 9, "lon": 9, "time": 9},
    input_overlap={"lat": 8, "lon": 8, "time": 8},
)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")

    ds = xt.datasets.tasmax(time=args.time)
    rng = np.random.default_rng(0)
    land = ds.tasmax.isel(time=0, drop=True).copy(data=rng.random((145, 192)) < 0.7)
    target = xt.Target("tasmax", lead={"time": 1})
    configs = {
        "plain": {},
        'center="anchor" + scale=True': {"center": "anchor", "scale": True},
        "stats (mean, std, min, max)": {"stats": ("mean", "std", "min", "max")},
        "where: 30 % of cells masked": {"where": land},
        "coord_features lat, lon, time.dayofyear (cyclic)": {
            "coord_features": {"lat": "raw", "lon": "raw", "time.dayofyear": "cyclic"}
        },
    }
    tabs = {
        name: xt.WindowTabularizer(**WINDOW, target=target, **options).fit(ds)
        for name, options in configs.items()
    }
    rows = {k: tab.count_samples(ds) for k, tab in tabs.items()}
    best = dict.fromkeys(configs, float("inf"))
    for _ in range(args.repeat):
        for name, tab in tabs.items():
            gc.collect()
            start = time.perf_counter()
            X = tab.transform(ds)
            best[name] = min(best[name], time.perf_counter() - start)
            rows[name] = X.shape
            del X
    plain = best["plain"]
    out = [("table (plain)", f"{rows['plain'][0]:,} x {rows['plain'][1]} float32")]
    for name in configs:
        if name == "plain":
            continue
        out.append(
            (f"{name}: time vs plain", f"{best[name] / plain:.2f}x ({rows[name][1]} columns)")
        )
    print_rows(out, args.markdown, width=64)
    return {name: best[name] / plain for name in configs}


if __name__ == "__main__":
    main()
