"""sample=: a seeded subset of the samples, the same on every path (batches, dask
blocks, the torch and Keras loaders, fit_batches, xgboost's iterator), exact in size,
never a sample twice, other for another seed, and cheap: slabs none of whose samples is
drawn are not read. Rows are checked against the full table cut by tabularize."""

from __future__ import annotations

import os

import numpy as np
import pytest
import xarray as xr

import xbatcher_tab as xt
from xbatcher_tab._table.slabs import SlabSource

NEXT_DAY = xt.Target("tasmax", lead={"time": 1})


def keys(X, y) -> list[bytes]:
    return [
        np.ascontiguousarray(x).tobytes() + np.float32(v).tobytes()
        for x, v in zip(X, y, strict=True)
    ]


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    path = tmp_path_factory.mktemp("sample") / "s.zarr"
    ds = xt.datasets.tasmax(time=20, lat=6, lon=7, nan_fraction=0.03, random_state=4)
    ds.chunk({"time": 4}).to_zarr(path, consolidated=False)
    lazy = xr.open_zarr(path, consolidated=False)
    tab = xt.WindowTabularizer(
        {"time": 3}, input_overlap={"time": 2}, target=NEXT_DAY, dropna=True
    ).fit(ds)
    X, y, _ = tab.tabularize(ds)
    return ds, lazy, tab, keys(X, y)


def batches_of(tab, data, **options):
    parts = list(tab.iter_batches(data, batch_size=17, **options))
    return keys(np.concatenate([b.X for b in parts]), np.concatenate([b.y for b in parts]))


@pytest.mark.parametrize("sample", [0.1, 0.37, 1.0, 25])
def test_the_same_subset_on_every_path(sample, setup):
    ds, lazy, tab, table = setup
    n = len(table)
    k = sample if isinstance(sample, int) else int(np.floor(sample * n + 0.5))
    reference = batches_of(tab, ds, sample=sample, random_state=3)
    assert len(reference) == k == len(set(reference))  # exact, none twice
    assert set(reference) <= set(table)  # rows of the table (dropna held)
    paths = {
        "zarr": batches_of(tab, lazy, sample=sample, random_state=3),
        "zarr shuffled": batches_of(tab, lazy, sample=sample, random_state=3, shuffle=True),
        "shuffled, epoch 4": batches_of(
            tab, ds, sample=sample, random_state=3, shuffle=True, epoch=4
        ),
    }
    X, y, _ = tab.to_dask(lazy, sample=sample, random_state=3)
    paths["to_dask"] = keys(X.compute(), y.compute())
    assert X.chunks[0] == tuple(b.shape[0] for b in X.blocks)  # sizes known ahead

    class Recorder:
        def partial_fit(self, X, y):
            self.rows = getattr(self, "rows", []) + keys(X, y)
            return self

    fitted = xt.fit_batches(
        Recorder(), tab, lazy, batch_size=17, sample=sample, random_state=3, epochs=2
    ).rows
    paths["fit_batches"], paths["fit_batches, epoch 2"] = fitted[:k], fitted[k:]
    iterator = xt.WindowDataIter(tab, lazy, batch_size=17, sample=sample, random_state=3)
    seen: list = []
    for _ in range(2):  # xgboost's passes over the iterator: the same subset each
        while iterator.next(lambda **kw: seen.extend(keys(kw["data"], kw["label"]))):
            pass
        iterator.reset()
    paths["WindowDataIter"], paths["WindowDataIter, pass 2"] = seen[:k], seen[k:]
    pytest.importorskip("torch")
    from torch.utils.data import DataLoader

    from xbatcher_tab.torch import WindowDataset, WindowIterableDataset

    mapped = WindowDataset(tab, ds, sample=sample, random_state=3)
    x, t = next(iter(DataLoader(mapped, batch_size=len(mapped))))
    paths["WindowDataset"] = keys(x.numpy(), t.numpy())
    rows = []
    for rank in range(2):
        stream = WindowIterableDataset(
            tab,
            lazy,
            batch_size=5,
            shuffle=True,
            sample=sample,
            random_state=3,
            rank=rank,
            world_size=2,
        )
        stream.set_epoch(1)
        got = list(DataLoader(stream, batch_size=None, num_workers=2))
        assert len(got) == len(stream)
        rows += [r for x, t in got for r in keys(x.numpy(), t.numpy())]
    paths["WindowIterableDataset, 2 ranks x 2 workers"] = rows
    os.environ.setdefault("KERAS_BACKEND", "torch")
    pytest.importorskip("keras")
    from xbatcher_tab.keras import WindowPyDataset

    kb = WindowPyDataset(tab, ds, batch_size=7, shuffle=True, sample=sample, random_state=3)
    paths["WindowPyDataset"] = [r for i in range(len(kb)) for r in keys(kb[i][0], kb[i][1])]
    for name, got in paths.items():
        assert sorted(got) == sorted(reference), name
    if sample != 1.0:
        other = batches_of(tab, ds, sample=sample, random_state=4)
        assert len(other) == k and set(other) != set(reference)


def test_only_the_slabs_drawn_are_read(monkeypatch, tmp_path):
    """Three samples drawn from 30 chunks: at most three slabs read."""
    ds = xt.datasets.tasmax(time=120, lat=4, lon=5)
    ds.chunk({"time": 4}).to_zarr(tmp_path / "s.zarr", consolidated=False)
    lazy = xr.open_zarr(tmp_path / "s.zarr", consolidated=False)
    tab = xt.WindowTabularizer({"time": 3}, target=NEXT_DAY).fit(ds)
    read = set()
    table = SlabSource.table

    def counted(self, k):
        read.add(k)
        return table(self, k)

    monkeypatch.setattr(SlabSource, "table", counted)
    batches = list(tab.iter_batches(lazy, sample=3, random_state=0, shuffle=True))
    assert sum(len(b.y) for b in batches) == 3
    assert 1 <= len(read) <= 3


def test_bad_samples_are_named_and_predict_takes_none():
    ds = xt.datasets.tasmax(time=8, lat=3, lon=4)
    tab = xt.WindowTabularizer({"time": 2}, target=NEXT_DAY).fit(ds)
    for bad, error in ((0, ValueError), (1.5, ValueError), (0.0, ValueError), (True, TypeError)):
        with pytest.raises(error, match="sample must be a fraction in \\(0, 1\\] or a count"):
            list(tab.iter_batches(ds, sample=bad))
    with pytest.raises(ValueError, match="asks for more samples than the 36 the table keeps"):
        list(tab.iter_batches(ds, sample=37))
    with pytest.raises(TypeError, match="sample"):
        xt.predict(None, tab, ds, sample=0.5)
