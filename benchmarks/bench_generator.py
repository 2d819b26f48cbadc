"""BatchGenerator: xbatcher-tab against xbatcher 0.4.0 on the seed notebook's cases.

Both run in this one process on the same notebook-shaped data (time=60, lat=145,
lon=192, float32). For each case the table gives the time to build every batch (best
of ``--repeat`` rounds of repeated passes, ours and xbatcher's rounds alternated), the
speed-up over xbatcher, the output throughput against a plain memory copy of the same
number of bytes, and the peak memory each one allocates (tracemalloc, which numpy
reports to) beyond its input.

    python benchmarks/bench_generator.py [--repeat 5] [--markdown]
"""

from __future__ import annotations

import argparse
import gc
import time
import tracemalloc
import warnings

import numpy as np
import xarray as xr

import xbatcher_tab as xt

try:
    import xbatcher
except ImportError:  # pragma: no cover - the test extra installs it
    xbatcher = None


def cases(ds: xr.Dataset) -> dict[str, tuple[xr.Dataset, dict]]:
    small = ds[["tasmax"]].isel(lat=slice(0, 18), lon=slice(0, 18), time=slice(0, 30))
    return {
        "time=10": (ds, dict(input_dims={"time": 10})),
        "time=10, batch 20, concat": (
            ds,
            dict(input_dims={"time": 10}, batch_dims={"time": 20}, concat_input_dims=True),
        ),
        "time=31 (remainder dropped)": (ds, dict(input_dims={"time": 31})),
        "time=10, overlap 9, batch 20, concat": (
            ds,
            dict(
                input_dims={"time": 10},
                batch_dims={"time": 20},
                concat_input_dims=True,
                input_overlap={"time": 9},
            ),
        ),
        "9x9x10, overlap 8/8/9, concat": (
            small,
            dict(
                input_dims={"lat": 9, "lon": 9, "time": 10},
                batch_dims={"lat": 18, "lon": 18, "time": 15},
                concat_input_dims=True,
                input_overlap={"lat": 8, "lon": 8, "time": 9},
            ),
        ),
    }


def run_all(gen_cls, data, kwargs) -> tuple[float, int]:
    """Build every batch; return the seconds taken and the bytes of output."""
    start = time.perf_counter()
    nbytes = 0
    for batch in gen_cls(data, **kwargs):
        nbytes += sum(v.nbytes for v in batch.data_vars.values())
    return time.perf_counter() - start, nbytes


def round_time(gen_cls, data, kwargs, min_seconds: float = 0.25) -> tuple[float, int]:
    """Seconds per full pass, averaged over as many passes as fit in ``min_seconds``
    (one at least), so short cases are not noise; and the bytes of output."""
    passes, total = 0, 0.0
    while passes == 0 or total < min_seconds:
        seconds, nbytes = run_all(gen_cls, data, kwargs)
        passes, total = passes + 1, total + seconds
    return total / passes, nbytes


def best_times(data, kwargs, repeat: int) -> tuple[float, float, int]:
    """Seconds per pass of ours and of xbatcher: the best of ``repeat`` rounds each,
    the rounds alternated (ours, xbatcher, ours, ...) so that a busy spell of this
    shared machine falls on both rather than on whichever ran then."""
    ours = theirs = float("inf")
    nbytes = 0
    for _ in range(repeat):
        seconds, nbytes = round_time(xt.BatchGenerator, data, kwargs)
        ours = min(ours, seconds)
        theirs = min(theirs, round_time(xbatcher.BatchGenerator, data, kwargs)[0])
    return ours, theirs, nbytes


def peak_bytes(gen_cls, data, kwargs) -> int:
    gc.collect()
    tracemalloc.start()
    run_all(gen_cls, data, kwargs)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def memcpy_time(nbytes: int, repeat: int) -> float:
    src = np.ones(max(nbytes // 4, 1), dtype=np.float32)
    dst = np.empty_like(src)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        np.copyto(dst, src)
        times.append(time.perf_counter() - start)
    return min(times)


def main(argv=None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")

    ds = xt.datasets.tasmax()
    rows = []
    for name, (data, kwargs) in cases(ds).items():
        ours, theirs, nbytes = best_times(data, kwargs, args.repeat)
        copy = memcpy_time(nbytes, args.repeat)
        rows.append(
            dict(
                case=name,
                batches=len(xt.BatchGenerator(data, **kwargs)),
                out_mb=nbytes / 1e6,
                speedup=theirs / ours,
                vs_copy=copy / ours,
                ours_peak_mb=peak_bytes(xt.BatchGenerator, data, kwargs) / 1e6,
                theirs_peak_mb=peak_bytes(xbatcher.BatchGenerator, data, kwargs) / 1e6,
                ours_s=ours,
                theirs_s=theirs,
            )
        )
    header = (
        "case",
        "batches",
        "output MB",
        "speed-up vs xbatcher",
        "throughput vs memcpy",
        "peak MB ours",
        "peak MB xbatcher",
    )
    lines = []
    if args.markdown:
        lines.append("| " + " | ".join(header) + " |")
        lines.append("|" + "---|" * len(header))
    else:
        lines.append(f"{header[0]:<40}" + "".join(f"{h:>22}" for h in header[1:]))
    for r in rows:
        cells = (
            r["case"],
            f"{r['batches']}",
            f"{r['out_mb']:.1f}",
            f"{r['speedup']:.1f}x",
            f"{r['vs_copy']:.2f}x",
            f"{r['ours_peak_mb']:.1f}",
            f"{r['theirs_peak_mb']:.1f}",
        )
        if args.markdown:
            lines.append("| " + " | ".join(cells) + " |")
        else:
            lines.append(f"{cells[0]:<40}" + "".join(f"{c:>22}" for c in cells[1:]))
    print("\n".join(lines))
    return rows


if __name__ == "__main__":
    main()
