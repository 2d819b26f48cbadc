"""xt.xgboost.train on a zarr store whose window table never exists whole.

9x9x9 windows at stride 1 with a next-day label (729 float32 features, 2.9 kB a row)
over tasmax-shaped data written to a zarr store (``--time`` days, ``--lat`` x ``--lon``
cells, chunks of 10 days). Measured in one run, as ratios:

* ``xt.xgboost.train`` on a LocalCluster of 2 worker processes (1 thread each,
  ``--limit`` of memory each), external memory: wall time against single-process
  training on the same rows in memory (one ``QuantileDMatrix`` of every row, fed batch
  by batch: the binned table is held, never the float one),
  and each worker's peak resident memory against its limit;
* ``to_dask`` + ``xgboost.dask.DaskQuantileDMatrix`` on the same cluster, where the table
  fits in it (under 0.4x its memory);
* the rows per second of the window stream into ``xgboost.ExtMemQuantileDMatrix`` (the
  matrix built alone, one process) against one pass of ``iter_batches`` alone;
* training in one process (external memory, ``client=None``, 10 rounds) against one
  pass of ``iter_batches`` alone (what the stream costs against what xgboost adds);
* ``sample=0.1`` against the full table, one process;
* the table's size against the cluster's total memory limit.

    python benchmarks/bench_scale.py [--time 60 --lat 145 --lon 192] [--markdown]

The issue's goal is a table of at least 3x the cluster's memory (9 GB for two workers
of 1.5 GB): ``--time 60 --lat 145 --lon 192`` makes 3.75 GB, ``--lat 240 --lon 300`` about
9.9 GB (about an hour on 2 cores). ``make bench`` runs a small size.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import argparse
import shutil
import tempfile
import time
import warnings

import numpy as np
from _report import NOTEBOOK_WINDOW, print_rows  # noqa: E402

PARAMS = {"max_depth": 6, "eta": 0.3, "max_bin": 64}
ROUNDS = 10


def _peak_kb() -> int:
    """The peak resident memory of this process (a dask worker), in kB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time", type=int, default=30)
    parser.add_argument("--lat", type=int, default=48)
    parser.add_argument("--lon", type=int, default=64)
    parser.add_argument("--limit", default="1.5GB")
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    folder = tempfile.mkdtemp(prefix="bench-scale-")
    try:
        return _run(args, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _run(args, folder: str) -> dict:
    import xarray as xr
    import xgboost
    import xgboost.dask
    from dask.utils import parse_bytes
    from distributed import Client, LocalCluster

    import xbatcher_tab as xt
    import xbatcher_tab.xgboost as xtx

    ds = xt.datasets.tasmax(time=args.time, lat=args.lat, lon=args.lon)
    ds.chunk({"time": 10}).to_zarr(f"{folder}/s.zarr", consolidated=False)
    store = xr.open_zarr(f"{folder}/s.zarr", consolidated=False)
    tab = xt.WindowTabularizer(**NOTEBOOK_WINDOW, target=xt.Target("tasmax", lead={"time": 1})).fit(
        store
    )
    rows = tab.count_samples(store)
    table_bytes = rows * tab.n_features_out_ * 4
    limit = parse_bytes(args.limit)
    out = {"rows": rows, "table GB": table_bytes / 1e9, "cluster GB": 2 * limit / 1e9}

    def timed(fn):
        start = time.perf_counter()
        result = fn()
        return time.perf_counter() - start, result

    batch = args.batch_size  # None: train's default, from the workers' memory
    t_stream, _ = timed(
        lambda: sum(len(b.y) for b in tab.iter_batches(store, batch_size=batch or 65536))
    )

    def stream_into_xgboost():  # the external-memory matrix alone, no training
        pages = f"{folder}/pages/p"
        dtrain = xgboost.ExtMemQuantileDMatrix(
            xt.WindowDataIter(tab, store, batch_size=batch or 65536, cache_prefix=pages),
            max_bin=PARAMS["max_bin"],
        )
        n = dtrain.num_row()
        del dtrain
        shutil.rmtree(f"{folder}/pages", ignore_errors=True)
        return n

    t_matrix, _ = timed(stream_into_xgboost)
    t_local, _ = timed(
        lambda: xtx.train(None, PARAMS, tab, store, ROUNDS, mode="external", batch_size=batch)
    )
    t_sample, _ = timed(
        lambda: xtx.train(
            None,
            PARAMS,
            tab,
            store,
            ROUNDS,
            mode="external",
            batch_size=batch,
            sample=0.1,
            random_state=0,
        )
    )
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, memory_limit=args.limit, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        t_cluster, _ = timed(
            lambda: xtx.train(client, PARAMS, tab, store, ROUNDS, mode="external", batch_size=batch)
        )
        peaks = client.run(_peak_kb)
    peak = max(peaks.values()) * 1024
    # the in-memory reference: one process, one QuantileDMatrix of every row, fed batch
    # by batch (the binned table, rows x features bytes, held; the float table never)
    t_memory, _ = timed(
        lambda: xtx.train(None, PARAMS, tab, store, ROUNDS, mode="memory", batch_size=batch)
    )
    t_dask = None
    if table_bytes < 0.4 * 2 * limit:  # to_dask + DaskQuantileDMatrix, where it fits
        with (
            LocalCluster(
                n_workers=2, threads_per_worker=1, memory_limit=args.limit, dashboard_address=None
            ) as cluster,
            Client(cluster) as client,
        ):

            def on_dask():
                X, y, _ = tab.to_dask(store)
                dtrain = xgboost.dask.DaskQuantileDMatrix(client, X, y, max_bin=PARAMS["max_bin"])
                return xgboost.dask.train(client, PARAMS, dtrain, ROUNDS)

            t_dask, _ = timed(on_dask)
    out.update(
        {
            "train vs one iter_batches pass": t_local / t_stream,
            "matrix rows/s vs iter_batches rows/s": t_stream / t_matrix,
            "sample=0.1 vs full (one process)": t_sample / t_local,
            "cluster vs in-memory one process": t_cluster / t_memory if t_memory else np.nan,
            "cluster vs to_dask + DaskQuantileDMatrix": t_cluster / t_dask if t_dask else np.nan,
            "worker peak RSS vs limit": peak / limit,
            "table vs cluster memory": table_bytes / (2 * limit),
        }
    )
    print_rows(
        [
            ("rows x features", f"{rows:,} x {tab.n_features_out_}"),
            (
                "table / the cluster's memory limit",
                f"{table_bytes / 1e9:.2f} GB / "
                f"{2 * limit / 1e9:.1f} GB = {out['table vs cluster memory']:.2f}x",
            ),
            (
                "2 workers, external memory / one process in memory",
                f"{out['cluster vs in-memory one process']:.2f}x",
            ),
            (
                "2 workers, external memory / to_dask + DaskQuantileDMatrix (2 workers)",
                f"{out['cluster vs to_dask + DaskQuantileDMatrix']:.2f}x"
                if t_dask
                else "does not fit (table > 0.4x the cluster's memory)",
            ),
            ("a worker's peak RSS / its limit", f"{out['worker peak RSS vs limit']:.2f}"),
            (
                "rows/s into ExtMemQuantileDMatrix (one process) / rows/s of iter_batches",
                f"{out['matrix rows/s vs iter_batches rows/s']:.2f}x",
            ),
            (
                f"one process, external, {ROUNDS} rounds / one iter_batches pass",
                f"{out['train vs one iter_batches pass']:.1f}x",
            ),
            (
                "sample=0.1 / full table (one process)",
                f"{out['sample=0.1 vs full (one process)']:.2f}x",
            ),
        ],
        args.markdown,
        width=76,
    )
    return out


if __name__ == "__main__":
    main()
