"""The iterable torch dataset in every combination of DataLoader workers, ranks,
shuffle, ``start``, ``drop_last`` and persistent workers: each sample once per epoch
(or, with ``drop_last``, the documented remainder left out), as many batches on every
rank (DDP's all-reduce waits for the rank with fewer), and a resumed epoch equal to the
tail of the full one. The reference is the set of rows of plain windows cut with numpy
(``np.lib.stride_tricks.sliding_window_view``), not the package's own table."""

from __future__ import annotations

import math

import numpy as np
import pytest
import xarray as xr

import xbatcher_tab as xt

torch = pytest.importorskip("torch")
from torch.utils.data import DataLoader  # noqa: E402

from xbatcher_tab._table.epochs import batch_sizes  # noqa: E402
from xbatcher_tab.torch import WindowIterableDataset  # noqa: E402

NEXT_DAY = xt.Target("tasmax", lead={"time": 1})
BATCH = 23  # 504 samples: 21 full batches and one of 21


def rows_by_hand(ds: xr.Dataset, dropna: bool) -> list[tuple]:
    """Each sample as (its 3-day window at a cell, the next day there), from numpy:
    windows along time at every (lat, lon), labelled by the day after the window."""
    values = ds.tasmax.transpose("time", "lat", "lon").values
    windows = np.lib.stride_tricks.sliding_window_view(values[:-1], 3, axis=0)
    labels = values[3:]
    out = []
    for p in range(labels.shape[0]):
        for i in range(values.shape[1]):
            for j in range(values.shape[2]):
                x, y = windows[p, i, j], labels[p, i, j]
                if dropna and (np.isnan(x).any() or np.isnan(y)):
                    continue
                out.append((x.tobytes(), np.float32(y).tobytes()))
    return out


def keys(batches) -> list[tuple]:
    pairs = (zip(b[0].numpy(), b[1].numpy(), strict=True) for b in batches)
    return [(x.tobytes(), y.tobytes()) for rows in pairs for x, y in rows]


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    """numpy data (shared by sample), zarr chunks of 4 days (shared by slab: 3 slabs),
    and zarr with NaNs under dropna (each slab's samples counted when the dataset is
    made)."""
    path = tmp_path_factory.mktemp("loaders")
    ds = xt.datasets.tasmax(time=12, lat=7, lon=8)
    ds.chunk({"time": 4}).to_zarr(path / "s.zarr", consolidated=False)
    holes = xt.datasets.tasmax(time=12, lat=7, lon=8, nan_fraction=0.05, random_state=1)
    holes.chunk({"time": 4}).to_zarr(path / "h.zarr", consolidated=False)
    return {
        "numpy": (ds, False),
        "zarr": (xr.open_zarr(path / "s.zarr", consolidated=False), False),
        "zarr+dropna": (xr.open_zarr(path / "h.zarr", consolidated=False), True),
    }


def epoch(dataset, workers: int, loader=None) -> list:
    if loader is None:
        loader = DataLoader(dataset, batch_size=None, num_workers=workers)
    return list(loader)


@pytest.mark.slow
@pytest.mark.parametrize("source", ["numpy", "zarr", "zarr+dropna"])
@pytest.mark.parametrize("drop_last", [False, True])
@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("ranks", [1, 2, 3])
@pytest.mark.parametrize("workers", [0, 2])
def test_every_sample_once_and_as_many_batches_on_every_rank(
    workers, ranks, shuffle, drop_last, source, sources
):
    ds, dropna = sources[source]
    tab = xt.WindowTabularizer(
        input_dims={"time": 3}, input_overlap={"time": 2}, target=NEXT_DAY, dropna=dropna
    )
    tab.fit(ds)
    reference = rows_by_hand(ds.compute(), dropna)
    options = dict(
        batch_size=BATCH, shuffle=shuffle, drop_last=drop_last, random_state=5, shuffle_buffer=1
    )
    persistent = workers > 0
    per_rank, seen, second = [], [], []
    for rank in range(ranks):
        share = WindowIterableDataset(tab, ds, rank=rank, world_size=ranks, **options)
        loader = DataLoader(
            share, batch_size=None, num_workers=workers, persistent_workers=persistent
        )
        full = epoch(share, workers, loader)
        per_rank.append(len(full))
        assert len(share) == len(full)  # the rank's batches, known ahead
        seen += keys(full)
        if rank == ranks - 1 or shuffle:  # resume at batch 2: the tail of the epoch
            later = WindowIterableDataset(tab, ds, rank=rank, world_size=ranks, start=2, **options)
            resumed = epoch(later, workers)
            assert keys(resumed) == keys(full[2:]) and len(later) == len(resumed)
        share.set_epoch(1)  # the same loader (persistent workers kept) for epoch 1
        second += keys(epoch(share, workers, loader))
    assert len(set(per_rank)) == 1, per_rank  # as many batches on every rank
    assert len(seen) == len(set(seen))  # none twice
    n = len(reference)
    if drop_last:
        assert set(seen) <= set(reference)
        assert len(seen) == n // BATCH // ranks * ranks * BATCH  # the remainder documented
    else:
        assert sorted(seen) == sorted(reference)  # each once
    assert sorted(second) == sorted(seen) if not shuffle else len(second) == len(seen)
    if shuffle and not drop_last:
        assert sorted(second) == sorted(reference) and second != seen


@pytest.mark.filterwarnings("ignore:This DataLoader will create 6 worker processes")
def test_the_issues_cases_share_evenly(tmp_path):
    """The cases the issue met: zarr chunks time=4 gave the ranks 14 and 8 batches, and
    325 samples in batches of 27, 7 and 6; drop_last kept 288 of 330 with 6 shares, not
    the 320 of whole batches."""
    ds = xt.datasets.tasmax(time=60, lat=4, lon=5)
    ds.chunk({"time": 4}).to_zarr(tmp_path / "s.zarr", consolidated=False)
    lazy = xr.open_zarr(tmp_path / "s.zarr", consolidated=False)
    tab = xt.WindowTabularizer(
        input_dims={"time": 3}, input_overlap={"time": 2}, target=NEXT_DAY
    ).fit(ds)
    options = dict(world_size=2, batch_size=50, shuffle=True, random_state=0)
    shares = [epoch(WindowIterableDataset(tab, lazy, rank=r, **options), 0) for r in range(2)]
    assert [len(s) for s in shares] == [12, 12]  # 57 days x 20 cells: 23 batches cut to 24
    seen = keys(shares[0] + shares[1])
    assert sorted(seen) == sorted(rows_by_hand(ds, dropna=False))
    assert batch_sizes(325, 27, ranks=2).size == 14 and batch_sizes(325, 27, ranks=2).sum() == 325
    small = xt.datasets.tasmax(time=14, lat=5, lon=6)  # 11 days x 30 cells = 330 samples
    tab = xt.WindowTabularizer(
        input_dims={"time": 3}, input_overlap={"time": 2}, target=NEXT_DAY
    ).fit(small)
    data = WindowIterableDataset(
        tab, small, batch_size=32, drop_last=True, shuffle=True, random_state=0
    )
    batches = epoch(data, 6)
    assert sum(len(b[1]) for b in batches) == 320 and {len(b[1]) for b in batches} == {32}


def test_batch_sizes_by_rule():
    """Every sample in batches of at most ``size``, none empty, a multiple of ranks;
    full batches where they fit; with drop_last only full batches, evenly shared."""
    for n in range(0, 200, 7):
        for size in (1, 4, 27, 64):
            for ranks in (1, 2, 3, 5):
                kept = batch_sizes(n, size, drop_last=True, ranks=ranks)
                assert set(kept.tolist()) <= {size} and kept.size % ranks == 0
                assert n - kept.sum() < size * ranks
                wanted = math.ceil(math.ceil(n / size) / ranks) * ranks  # batches
                try:
                    sizes = batch_sizes(n, size, ranks=ranks)
                except ValueError as error:
                    assert n < wanted and "ranks" in str(error)
                    continue
                assert sizes.sum() == n and sizes.size % ranks == 0
                assert (sizes >= 1).all() and (sizes <= size).all()
                assert sizes.size == wanted
