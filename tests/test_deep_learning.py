"""Deep-learning loaders: window-shaped samples equal the data's windows, torch's
map-style and iterable datasets give every sample exactly once (every worker and rank
its own share: xbatcher issue 176), Keras trains on the same batches, and torch and
Keras models go back to the map through xt.predict."""

from __future__ import annotations

import os
import pickle
import time

import numpy as np
import pytest
import xarray as xr

import xbatcher_tab as xt

torch = pytest.importorskip("torch")
from torch.utils.data import DataLoader  # noqa: E402

from xbatcher_tab.torch import WindowDataset, WindowIterableDataset  # noqa: E402

NEXT_DAY = xt.Target("tasmax", lead={"time": 1})


def small(**kwargs):
    return xt.datasets.tasmax(time=kwargs.pop("time", 9), lat=7, lon=8, **kwargs)


def as_set(rows) -> list[bytes]:
    """Rows as a sorted list of their bytes: the same rows in any order compare equal."""
    return sorted(np.ascontiguousarray(r).tobytes() for r in np.asarray(rows))


CASES = {
    "one variable": dict(variables=["tasmax"]),
    "two variables": dict(variables=["tasmax", "warm"]),
    "a static variable": dict(variables=["tasmax", "orog"]),
    "preprocessing": dict(
        variables=["tasmax", "orog"], center={"tasmax": "anchor"}, stats=("max",)
    ),
}


def case_data():
    ds = small(static=True)
    return ds.assign(warm=(ds.tasmax - 270.0).transpose("lat", "lon", "time"))


@pytest.mark.parametrize("case", list(CASES))
def test_window_samples_are_the_windows_of_the_data(case):
    ds = case_data()
    dims = {"time": 3, "lat": 3, "lon": 2}
    tab = xt.WindowTabularizer(input_dims=dims, target=NEXT_DAY, **CASES[case])
    X, y, coords = tab.tabularize(ds)
    windows = WindowDataset(tab, ds, shape="window")
    flat = WindowDataset(tab, ds)
    assert len(windows) == len(flat) == len(X)
    layout = tab.layout_
    for i in range(len(X)):
        xf, yf = flat[i]
        xw, yw = windows[i]
        np.testing.assert_array_equal(xf.numpy(), X[i])
        assert yf == yw == y[i]
        window, extras = xw if isinstance(xw, tuple) else (xw, None)
        assert tuple(window.shape) == (len(layout.variables), 3, 3, 2)
        # brute force: each variable's cells by isel around the anchor, on the window
        for c, v in enumerate(layout.variables):
            index = {}
            for d, size in dims.items():
                cell = int(ds.get_index(d).get_loc(coords[d].iloc[i]))
                first = cell - layout.window.anchor(d)
                index[d] = slice(first, first + size)
            piece = ds[v].isel({d: s for d, s in index.items() if d in ds[v].dims})
            piece = piece.transpose(*[d for d in dims if d in piece.dims]).values
            expected = piece.reshape([dims[d] if d in ds[v].dims else 1 for d in dims])
            if v in (layout.center or {}) and layout.center.get(v) == "anchor":
                expected = expected - expected[2, 1, 1]  # nearest the anchor: day 3, center
            np.testing.assert_allclose(
                window[c].numpy(), np.broadcast_to(expected, (3, 3, 2)), rtol=1e-6, atol=1e-5
            )
        if case == "preprocessing":
            assert tuple(extras.shape) == (3,)  # tasmax@anchor, tasmax@max, orog@max: kept
            np.testing.assert_array_equal(extras.numpy(), X[i, layout.columns.extra_columns()])
        else:
            assert extras is None


@pytest.mark.parametrize(("workers", "source"), [(0, "memory"), (2, "memory"), (2, "zarr")])
def test_a_shuffled_data_loader_epoch_gives_every_sample_once(workers, source, tmp_path):
    ds = small(time=12)
    if source == "zarr":  # each worker opens the store again: the dataset carries no data
        ds.chunk({"time": 4}).to_zarr(tmp_path / "s.zarr", consolidated=False)
        ds = xr.open_zarr(tmp_path / "s.zarr", consolidated=False)
    tab = xt.WindowTabularizer(input_dims={"lat": 3, "lon": 3, "time": 3}, target=NEXT_DAY)
    X, y, _ = tab.tabularize(ds)
    loader = DataLoader(WindowDataset(tab, ds), batch_size=16, shuffle=True, num_workers=workers)
    batches = list(loader)
    rows = np.concatenate([b[0].numpy() for b in batches])
    assert len(rows) == len(X) and as_set(rows) == as_set(X)
    assert not np.array_equal(rows, X)  # shuffled


def test_batches_are_gathered_whole_yet_any_collate_sees_samples():
    ds = small(time=12)
    tab = xt.WindowTabularizer(input_dims={"time": 3, "lat": 3, "lon": 3}, target=NEXT_DAY)
    data = WindowDataset(tab, ds, shape="window")
    X = tab.fit(ds).transform(ds)
    batch = data.__getitems__([4, 1, 7])
    default = torch.utils.data.default_collate(batch)
    np.testing.assert_array_equal(default[0].numpy().reshape(3, -1), X[[4, 1, 7]])
    own = [torch.stack([x for x, _ in batch]), torch.stack([y for _, y in batch])]
    np.testing.assert_array_equal(own[0].numpy(), default[0].numpy())
    np.testing.assert_array_equal(own[1].numpy(), default[1].numpy())
    part = torch.utils.data.default_collate([batch[2], batch[0]])  # not the batch whole
    np.testing.assert_array_equal(part[0].numpy().reshape(2, -1), X[[7, 4]])


def test_datasets_pickle_without_the_data_they_read(tmp_path):
    ds = xt.datasets.tasmax(time=30, lat=20, lon=24)
    ds.chunk({"time": 10}).to_zarr(tmp_path / "s.zarr", consolidated=False)
    lazy = xr.open_zarr(tmp_path / "s.zarr", consolidated=False)
    tab = xt.WindowTabularizer(input_dims={"lat": 3, "lon": 3, "time": 3}, target=NEXT_DAY)
    data = WindowDataset(tab, lazy)
    assert len(data) > 0 and data.samples._table is not None  # read here, for len()
    sent = pickle.dumps(data)
    assert len(sent) < ds.nbytes / 3  # the store's address and the layout, not the data
    again = pickle.loads(sent)
    assert again.samples._table is None  # read where it is used
    np.testing.assert_array_equal(again[5][0].numpy(), data[5][0].numpy())


def iterable_epoch(dataset, workers: int) -> list[np.ndarray]:
    loader = DataLoader(dataset, batch_size=None, num_workers=workers)
    return [b[0].numpy() for b in loader]


@pytest.mark.parametrize("chunked", [False, True])
def test_iterable_shares_are_disjoint_and_make_the_epoch(chunked, tmp_path):
    """xbatcher issue 176: every worker iterated the whole data. Here 2 workers, and 2
    ranks of 2 workers, share the epoch: no sample twice, none missing. From zarr the
    shares are slabs, each worker reading its own chunks."""
    ds = small(time=24)
    if chunked:
        ds.chunk({"time": 4}).to_zarr(tmp_path / "s.zarr", consolidated=False)
        ds = xr.open_zarr(tmp_path / "s.zarr", consolidated=False)
    tab = xt.WindowTabularizer(input_dims={"lat": 3, "lon": 3, "time": 3}, target=NEXT_DAY)
    X = tab.fit(ds).transform(ds)
    options = dict(batch_size=50, shuffle=True, random_state=3)
    whole = iterable_epoch(WindowIterableDataset(tab, ds, **options), 0)
    assert as_set(np.concatenate(whole)) == as_set(X)
    by_workers = iterable_epoch(WindowIterableDataset(tab, ds, **options), 2)
    assert as_set(np.concatenate(by_workers)) == as_set(X)
    shares = []
    for rank in range(2):
        share = WindowIterableDataset(tab, ds, rank=rank, world_size=2, **options)
        shares.append(np.concatenate(iterable_epoch(share, 2)))
    assert 0 < len(shares[0]) < len(X)
    assert not set(as_set(shares[0])) & set(as_set(shares[1]))
    assert as_set(np.concatenate(shares)) == as_set(X)


def test_set_epoch_reshuffles_reproducibly():
    ds = small(time=12)
    tab = xt.WindowTabularizer(input_dims={"time": 3}, target=NEXT_DAY)
    data = WindowIterableDataset(tab, ds, batch_size=40, shuffle=True, random_state=0)

    def epoch(e):
        data.set_epoch(e)
        return np.concatenate(iterable_epoch(data, 0))

    first, again, second = epoch(0), epoch(0), epoch(1)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, second) and as_set(first) == as_set(second)
    with pytest.raises(ValueError, match="rank must be an integer in"):
        WindowIterableDataset(tab, ds, rank=2, world_size=2)


def test_nan_labels_never_come_out_with_dropna():
    ds = xt.datasets.tasmax(time=10, lat=14, lon=16, nan_fraction=0.1)
    tab = xt.WindowTabularizer(
        input_dims={"lat": 3, "lon": 3, "time": 2}, target=NEXT_DAY, dropna=True
    )
    for dataset in (WindowDataset(tab, ds), WindowIterableDataset(tab, ds, batch_size=32)):
        loader = DataLoader(dataset, batch_size=32 if isinstance(dataset, WindowDataset) else None)
        labels = torch.cat([b[1] for b in loader]).numpy()
        rows = torch.cat([b[0] for b in loader]).numpy()
        assert 0 < len(labels) == tab.tabularize(ds).X.shape[0] < 6 * 12 * 14
        assert not np.isnan(labels).any() and not np.isnan(rows).any()


def test_weights_and_unlabelled_data():
    ds = small(time=8)
    tab = xt.WindowTabularizer(input_dims={"time": 3}, target=NEXT_DAY, weight="coslat")
    x, y, w = WindowDataset(tab, ds)[0]
    _, _, coords = tab.tabularize(ds)
    assert float(w) == pytest.approx(np.cos(np.deg2rad(coords["lat"].iloc[0])))
    heat = xt.WindowTabularizer(
        input_dims={"time": 3}, variables=["tasmax"], target=xt.Target("heat", lead={"time": 1})
    ).fit(ds.assign(heat=ds.tasmax))
    features_only = WindowDataset(heat, ds)  # no labels in the data: x alone
    assert len(features_only[0]) == 1 and len(features_only) > len(x)


class TinyCNN(torch.nn.Module):
    """The notebook's kind of model: the days as channels over a lat-lon window."""

    def __init__(self, days: int) -> None:
        super().__init__()
        self.conv = torch.nn.Conv2d(days, 4, 3)
        self.head = torch.nn.Linear(4, 1)

    def forward(self, x):
        x = x[:, 0]  # (batch, days, lat, lon): one variable
        return self.head(torch.relu(self.conv(x)).mean(dim=(2, 3)))


def test_predict_with_a_torch_module_equals_it_applied_by_hand():
    ds = small(time=10)
    tab = xt.WindowTabularizer(
        input_dims={"time": 3, "lat": 3, "lon": 3},
        input_overlap={"time": 2, "lat": 2, "lon": 2},
        target=NEXT_DAY,
    )
    X, y, coords = tab.tabularize(ds)
    torch.manual_seed(0)
    module = TinyCNN(3)
    pred = xt.predict(module, tab, ds, shape="window")
    with torch.no_grad():
        by_hand = module(torch.from_numpy(X.reshape(-1, 1, 3, 3, 3))).numpy()[:, 0]
    expected = tab.to_grid(by_hand, coords, like=ds)
    inside = pred.sel(time=ds.time)
    np.testing.assert_allclose(inside.values, expected.values, rtol=1e-6)
    assert pred.sizes["time"] == ds.sizes["time"] + 1  # the forecast
    assert module.training  # left as it was
    lazy = xt.predict(module, tab, ds.chunk({"time": 4}), shape="window")
    np.testing.assert_allclose(lazy.values, pred.values, rtol=1e-6)


def test_a_keras_model_trains_on_the_pydataset_and_maps_back():
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    from xbatcher_tab.keras import WindowPyDataset

    ds = small(time=12)
    tab = xt.WindowTabularizer(
        input_dims={"lat": 3, "lon": 3, "time": 3},
        input_overlap={"lat": 2, "lon": 2, "time": 2},
        target=NEXT_DAY,
        scale=True,
    )
    batches = WindowPyDataset(tab, ds, batch_size=64, shape="window", shuffle=True, random_state=0)
    x, y = batches[0]
    assert x.shape == (64, 3, 3, 3, 1)
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((3, 3, 3, 1)), keras.layers.Flatten(), keras.layers.Dense(1)]
    )
    model.compile(optimizer="adam", loss="mse")
    history = model.fit(batches, epochs=1, shuffle=False, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    # Keras 3's workers gather the next epoch's batches before on_epoch_end reshuffles
    with pytest.raises(ValueError, match="shuffle=True with workers=2: Keras 3 gathers"):
        WindowPyDataset(tab, ds, batch_size=64, shuffle=True, random_state=0, workers=2)
    before = batches.order().copy()
    batches.on_epoch_end()  # the next epoch has its own order, of the same samples
    assert not np.array_equal(before, batches.order())
    assert sorted(before) == sorted(batches.order())
    pred = xt.predict(model, tab, ds, shape="window")
    X, _, coords = tab.tabularize(ds)
    expected = model.predict_on_batch(X.reshape(-1, 3, 3, 3, 1))[:, 0]
    np.testing.assert_allclose(
        pred.sel(time=ds.time).values, tab.to_grid(expected, coords, like=ds).values, rtol=1e-5
    )


FORKED_WORKERS = """
import dask, dask.array as dsa, numpy as np, xarray as xr
import xbatcher_tab as xt
from torch.utils.data import DataLoader, Dataset
from xbatcher_tab.torch import WindowDataset

dsa.ones(10, chunks=2).sum().compute(scheduler="threads")  # the parent's thread pool
ds = xt.datasets.tasmax(time=8, lat=6, lon=7).chunk({"time": 2})


class Batches(Dataset):  # xbatcher's way: a BatchGenerator inside a torch Dataset
    def __init__(self):
        self.gen = xt.BatchGenerator(ds, input_dims={"time": 2, "lat": 3, "lon": 3})
    def __len__(self):
        return len(self.gen)
    def __getitem__(self, i):
        return self.gen[i].tasmax.values


got = list(DataLoader(Batches(), batch_size=None, num_workers=2, multiprocessing_context="fork"))
assert len(got) == len(Batches().gen)
weight = xr.DataArray(np.ones((6, 7)), dims=("lat", "lon"), coords={"lat": ds.lat, "lon": ds.lon})
tab = xt.WindowTabularizer({"time": 2}, target=xt.Target("tasmax", lead={"time": 1}),
                           weight=weight.chunk({"lat": 3}))
loader = DataLoader(WindowDataset(tab, ds), batch_size=16, num_workers=2,
                    multiprocessing_context="fork")
assert sum(len(b[0]) for b in loader) == tab.count_samples(ds)
print("ok")
"""


@pytest.mark.slow
def test_forked_workers_compute_dask_without_the_parents_threads(tmp_path):
    """A loader's forked workers compute dask-backed data (a BatchGenerator's batches,
    a dask-backed weight) on the synchronous scheduler: the parent's thread pool does
    not survive the fork, and waiting on it would hang. Run in a process of its own
    with a time limit, so a regression fails instead of hanging the suite."""
    import subprocess
    import sys

    script = tmp_path / "forked.py"
    script.write_text(FORKED_WORKERS)
    proc = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=240
    )
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr[-2000:]


def test_predict_takes_float64_modules_and_two_input_keras_models_and_tensor_indices():
    """A float64 torch module gets float64 rows (torch's raw dtype error before); a Keras
    model under the torch backend, which is also a torch Module, is called as a Keras
    model (a two-input one failed); a 0-d integer tensor indexes a WindowDataset."""
    ds = small(time=10)
    tab = xt.WindowTabularizer(
        input_dims={"time": 3, "lat": 3, "lon": 3},
        input_overlap={"time": 2, "lat": 2, "lon": 2},
        target=NEXT_DAY,
        stats=("mean",),  # a column without a window position: (windows, extras)
    )
    X, y, coords = tab.tabularize(ds)
    torch.manual_seed(0)
    module = torch.nn.Linear(X.shape[1], 1).double()
    pred = xt.predict(module, tab, ds)
    with torch.no_grad():
        by_hand = module(torch.from_numpy(X.astype(np.float64))).numpy()[:, 0]
    np.testing.assert_allclose(
        pred.sel(time=ds.time).values, tab.to_grid(by_hand, coords, like=ds).values, rtol=1e-6
    )
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    windows, extras = keras.Input((3, 3, 3, 1)), keras.Input((1,))
    joined = keras.layers.Concatenate()([keras.layers.Flatten()(windows), extras])
    model = keras.Model([windows, extras], keras.layers.Dense(1)(joined))
    pred = xt.predict(model, tab, ds, shape="window")
    shaped = X[:, :27].reshape(-1, 3, 3, 3, 1), X[:, 27:]
    expected = np.asarray(model.predict_on_batch(list(shaped)))[:, 0]
    np.testing.assert_allclose(
        pred.sel(time=ds.time).values, tab.to_grid(expected, coords, like=ds).values, rtol=1e-5
    )
    data = WindowDataset(tab, ds)
    np.testing.assert_array_equal(data[torch.tensor(3)][0].numpy(), data[3][0].numpy())
    with pytest.raises(TypeError, match="index must be an integer"):
        data[torch.tensor(3.0)]


def _epoch(dataset, workers: int, persistent: bool = False, loader=None) -> list[np.ndarray]:
    if loader is None:
        loader = DataLoader(
            dataset, batch_size=None, num_workers=workers, persistent_workers=persistent
        )
    return [b[0].numpy() for b in loader]


def test_set_epoch_reaches_persistent_workers():
    """With persistent workers, set_epoch(1) gives epoch 1's order (every epoch was the
    first before): the same batches as a fresh loader at epoch 1."""
    ds = small(time=12)
    tab = xt.WindowTabularizer(input_dims={"time": 3}, target=NEXT_DAY)
    options = dict(batch_size=40, shuffle=True, random_state=0)
    data = WindowIterableDataset(tab, ds, **options)
    loader = DataLoader(data, batch_size=None, num_workers=2, persistent_workers=True)
    first = _epoch(data, 2, loader=loader)
    data.set_epoch(1)
    second = _epoch(data, 2, loader=loader)
    fresh = WindowIterableDataset(tab, ds, **options)
    fresh.set_epoch(1)
    reference = _epoch(fresh, 2)
    assert len(second) == len(reference)
    for a, b in zip(second, reference, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not all(np.array_equal(a, b) for a, b in zip(first, second, strict=False))


@pytest.mark.parametrize("source", ["numpy", "zarr"])
def test_start_resumes_the_loaders_epoch_with_workers(source, tmp_path):
    """start=k with 2 workers gives the loader's batches k, k+1, ... of the full epoch
    (each worker skipped k of its own before: 2k batches lost); from zarr too, shared
    by slabs (refused before: the shares differed in batches)."""
    ds = small(time=24)
    if source == "zarr":
        ds.chunk({"time": 6}).to_zarr(tmp_path / "s.zarr", consolidated=False)
        ds = xr.open_zarr(tmp_path / "s.zarr", consolidated=False)
    tab = xt.WindowTabularizer(input_dims={"time": 3}, target=NEXT_DAY)
    options = dict(batch_size=20, shuffle=True, random_state=4)
    full = _epoch(WindowIterableDataset(tab, ds, **options), 2)
    for k in (1, 2, 3):
        resumed = _epoch(WindowIterableDataset(tab, ds, start=k, **options), 2)
        assert len(resumed) == len(full) - k
        for a, b in zip(resumed, full[k:], strict=True):
            np.testing.assert_array_equal(a, b)


def test_workers_augment_with_streams_of_their_own():
    """Each worker's batch k draws from its own stream (worker 0 and worker 1 flipped
    alike before); one process and the same seed repeat exactly."""
    ds = small(time=12)
    tab = xt.WindowTabularizer(input_dims={"time": 3}, target=NEXT_DAY)

    def mark(X, y, coords, rng):  # each batch's label: its generator's first draw
        return X, np.full_like(y, rng.random()), coords

    data = WindowIterableDataset(tab, ds, batch_size=20, augment=mark, random_state=1)
    draws = [float(b[1][0]) for b in DataLoader(data, batch_size=None, num_workers=2)]
    assert draws[0] != draws[1] and len(set(draws)) == len(draws)
    again = [float(b[1][0]) for b in DataLoader(data, batch_size=None, num_workers=2)]
    assert draws == again


def test_ranks_without_a_common_seed_are_refused():
    ds = small(time=12)
    tab = xt.WindowTabularizer(input_dims={"time": 3}, target=NEXT_DAY)
    with pytest.raises(ValueError, match="needs random_state: the processes draw no common"):
        WindowIterableDataset(tab, ds, rank=0, world_size=2, shuffle=True)
    shared = WindowIterableDataset(tab, ds, rank=0, world_size=2, shuffle=True, random_state=3)
    assert shared.options.random_state == 3


def _rank_epoch(rank: int, world: int, store: str, out: str) -> None:
    """One rank of a two-process gloo group: its share of a shuffled epoch, seeded by
    nobody (rank 0 draws, the others receive)."""
    torch.distributed.init_process_group(
        "gloo", init_method=f"file://{store}", rank=rank, world_size=world
    )
    try:
        ds = small(time=12)
        tab = xt.WindowTabularizer(input_dims={"time": 3}, target=NEXT_DAY)
        data = WindowIterableDataset(tab, ds, batch_size=25, shuffle=True)
        rows = np.concatenate([b[0].numpy() for b in DataLoader(data, batch_size=None)])
        np.save(f"{out}.{rank}.npy", rows)
        # DDP over the same shares, 2 workers a rank: an all-reduce every step, so a
        # rank with fewer batches would leave the other waiting for ever (7 batches of
        # 25 shared 4 and 3 before)
        model = torch.nn.parallel.DistributedDataParallel(torch.nn.Linear(3, 1))
        sgd = torch.optim.SGD(model.parameters(), lr=1e-6)
        steps = 0
        for epoch in range(2):
            data.set_epoch(epoch)
            for x, y in DataLoader(data, batch_size=None, num_workers=2):
                sgd.zero_grad()
                ((model(x)[:, 0] - y) ** 2).mean().backward()
                sgd.step()
                steps += 1
        np.save(f"{out}.{rank}.steps.npy", np.array([steps, len(data)]))
    finally:
        torch.distributed.destroy_process_group()


@pytest.mark.slow
def test_ranks_shuffle_one_epoch_without_a_seed(tmp_path):
    """In distributed training without random_state, rank 0's seed reaches every rank:
    the ranks share one epoch, each sample once (each drew its own before: 34 of 140
    samples twice, 34 never); DDP trains 2 epochs on them without hanging."""
    import torch.multiprocessing as mp

    out = str(tmp_path / "rows")
    ranks = mp.spawn(_rank_epoch, args=(2, str(tmp_path / "store"), out), nprocs=2, join=False)
    deadline = time.monotonic() + 120
    while not ranks.join(timeout=1):
        if time.monotonic() > deadline:
            for process in ranks.processes:
                process.kill()
            pytest.fail("the ranks hung (a rank waiting in DDP's all-reduce)")
    shares = [np.load(f"{out}.{r}.npy") for r in range(2)]
    steps = [np.load(f"{out}.{r}.steps.npy").tolist() for r in range(2)]
    assert steps == [[8, 4], [8, 4]]  # 7 batches cut to 8: 4 a rank, 2 epochs
    tab = xt.WindowTabularizer(input_dims={"time": 3}, target=NEXT_DAY)
    X = tab.fit(small(time=12)).transform(small(time=12))
    assert not set(as_set(shares[0])) & set(as_set(shares[1]))
    assert as_set(np.concatenate(shares)) == as_set(X)
