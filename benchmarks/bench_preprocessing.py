"""Preprocessing inside the window against the plain gather, on the full notebook grid.

9x9x9 windows at stride 1 with a next-day label over notebook-shaped data (time=60,
lat=145, lon=192, float32): about 1.29 M rows x 729 features. Each configuration's
rows are gathered into an output buffer touched beforehand (``Table.X(ids, out=...)``),
alternately with the plain gather, best of ``--repeat``, and reported as its time
relative to the plain one (lower is better). Into new memory (``transform``) the page
faults dominate and their cost here depends on what the process freed before, so
those ratios swung by 2x between identical runs; the touched buffer is the stable
measure of the work preprocessing adds:

* center="anchor" + scale=True (relative, standardized values, plus the reference);
* stats=("mean", "std", "min", "max") (four summaries after the cells);
* where= a mask keeping 70 % of the grid's cells (30 % masked out, e.g. the ocean);
* coord_features with a cyclic day of year (five columns);
* a periodic longitude (windows wrap around the globe: 192 rather than 184 windows
  along lon, so 4 % more rows; its time per row is given too);
* outliers ``("zscore", 5)`` clipped, and ``("range", 150, 350)`` dropping samples:
  the rule applies when each variable is laid out (once per grid cell), so these are
  timed from the data's layout to the rows, against the plain table timed the same.

    python benchmarks/bench_preprocessing.py [--time 60] [--repeat 3] [--markdown]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import gc
import time

import numpy as np
from _report import NOTEBOOK_WINDOW, grid_args, print_rows  # noqa: E402

import xbatcher_tab as xt

WINDOW = NOTEBOOK_WINDOW


def main(argv=None) -> dict:
    args = grid_args(__doc__, argv)

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
        'boundary={"lon": "periodic"} (issue 13)': {"boundary": {"lon": "periodic"}},
    }
    tabs = {
        name: xt.WindowTabularizer(**WINDOW, target=target, **options).fit(ds)
        for name, options in configs.items()
    }
    from xbatcher_tab._table.slabs import load_table

    tables = {}
    for name, tab in tabs.items():
        table = load_table(tab.get_layout(), ds)
        tables[name] = (table, table.valid_ids())
    # one touched buffer, each configuration's rows a view of its start (one table's
    # worth of memory, not one per configuration)
    size = max(ids.size * table.n_features for table, ids in tables.values())
    buffer = np.full(size, 1.0, dtype=np.float32)
    work = {
        name: (table, ids, buffer[: ids.size * table.n_features].reshape(ids.size, -1))
        for name, (table, ids) in tables.items()
    }
    rows = {name: out.shape for name, (_, _, out) in work.items()}
    best = dict.fromkeys(configs, float("inf"))
    for _ in range(args.repeat):
        for name, (table, ids, out) in work.items():
            gc.collect()
            start = time.perf_counter()
            table.X(ids, out=out)
            best[name] = min(best[name], time.perf_counter() - start)
    plain = best["plain"]
    out = [("table (plain)", f"{rows['plain'][0]:,} x {rows['plain'][1]} float32")]
    n_rows = {name: shape[0] for name, shape in rows.items()}
    per_row = plain / n_rows["plain"]
    for name in configs:
        if name == "plain":
            continue
        ratio = best[name] / plain
        extra = ""
        if n_rows[name] != n_rows["plain"]:  # fewer (a mask) or more rows (a boundary)
            extra = f", {best[name] / n_rows[name] / per_row:.2f}x per row"
        out.append(
            (
                f"{name}: time vs plain",
                f"{ratio:.2f}x ({n_rows[name]:,} rows x {rows[name][1]}{extra})",
            )
        )
    del work, tables, buffer
    gc.collect()
    whole = prepared_and_gathered(ds, target, args.repeat)
    for name, ratio in whole.items():
        out.append((f"{name}: layout + gather vs plain", f"{ratio:.2f}x"))
    print_rows(out, args.markdown, width=64)
    return {name: best[name] / plain for name in configs} | whole


def prepared_and_gathered(ds, target, repeat: int) -> dict:
    """Outlier rules against the plain table, each timed from laying the variables out
    (where the rule applies) to the rows in a touched buffer, alternately, best of
    ``repeat``."""
    from xbatcher_tab._table.slabs import load_table

    configs = {
        "plain": {},
        'outliers ("zscore", 5), clip': {
            "outliers": {"tasmax": ("zscore", 5)},
            "outlier_action": "clip",
        },
        'outliers ("range", 150, 350), drop': {
            "outliers": {"tasmax": ("range", 150.0, 350.0)},
            "outlier_action": "drop",
        },
    }
    layouts = {
        name: xt.WindowTabularizer(**WINDOW, target=target, **options).fit(ds).get_layout()
        for name, options in configs.items()
    }
    n = load_table(layouts["plain"], ds).n_samples
    out = np.full((n, 729), 1.0, dtype=np.float32)  # touched; the rows of each, in turn
    best = dict.fromkeys(configs, float("inf"))
    for _ in range(repeat):
        for name, layout in layouts.items():
            gc.collect()
            start = time.perf_counter()
            table = load_table(layout, ds)
            ids = table.valid_ids()
            table.X(ids, out=out[: ids.size])
            best[name] = min(best[name], time.perf_counter() - start)
            del table
    return {name: best[name] / best["plain"] for name in configs if name != "plain"}


if __name__ == "__main__":
    main()
