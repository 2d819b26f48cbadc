"""The numba engine against the numpy engine, and each against the limits.

On the full notebook grid (time=60, lat=145, lon=192 float32; 9x9x9 windows at stride
1 with a next-day label: 1.29 M rows x 729 features), in one process, best of
``--repeat``, ratios only, one column per engine:

* the whole table gathered into a touched buffer by one thread: numba's speed against
  numpy's, and each against one thread's ``np.copyto`` of the same bytes;
* ``n_jobs=2`` against one thread, and against that copy;
* centered (on the anchor cell, or on the window's mean) and scaled rows against the
  plain gather (scaling is applied once per grid cell when the table is laid out, so
  a row pays only for centering);
* the same, as a user calls it: ``tab.transform(ds)`` into a fresh output, centered
  and scaled against plain (interleaved, the median of ``2 * repeat + 1`` runs each,
  after one table-sized touch of fresh memory: the first in a process pays the
  kernel's compaction of huge pages, seconds on this VM);
* shuffled batches against sequential ones, in memory and from a zarr store (chunks of
  10 days), in batches of 65,536 and 8,192 rows;
* the compile cost: seconds of the first ``tabularize`` in a fresh process with an
  empty numba cache, with that cache filled, and with the numpy engine.

    python benchmarks/bench_engines.py [--time 60] [--repeat 3] [--markdown]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import json
import os
import subprocess
import tempfile
import time

import numpy as np
import xarray as xr
from _report import NOTEBOOK_WINDOW, best_of, grid_args, print_rows  # noqa: E402

import xbatcher_tab as xt
from xbatcher_tab._engine.runtime import Runtime
from xbatcher_tab._table.slabs import load_table

ENGINES = ("numpy", "numba")
TARGET = xt.Target("tasmax", lead={"time": 1})


def gathers(ds, repeat: int) -> dict[str, dict[str, float]]:
    """Seconds of each whole-table gather into one touched buffer, per engine."""
    plain = xt.WindowTabularizer(**NOTEBOOK_WINDOW, target=TARGET).fit(ds)
    tabs = {
        "plain": plain,
        "anchor": xt.WindowTabularizer(
            **NOTEBOOK_WINDOW, target=TARGET, center="anchor", scale=True
        ).fit(ds),
        "mean": xt.WindowTabularizer(
            **NOTEBOOK_WINDOW, target=TARGET, center="mean", scale=True
        ).fit(ds),
    }
    ids = load_table(plain.get_layout(), ds).valid_ids()
    buffer = np.full(ids.size * 730, 1.0, dtype=np.float32)  # touched; room for a reference
    out = buffer[: ids.size * 729].reshape(ids.size, 729)
    source = np.full_like(out, 2.0)
    copy = best_of(repeat, lambda: np.copyto(out, source))
    source = None  # 3.75 GB back
    seconds: dict[str, dict[str, float]] = {e: {"copy": copy} for e in ENGINES}
    for engine in ENGINES:
        for name, tab in tabs.items():
            for n_jobs in (1, 2) if name == "plain" else (1,):
                runtime = Runtime(n_jobs=n_jobs, engine=engine)
                table = load_table(tab.get_layout(), ds, runtime=runtime)
                rows = buffer[: ids.size * table.n_features].reshape(ids.size, -1)
                table.X(ids[:1000], out=rows[:1000])  # compiled and warm
                seconds[engine][f"{name} {n_jobs}"] = best_of(
                    repeat, lambda t=table, rows=rows: t.X(ids, out=rows)
                )
                del table
    return seconds


def transforms(ds, repeat: int) -> dict[str, dict[str, float]]:
    """Median seconds of ``tab.transform(ds)`` (a fresh output each time), per engine."""
    tabs = {
        name: xt.WindowTabularizer(**NOTEBOOK_WINDOW, target=TARGET, **options).fit(ds)
        for name, options in (
            ("plain", {}),
            ("anchor", {"center": "anchor", "scale": True}),
            ("mean", {"center": "mean", "scale": True}),
        )
    }
    small = xt.datasets.tasmax(time=12, lat=20, lon=20)
    warm = np.empty(ds.tasmax.size * 800, dtype=np.float32)  # the first large touch
    warm.fill(0.0)
    del warm
    seconds: dict[str, dict[str, float]] = {}
    for engine in ENGINES:
        with xt.set_options(engine=engine):
            runs: dict[str, list[float]] = {name: [] for name in tabs}
            for tab in tabs.values():
                tab.transform(small)  # compiled
            for k in range(2 * repeat + 1):  # interleaved, each order in turn
                for name, tab in list(tabs.items())[:: 1 if k % 2 else -1]:
                    start = time.perf_counter()
                    X = tab.transform(ds)
                    runs[name].append(time.perf_counter() - start)
                    del X
            seconds[engine] = {name: float(np.median(t)) for name, t in runs.items()}
    return seconds


def batches(ds, store, repeat: int, sizes) -> dict[str, dict[str, float]]:
    """Seconds of one epoch of batches, per engine, source, size and order."""
    tab = xt.WindowTabularizer(**NOTEBOOK_WINDOW, target=TARGET).fit(ds)
    seconds: dict[str, dict[str, float]] = {e: {} for e in ENGINES}
    for engine in ENGINES:
        with xt.set_options(engine=engine):
            for source, data in (("memory", ds), ("zarr", xr.open_zarr(store))):
                for size in sizes:
                    for shuffle in (False, True):

                        def epoch(data=data, size=size, shuffle=shuffle) -> None:
                            for _ in tab.iter_batches(
                                data, batch_size=size, shuffle=shuffle, random_state=0
                            ):
                                pass

                        key = f"{source} {size} {'shuffled' if shuffle else 'sequential'}"
                        seconds[engine][key] = best_of(repeat, epoch)
    return seconds


FIRST_CALL = """
import time
start = time.perf_counter()
import xbatcher_tab as xt
ds = xt.datasets.tasmax(time=12, lat=20, lon=24)
tab = xt.WindowTabularizer(input_dims={"lat": 3, "lon": 3, "time": 3},
                           target=xt.Target("tasmax", lead={"time": 1}),
                           center="mean").fit(ds)
tab.tabularize(ds)
print(time.perf_counter() - start)
"""


def first_calls() -> dict[str, float]:
    """Seconds from import to a first small centered table in a fresh process."""
    out = {}
    with tempfile.TemporaryDirectory() as cache:
        for name, engine in (("numba cold", "numba"), ("numba warm", "numba"), ("numpy", "numpy")):
            env = dict(os.environ, NUMBA_CACHE_DIR=cache, XBATCHER_TAB_ENGINE=engine)
            run = subprocess.run(
                [sys.executable, "-c", FIRST_CALL], env=env, capture_output=True, text=True
            )
            out[name] = float(run.stdout.strip().splitlines()[-1])
    return out


def rows(gather, batch, first, fresh) -> list[tuple[str, ...]]:
    def both(label, fn) -> tuple[str, ...]:
        return (label, *(fn(gather[e], batch[e]) for e in ENGINES))

    def vs_numpy(label, section, key) -> tuple[str, ...]:
        return (label, *(f"{section['numpy'][key] / section[e][key]:.2f}x" for e in ENGINES))

    table = [
        vs_numpy("plain gather, 1 thread: speed vs the numpy engine", gather, "plain 1"),
        both(
            "plain gather, 1 thread, vs one thread's memcpy", lambda g, b: _r(g, "copy", "plain 1")
        ),
        both("n_jobs=2 vs n_jobs=1 (speed)", lambda g, b: _r(g, "plain 1", "plain 2")),
        both("n_jobs=2 vs one thread's memcpy", lambda g, b: _r(g, "copy", "plain 2")),
        both("center on anchor + scale: time vs plain", lambda g, b: _r(g, "anchor 1", "plain 1")),
        both("center on mean + scale: time vs plain", lambda g, b: _r(g, "mean 1", "plain 1")),
        vs_numpy("center on mean + scale: speed vs the numpy engine", gather, "mean 1"),
        (
            "transform, fresh output: center on anchor + scale vs plain",
            *(_r(fresh[e], "anchor", "plain") for e in ENGINES),
        ),
        (
            "transform, fresh output: center on mean + scale vs plain",
            *(_r(fresh[e], "mean", "plain") for e in ENGINES),
        ),
    ]
    keys = sorted({k.rsplit(" ", 1)[0] for k in batch["numpy"]}, key=_batch_order)
    for key in keys:
        source, size = key.split()
        table.append(
            both(
                f"shuffled vs sequential rate, {source}, batches of {int(size):,}",
                lambda g, b, key=key: _r(b, f"{key} sequential", f"{key} shuffled"),
            )
        )
    for key in keys:
        source, size = key.split()
        for order in ("sequential", "shuffled"):
            label = f"{order} batches, {source}, {int(size):,}: rate vs the numpy engine"
            table.append(vs_numpy(label, batch, f"{key} {order}"))
    for name, seconds in first.items():
        table.append((f"first tabularize in a fresh process, {name} (s)", f"{seconds:.2f}", ""))
    return table


def _r(seconds: dict, base: str, other: str) -> str:
    """``base``'s seconds over ``other``'s: ``other``'s speed relative to ``base``."""
    return f"{seconds[base] / seconds[other]:.2f}x"


def _batch_order(key: str) -> tuple[str, int]:
    source, size = key.split()
    return source, -int(size)


def main(argv=None) -> dict:
    args = grid_args(__doc__, argv)
    ds = xt.datasets.tasmax(time=args.time)
    first = first_calls()
    gather = gathers(ds, args.repeat)
    fresh = transforms(ds, args.repeat)
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "tasmax.zarr"
        ds.chunk(time=10).to_zarr(store)
        batch = batches(ds, store, args.repeat, sizes=(65536, 8192))
    table = rows(gather, batch, first, fresh)
    if args.markdown:
        print("| measure | numpy | numba |\n|---|---|---|")
        print("\n".join("| " + " | ".join(r) + " |" for r in table))
    else:
        print_rows([(r[0], "  ".join(f"{v:>8}" for v in r[1:])) for r in table], False, 64)
    out = {"gather": gather, "batches": batch, "first": first, "fresh": fresh}
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main()
