"""Every core and no waiting: threaded gathers, prefetched training loops, shuffles.

On the full notebook grid (time=60, lat=145, lon=192 float32; 9x9x9 windows at stride
1 with a next-day label: 1.29 M rows x 729 features), in one process, best of
``--repeat``, ratios only:

* the table gathered into a touched buffer by ``n_jobs=2`` threads against one thread,
  and against one thread's ``np.copyto`` of the same number of bytes; and, as the
  ceiling of any numpy gather, two threads filling that buffer with a constant;
* a ``partial_fit``-like loop over batches read from a zarr store (chunked by 10 days),
  whose training step takes about as long as a batch's read and gather (a step that
  releases the GIL, as compiled trainers do): its wall time with ``prefetch=1``
  against the larger of (read + gather) and training, and against their sum (no
  prefetch);
* the same as a user calls it: ``xt.fit_batches(SGDRegressor(), tab, store,
  prefetch=k)`` (shuffled batches of 65,536, its defaults) against the larger of one
  pass of the same batches alone and the estimator's ``partial_fit`` calls alone;
* shuffled batches against sequential ones, in memory and from the zarr store.

    python benchmarks/bench_threads.py [--time 60] [--repeat 3] [--markdown]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import xarray as xr
from _report import NOTEBOOK_WINDOW, best_of, grid_args, print_rows  # noqa: E402

import xbatcher_tab as xt
from xbatcher_tab._engine.runtime import Runtime
from xbatcher_tab._table.slabs import load_table

WINDOW = NOTEBOOK_WINDOW


def threads(ds, tab, repeat: int) -> list[tuple[str, str]]:
    layout = tab.get_layout()
    one = load_table(layout, ds, runtime=Runtime.current(n_jobs=1))
    two = load_table(layout, ds, runtime=Runtime.current(n_jobs=2))
    ids = one.valid_ids()
    out = np.full((ids.size, one.n_features), 1.0, dtype=np.float32)
    source = np.full_like(out, 2.0)
    t1 = best_of(repeat, lambda: one.X(ids, out=out))
    t2 = best_of(repeat, lambda: two.X(ids, out=out))
    copy = best_of(repeat, lambda: np.copyto(out, source))
    fill = best_of(repeat, lambda: filled(out, 2))
    return [
        ("table", f"{ids.size:,} x {one.n_features} float32 ({out.nbytes / 1e9:.2f} GB)"),
        ("n_jobs=2 vs n_jobs=1 (speed)", f"{t1 / t2:.2f}x"),
        ("n_jobs=2 vs one thread's memcpy of the same bytes", f"{copy / t2:.2f}x"),
        ("n_jobs=1 vs that memcpy", f"{copy / t1:.2f}x"),
        ("ceiling: 2 threads filling the buffer vs that memcpy", f"{copy / fill:.2f}x"),
    ]


def filled(out: np.ndarray, n: int) -> None:
    """``out`` filled with a constant by ``n`` threads: numpy's ordinary stores, the
    fastest any gather written with numpy can write new rows (memcpy of a large array
    streams past the cache instead, which numpy offers no way to do for a gather)."""
    with ThreadPoolExecutor(n) as pool:
        for job in [pool.submit(part.fill, 3.0) for part in np.array_split(out, n)]:
            job.result()


def training_loop(store, tab, repeat: int, batch_size: int) -> list[tuple[str, str]]:
    data = xr.open_zarr(store)

    def gather(prefetch: int, step=None) -> float:
        start = time.perf_counter()
        for batch in tab.iter_batches(data, batch_size=batch_size, prefetch=prefetch):
            if step is not None:
                step(batch)
        return time.perf_counter() - start

    read_gather = min(gather(0) for _ in range(repeat))
    n_batches = -(-tab.count_samples(data) // batch_size)
    per_batch = read_gather / n_batches

    def train(batch) -> None:  # a compiled trainer: busy, without the GIL
        time.sleep(per_batch)

    training = per_batch * n_batches
    plain = min(gather(0, train) for _ in range(repeat))
    longest = max(read_gather, training)
    rows = [
        ("zarr loop: batches x rows", f"{n_batches} x {batch_size:,}"),
        ("read + gather alone vs training alone", f"{read_gather / training:.2f}x"),
        ("prefetch=0: wall time vs max(read+gather, training)", f"{plain / longest:.2f}x"),
    ]
    for depth in (1, 2):
        ahead = min(gather(depth, train) for _ in range(repeat))
        rows.append(
            (
                f"prefetch={depth}: wall time vs max(read+gather, training)",
                f"{ahead / longest:.2f}x",
            )
        )
    return rows


def user_loop(store, tab, repeat: int, batch_size: int) -> list[tuple[str, str]]:
    """``xt.fit_batches`` as a user calls it, against its two halves alone."""
    from sklearn.linear_model import SGDRegressor

    data = xr.open_zarr(store)
    options = {"batch_size": batch_size, "shuffle": True, "random_state": 0}

    def gather() -> float:
        start = time.perf_counter()
        for _ in tab.iter_batches(data, **options):
            pass
        return time.perf_counter() - start

    def train() -> float:  # the partial_fit calls alone, each on a batch gathered before
        model, spent = SGDRegressor(random_state=0), 0.0
        for batch in tab.iter_batches(data, **options):
            start = time.perf_counter()
            model.partial_fit(batch.X, batch.y)
            spent += time.perf_counter() - start
        return spent

    def user(depth: int) -> float:
        start = time.perf_counter()
        xt.fit_batches(SGDRegressor(random_state=0), tab, data, prefetch=depth, **options)
        return time.perf_counter() - start

    alone = min(gather() for _ in range(repeat))
    training = min(train() for _ in range(repeat))
    longest = max(alone, training)
    rows = [
        ("fit_batches(SGDRegressor): gather alone vs training alone", f"{alone / training:.2f}x")
    ]
    for depth in (0, 1, 2):
        wall = min(user(depth) for _ in range(repeat))
        rows.append(
            (
                f"fit_batches(prefetch={depth}): wall time vs max(gather, training)",
                f"{wall / longest:.2f}x",
            )
        )
    return rows


def shuffles(ds, store, tab, repeat: int, sizes: tuple[int, ...]) -> list[tuple[str, str]]:
    rows = []
    for name, data in (("in memory", ds), ("zarr", xr.open_zarr(store))):
        for size in sizes:

            def run(shuffle, data=data, size=size) -> None:
                batches = tab.iter_batches(data, batch_size=size, shuffle=shuffle, random_state=0)
                for _ in batches:
                    pass

            sequential = best_of(repeat, lambda run=run: run(False))
            shuffled = best_of(repeat, lambda run=run: run(True))
            rows.append(
                (
                    f"shuffled vs sequential rate, {name}, batches of {size:,}",
                    f"{sequential / shuffled:.2f}x",
                )
            )
    return rows


def main(argv=None) -> dict:
    args = grid_args(__doc__, argv)
    ds = xt.datasets.tasmax(time=args.time)
    tab = xt.WindowTabularizer(**WINDOW, target=xt.Target("tasmax", lead={"time": 1})).fit(ds)
    out = threads(ds, tab, args.repeat)
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "tasmax.zarr"
        ds.chunk(time=10).to_zarr(store)
        out += training_loop(store, tab, args.repeat, batch_size=65536)
        out += user_loop(store, tab, args.repeat, batch_size=65536)
        out += shuffles(ds, store, tab, args.repeat, sizes=(8192, 65536))
    print_rows(out, args.markdown, width=64)
    return dict(out)


if __name__ == "__main__":
    main()
