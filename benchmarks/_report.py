"""What the benchmark scripts share: two-column tables (Markdown or aligned text) and
the process's resident memory."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import time
from pathlib import Path


def best_of(repeat: int, fn) -> float:
    """The fastest of ``repeat`` runs of ``fn()``, in seconds (garbage collected first)."""
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def run_child(script: str, *args: str) -> dict:
    """Run ``script`` with ``args`` in a process of its own (so that its peak memory is
    its own) and return the JSON object it prints last."""
    out = subprocess.run(
        [sys.executable, script, *map(str, args)], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def rss_kb(field: str) -> int:
    """``VmRSS`` (now) or ``VmHWM`` (peak) of this process, in kB (0 if unknown)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def print_rows(rows: list[tuple[str, str]], markdown: bool, width: int = 60) -> None:
    if markdown:
        print("| measure | value |\n|---|---|")
        print("\n".join(f"| {k} | {v} |" for k, v in rows))
    else:
        print("\n".join(f"{k:<{width}}{v}" for k, v in rows))


# 9x9x9 windows at stride 1: the notebook grid's benchmark table (1.29 M x 729)
NOTEBOOK_WINDOW = dict(
    input_dims={"lat": 9, "lon": 9, "time": 9},
    input_overlap={"lat": 8, "lon": 8, "time": 8},
)


def grid_args(doc: str, argv=None):
    """``--time``, ``--repeat`` and ``--markdown`` of the notebook-grid benchmarks."""
    import argparse
    import warnings

    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--time", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    return args
