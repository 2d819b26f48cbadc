"""This checkout against another one on the main paths, side by side in one run.

Each path runs in a process of its own with ``PYTHONPATH`` set to one checkout, the two
checkouts taking turns (``--rounds`` times each, best time kept), so a busy spell of
the machine falls on both. Paths, on the notebook grid (time=60, lat=145, lon=192,
float32) with 9x9x9 windows at stride 1 and a next-day label (1.29 M x 729, 3.75 GB):

* full grid: ``tab.tabularize(ds)``;
* shuffled batches: the first 8 batches of 65,536 of a shuffled epoch, in memory;
* shuffled slabs: the same from a dask-backed copy in chunks of 10 days;
* predict: ``xt.predict(model, tab, ds)`` with a linear model fitted on 12 days.

A ratio above 1 means this checkout is slower. Use it before and after a change:

    git worktree add /tmp/before HEAD~3
    python benchmarks/bench_versions.py --base /tmp/before [--rounds 3] [--markdown]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _report import NOTEBOOK_WINDOW, print_rows  # noqa: E402

HERE = Path(__file__).resolve().parents[1]
PATHS = ["full grid", "shuffled batches", "shuffled slabs", "predict"]


def measure(path: str, repeat: int) -> float:
    """Best wall time of ``repeat`` runs of one path, in this process."""
    import warnings

    from sklearn.linear_model import LinearRegression

    import xbatcher_tab as xt

    warnings.simplefilter("ignore")
    ds = xt.datasets.tasmax()
    label = xt.Target("tasmax", lead={"time": 1})
    if path == "predict":
        tab = xt.WindowTabularizer(**NOTEBOOK_WINDOW, target=label)
        X, y, _ = tab.tabularize(ds.isel(time=slice(0, 12)))
        model = LinearRegression().fit(X, y)

        def run():
            xt.predict(model, tab, ds)

    else:
        tab = xt.WindowTabularizer(**NOTEBOOK_WINDOW, target=label).fit(ds)
        data = ds.chunk({"time": 10}) if path == "shuffled slabs" else ds

        def run():
            if path == "full grid":
                tab.tabularize(data)
                return
            batches = tab.iter_batches(data, batch_size=65536, shuffle=True, random_state=0)
            for _, _batch in zip(range(8), batches, strict=False):
                pass

    run()  # warm: imports, first touch of memory
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def child(checkout: Path, path: str, repeat: int) -> float:
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    code = (
        "import json, sys; sys.path.insert(0, sys.argv[1]); import bench_versions as b; "
        "print(json.dumps(b.measure(sys.argv[2], int(sys.argv[3]))))"
    )
    here = str(Path(__file__).resolve().parent)
    out = subprocess.run(
        [sys.executable, "-c", code, here, path, str(repeat)],
        env=env,
        cwd=checkout,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="the other checkout (a folder)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--paths", default=",".join(PATHS))
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args(argv)
    base = Path(args.base).resolve()
    rows = []
    for path in args.paths.split(","):
        ours = theirs = float("inf")
        for _ in range(args.rounds):  # alternate: a busy spell falls on both
            theirs = min(theirs, child(base, path, args.repeat))
            ours = min(ours, child(HERE, path, args.repeat))
        rows.append((path, f"{ours / theirs:.2f}x ({ours:.2f} s vs {theirs:.2f} s)"))
    print_rows(rows, args.markdown)


if __name__ == "__main__":
    main()
