"""Deep-learning loaders against the batches they are built on, and against xbatcher.

Samples per second of a shuffled epoch's first batches on the notebook grid (time=60,
lat=145, lon=192, float32; 9x9x9 windows at stride 1 with a next-day label, as window
tensors ``(1, 9, 9, 9)``), at batch 256 and 4096, in one process, rounds alternated and
the best kept, as ratios to ``iter_batches(shuffle=True)`` (flat numpy rows: what the
loaders add is theirs to answer for):

* ``DataLoader(WindowDataset, shuffle=True)`` with 0 and 2 workers;
* ``DataLoader(WindowIterableDataset(shuffle=True), batch_size=None)``, 0 and 2 workers,
  and 0 workers with ``prefetch=1`` (the next batch gathered on a thread);
* xbatcher 0.4.0's torch ``MapDataset`` over the notebook's CNN ``BatchGenerator``
  (9x9x10 windows, batches of 18x18x15, ``concat_input_dims``): its samples per second
  against ours at batch 4096.

Then the peak memory of a 2-worker iterable epoch over a zarr store of a 6.4 GB table
(time=96, chunks of 10 days, batches of 4096), in a process of its own: the main
process's growth and the largest worker's peak.

    python benchmarks/bench_torch.py [--repeat 3] [--markdown]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import argparse
import json
import resource
import tempfile
import time
import warnings

from _report import NOTEBOOK_WINDOW, print_rows, rss_kb, run_child  # noqa: E402

SAMPLES = 250_000  # per measurement: enough batches to settle, not a whole epoch


def rate(batches, limit: int = SAMPLES) -> float:
    """Samples per second over ``limit`` samples of ``batches``, in steady state: from
    the first batch on (worker processes started, the first slab read)."""
    n, start = 0, None
    for batch in batches:
        if start is None:
            start = time.perf_counter()
            continue
        n += len(batch[1])
        if n >= limit:
            break
    return n / (time.perf_counter() - start)


def measure(repeat: int) -> list[tuple[str, str]]:
    import torch
    from torch.utils.data import DataLoader

    import xbatcher_tab as xt
    from xbatcher_tab.torch import WindowDataset, WindowIterableDataset

    ds = xt.datasets.tasmax()
    target = xt.Target("tasmax", lead={"time": 1})
    tab = xt.WindowTabularizer(**NOTEBOOK_WINDOW, target=target).fit(ds)
    mapped = WindowDataset(tab, ds, shape="window")
    len(mapped)  # read once, as a training loop's first epoch would
    rows = []
    best: dict[tuple, float] = {}

    def keep(key, value):
        best[key] = max(best.get(key, 0.0), value)

    for _ in range(repeat):
        for size in (256, 4096):
            opts = dict(batch_size=size, shuffle=True, random_state=0)
            keep(("iter_batches", size), rate(tab.iter_batches(ds, **opts)))
            for workers in (0, 2):
                loader = DataLoader(mapped, batch_size=size, shuffle=True, num_workers=workers)
                keep(("map", size, workers), rate(loader))
                stream = WindowIterableDataset(tab, ds, shape="window", **opts)
                loader = DataLoader(stream, batch_size=None, num_workers=workers)
                keep(("iterable", size, workers), rate(loader))
            stream = WindowIterableDataset(tab, ds, shape="window", prefetch=1, **opts)
            keep(("iterable", size, "prefetch"), rate(DataLoader(stream, batch_size=None)))
    for size in (256, 4096):
        base = best[("iter_batches", size)]
        rows.append((f"batch {size}: iter_batches(shuffle=True)", f"{base:,.0f} samples/s"))
        for kind, workers in [(k, w) for k in ("map", "iterable") for w in (0, 2)] + [
            ("iterable", "prefetch")
        ]:
            name = "WindowDataset" if kind == "map" else "WindowIterableDataset"
            how = "0 workers, prefetch=1" if workers == "prefetch" else f"{workers} workers"
            value = best[(kind, size, workers)]
            rows.append((f"  {name}, {how}", f"{value / base:.2f}x ({value:,.0f}/s)"))
    rows += xbatcher_rows(ds, best[("map", 4096, 0)])
    del torch
    return rows


def xbatcher_rows(ds, ours: float) -> list[tuple[str, str]]:
    import xbatcher
    from torch.utils.data import DataLoader
    from xbatcher.loaders.torch import MapDataset

    warnings.simplefilter("ignore")
    bgen = xbatcher.BatchGenerator(
        ds=ds[["tasmax"]],
        input_dims={"lat": 9, "lon": 9, "time": 10},
        batch_dims={"lat": 18, "lon": 18, "time": 15},
        concat_input_dims=True,
        input_overlap={"lat": 8, "lon": 8, "time": 9},
    )
    loader = DataLoader(MapDataset(bgen), batch_size=None, shuffle=True)
    n, start = 0, time.perf_counter()
    for batch in loader:
        n += len(batch)
        if time.perf_counter() - start > 20:
            break
    theirs = n / (time.perf_counter() - start)
    return [
        ("xbatcher 0.4.0 MapDataset (notebook CNN batches)", f"{theirs:,.0f} samples/s"),
        ("WindowDataset (batch 4096, 0 workers) vs xbatcher", f"{ours / theirs:,.0f}x"),
    ]


def epoch_memory(store: str) -> dict:
    """One 2-worker iterable epoch over the zarr store, in this process."""
    import xarray as xr
    from torch.utils.data import DataLoader

    import xbatcher_tab as xt
    from xbatcher_tab.torch import WindowIterableDataset

    ds = xr.open_zarr(store, consolidated=False)
    target = xt.Target("tasmax", lead={"time": 1})
    tab = xt.WindowTabularizer(**NOTEBOOK_WINDOW, target=target).fit(ds)
    stream = WindowIterableDataset(tab, ds, shape="window", batch_size=4096, shuffle=True)
    base = rss_kb("VmRSS")
    n, nbytes, start = 0, 0, time.perf_counter()
    for x, y in DataLoader(stream, batch_size=None, num_workers=2):
        n += len(y)
        nbytes += x.numel() * 4
    return {
        "samples": n,
        "table_gb": nbytes / 1e9,
        "seconds": time.perf_counter() - start,
        "main_growth_gb": (rss_kb("VmHWM") - base) / 1e6,
        "worker_peak_gb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1e6,
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--store", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.store:  # child process: the memory of one epoch
        print(json.dumps(epoch_memory(args.store)))
        return
    warnings.simplefilter("ignore")
    rows = measure(args.repeat)
    import xbatcher_tab as xt

    with tempfile.TemporaryDirectory() as tmp:
        store = str(Path(tmp) / "tasmax.zarr")
        xt.datasets.tasmax(time=96).chunk({"time": 10}).to_zarr(store, consolidated=False)
        mem = run_child(__file__, "--store", store)
    rows += [
        (
            f"2-worker iterable epoch from zarr ({mem['table_gb']:.1f} GB, batches of 4096)",
            f"{mem['samples'] / mem['seconds']:,.0f} samples/s",
        ),
        ("  main process peak growth", f"{mem['main_growth_gb']:.2f} GB"),
        ("  largest worker's peak", f"{mem['worker_peak_gb']:.2f} GB"),
    ]
    print_rows(rows, args.markdown, width=70)


if __name__ == "__main__":
    main()
