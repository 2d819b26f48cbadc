"""Streaming a window table too large to materialise comfortably: zarr vs in memory.

9x9x9 windows at stride 1 with a next-day label over notebook-shaped data with 100
days (time=100, lat=145, lon=192, float32, zarr chunks of 10 days): 2,293,928 samples
x 729 features, a 6.7 GB table, streamed in batches of 65,536 rows (191 MB). Each mode
runs one full epoch in its own process, so its peak resident memory (VmHWM) growth
over the process's state before the epoch is its own:

* memory, sequential / shuffled: the source loaded as numpy (shuffle permutes all);
* zarr, sequential / shuffled: dask-backed from the store, read slab by slab
  (shuffle: 4 slabs at a time).

    python benchmarks/bench_streaming.py [--time 100] [--batch-size 65536] [--markdown]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import argparse
import json
import tempfile
import time

from _report import rss_kb, run_child  # noqa: E402

MODES = ["memory sequential", "zarr sequential", "memory shuffled", "zarr shuffled"]


def run_mode(mode: str, store: str, batch_size: int) -> dict:
    """One epoch in this process; returns samples/s and peak memory growth."""
    import xarray as xr

    import xbatcher_tab as xt

    ds = xr.open_zarr(store, consolidated=False)
    if mode.startswith("memory"):
        ds = ds.load()
    tab = xt.WindowTabularizer(
        input_dims={"lat": 9, "lon": 9, "time": 9},
        input_overlap={"lat": 8, "lon": 8, "time": 8},
        target=xt.Target("tasmax", lead={"time": 1}),
    ).fit(ds)
    shuffle = mode.endswith("shuffled")
    base = rss_kb("VmRSS")
    start = time.perf_counter()
    n = nbytes = 0
    batches = tab.iter_batches(ds, batch_size=batch_size, shuffle=shuffle, random_state=0)
    for X, y, _coords in batches:
        n += len(y)
        nbytes += X.nbytes
    seconds = time.perf_counter() - start
    return {
        "mode": mode,
        "samples": n,
        "table_gb": nbytes / 1e9,
        "seconds": seconds,
        "samples_per_s": n / seconds,
        "growth_gb": (rss_kb("VmHWM") - base) / 1e6,
    }


def main(argv=None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=65536)
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--mode", help=argparse.SUPPRESS)
    parser.add_argument("--store", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.mode:  # child process: one mode
        print(json.dumps(run_mode(args.mode, args.store, args.batch_size)))
        return []

    import xbatcher_tab as xt

    with tempfile.TemporaryDirectory() as tmp:
        store = str(Path(tmp) / "tasmax.zarr")
        xt.datasets.tasmax(time=args.time).chunk({"time": 10}).to_zarr(store, consolidated=False)
        results = []
        for mode in MODES:
            results.append(
                run_child(
                    __file__, "--mode", mode, "--store", store, "--batch-size", args.batch_size
                )
            )
    memory = {r["mode"].split()[1]: r["samples_per_s"] for r in results if "memory" in r["mode"]}
    batch_mb = args.batch_size * 729 * 4 / 1e6
    lines = []
    header = (
        "mode",
        "samples/s vs memory sequential",
        "vs memory, same order",
        "peak memory growth GB",
    )
    if args.markdown:
        lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in results:
        order = r["mode"].split()[1]
        cells = (
            r["mode"],
            f"{r['samples_per_s'] / memory['sequential']:.2f}x",
            f"{r['samples_per_s'] / memory[order]:.2f}x",
            f"{r['growth_gb']:.2f}",
        )
        lines.append(
            "| " + " | ".join(cells) + " |"
            if args.markdown
            else f"{cells[0]:<20}" + "".join(f"{c:>34}" for c in cells[1:])
        )
    print("\n".join(lines))
    first = results[0]
    print(
        f"\n{first['samples']:,} samples, {first['table_gb']:.1f} GB per epoch, "
        f"batches of {args.batch_size:,} rows ({batch_mb:.0f} MB)"
    )
    return results


if __name__ == "__main__":
    main()
