"""to_dask against the eager path, on the threaded scheduler and on a LocalCluster.

5x5x5 windows at stride 1 with a next-day label over notebook-shaped data (time=60,
lat=145, lon=192, float32, dask chunks of 10 days): 1,457,940 rows x 125 features
(0.73 GB). Measured in one run, rows per second relative to ``tab.transform`` on the
loaded data:

* to_dask + compute on the threaded scheduler (one process, 2 threads);
* to_dask + compute on a LocalCluster of 2 worker processes (the table travels back
  to this process);
* to_dask + a column sum on that cluster (the table stays on the workers, as when
  xgboost.dask trains on it).

It also reports the graph's task count against the number of source chunks.

    python benchmarks/bench_dask.py [--markdown]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import argparse
import time
import warnings

import dask
from _report import print_rows  # noqa: E402


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    from distributed import Client, LocalCluster

    import xbatcher_tab as xt

    lazy = xt.datasets.tasmax(chunks={"time": 10})
    eager = lazy.compute()
    tab = xt.WindowTabularizer(
        input_dims={"lat": 5, "lon": 5, "time": 5},
        input_overlap={"lat": 4, "lon": 4, "time": 4},
        target=xt.Target("tasmax", lead={"time": 1}),
    ).fit(eager)

    def timed(fn):
        start = time.perf_counter()
        out = fn()
        return time.perf_counter() - start, out

    t_eager, X = timed(lambda: tab.transform(eager))
    rows = X.shape[0]
    del X
    t_build, (dX, _, _) = timed(lambda: tab.to_dask(lazy))
    n_tasks = len(dict(dX.__dask_graph__()))
    n_chunks = len(lazy.chunks["time"])
    with dask.config.set(scheduler="threads"):
        t_threads, _ = timed(lambda: dX.compute())
    with (
        LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster,
        Client(cluster),
    ):
        t_cluster, _ = timed(lambda: tab.to_dask(lazy)[0].compute())
        t_reduce, _ = timed(lambda: tab.to_dask(lazy)[0].sum(axis=0).compute())
    result = {
        "rows": rows,
        "threads_vs_eager": t_eager / t_threads,
        "cluster_vs_eager": t_eager / t_cluster,
        "cluster_sum_vs_eager": t_eager / t_reduce,
        "build_seconds": t_build,
        "tasks": n_tasks,
        "chunks": n_chunks,
    }
    rows_out = [
        ("table", f"{rows:,} x {tab.n_features_out_} float32"),
        ("to_dask + compute, threads, vs eager transform", f"{result['threads_vs_eager']:.2f}x"),
        ("to_dask + compute, LocalCluster(2), vs eager", f"{result['cluster_vs_eager']:.2f}x"),
        (
            "to_dask + column sum, LocalCluster(2), vs eager",
            f"{result['cluster_sum_vs_eager']:.2f}x",
        ),
        ("graph tasks / source chunks", f"{n_tasks} / {n_chunks}"),
        ("building the graph", f"{1e3 * t_build:.0f} ms, nothing computed"),
    ]
    print_rows(rows_out, args.markdown, width=52)
    return result


if __name__ == "__main__":
    main()
