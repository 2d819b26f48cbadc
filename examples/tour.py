"""A quick tour: the seed notebook on xbatcher-tab, then windows to a model and back.

Run: ``cd examples && python tour.py``.
"""

from __future__ import annotations

import contextlib
import io
import time

import notebook_port
import tabularize_ridge


def main() -> None:
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        figures = notebook_port.main()
    print("The seed notebook on xbatcher_tab.BatchGenerator (notebook-shaped synthetic data):")
    print(f"  time=10 windows: {figures['batches']} batches of {figures['samples_per_batch']:,}")
    print(f"  batch 20, concat: {figures['concat_batches']} batches")
    print(f"  time=31: {figures['remainder_batches']} batch (remainder dropped)")
    print(f"  overlap 9: samples per batch {figures['overlap_samples']}")
    print(f"  9x9x10 stacked features: {figures['stacked_feature_shapes']}")
    print(f"  ({time.perf_counter() - start:.1f} s)\n")
    print("WindowTabularizer + Ridge, next-day tasmax from 5x5x5 windows:")
    tabularize_ridge.main()
    print(f"\ndone in {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
