"""xt.xgboost.train: xgboost on a window table never built whole, in one process or on
every worker of a LocalCluster (2 worker processes, a zarr store): the booster of a
single-process in-memory QuantileDMatrix on the same rows within 1 % RMSE, every
tabularizer option honoured, pages removed, early stopping, a lost worker a clear error
within a minute."""

from __future__ import annotations

import glob
import os
import signal
import tempfile
import time

import numpy as np
import pytest
import xarray as xr

import xbatcher_tab as xt

xgboost = pytest.importorskip("xgboost")
distributed = pytest.importorskip("distributed")

import xbatcher_tab.xgboost as xtx  # noqa: E402

PARAMS = {"max_depth": 4, "eta": 0.3, "max_bin": 64}


def rmse(booster, X, y, names) -> float:
    pred = booster.predict(xgboost.DMatrix(X, feature_names=names))
    return float(np.sqrt(np.mean((pred - y) ** 2)))


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    path = tmp_path_factory.mktemp("train") / "s.zarr"
    ds = xt.datasets.tasmax(time=30, lat=16, lon=20, nan_fraction=0.01, random_state=0)
    ds.chunk({"time": 5}).to_zarr(path, consolidated=False)
    return ds, xr.open_zarr(path, consolidated=False)


def table(**options):
    return xt.WindowTabularizer(
        {"lat": 3, "lon": 3, "time": 3},
        input_overlap={"lat": 2, "lon": 2, "time": 2},
        target=xt.Target("tasmax", lead={"time": 1}),
        dropna="target",
        **options,
    )


def in_memory(tab, ds, rounds=15):
    X, y, coords = tab.tabularize(ds)
    w = tab.sample_weight(coords) if tab.layout_.weight is not None else None
    names = list(tab.get_feature_names_out())
    dtrain = xgboost.QuantileDMatrix(X, y, weight=w, max_bin=64, feature_names=names)
    return xgboost.train(PARAMS, dtrain, rounds), X, y, names


@pytest.mark.parametrize("mode", ["external", "memory"])
def test_one_process_equals_the_in_memory_model(mode, store, tmp_path, monkeypatch):
    """client=None: the same rows, in batches, give the model of the whole table (with
    a mask, weights and NaN labels dropped); the pages' folder is gone afterwards."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # this test's own
    ds, lazy = store
    tab = table(where=ds.lat > float(ds.lat[3]), weight="coslat").fit(ds)
    reference, X, y, names = in_memory(tab, ds)
    out = xtx.train(None, PARAMS, tab, lazy, 15, mode=mode, batch_size=1500)
    assert out["booster"].num_boosted_rounds() == 15
    assert rmse(out["booster"], X, y, names) == pytest.approx(
        rmse(reference, X, y, names), rel=0.01
    )
    assert list(tmp_path.iterdir()) == []


@pytest.fixture(scope="module")
def client():
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            memory_limit="1.5GB",
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


@pytest.mark.slow
def test_two_workers_train_one_model_within_a_percent(store, client):
    ds, lazy = store
    tab = table().fit(ds)
    reference, X, y, names = in_memory(tab, ds)
    before = sorted(client.scheduler_info()["workers"])
    held_out = lazy.isel(time=slice(20, None))
    out = xtx.train(
        client,
        PARAMS,
        tab,
        lazy,
        15,
        mode="external",
        batch_size=1500,
        evals=[(held_out, "late")],
    )
    assert rmse(out["booster"], X, y, names) == pytest.approx(
        rmse(reference, X, y, names), rel=0.01
    )
    assert len(out["history"]["late"]["rmse"]) == 15
    assert sorted(client.scheduler_info()["workers"]) == before  # none restarted
    pages = client.run(
        lambda dask_worker: glob.glob(
            os.path.join(dask_worker.local_directory, "xbatcher-tab-xgboost-*")
        )
    )
    assert all(found == [] for found in pages.values())
    # early stopping on held-out days, as xgboost.train does it
    stopped = xtx.train(
        client,
        {**PARAMS, "eta": 1.0, "max_depth": 8},
        tab,
        lazy.isel(time=slice(0, 20)),
        200,
        evals=[(held_out, "late")],
        early_stopping_rounds=3,
        batch_size=1500,
    )
    assert stopped["booster"].num_boosted_rounds() < 200
    assert len(stopped["history"]["late"]["rmse"]) == stopped["booster"].num_boosted_rounds()


LOADS: list[int] = []  # this process's unpicklings of a CountedModel


class CountedModel:
    """A model that notes each time it is unpickled in a process."""

    def __init__(self, model) -> None:
        self.model = model

    def predict(self, X):
        return self.model.predict(np.nan_to_num(X))  # the store has missing cells

    def __setstate__(self, state) -> None:
        self.__dict__.update(state)
        LOADS.append(os.getpid())


def _loads() -> int:  # run on a worker: by reference, so the worker's own LOADS
    return len(LOADS)


@pytest.mark.slow
def test_the_cluster_predicts_to_zarr_sending_the_model_once_per_worker(store, client, tmp_path):
    """xt.predict on dask data under a client: one task per slab, the model sent to each
    worker once (not once per task); the lazy map written to zarr chunk by chunk equals
    the map predicted in memory, and so does a store filled region by region."""
    from sklearn.linear_model import Ridge

    ds, lazy = store
    tab = table().fit(ds)
    X, y, _ = tab.tabularize(ds)
    model = CountedModel(Ridge().fit(np.nan_to_num(X), y))
    expected = xt.predict(model, tab, ds)
    pred = xt.predict(model, tab, lazy)
    assert pred.chunks is not None  # lazy: nothing predicted yet
    slabs = len(lazy.chunks["time"])
    assert slabs >= 4
    before = client.run(_loads)
    pred.to_dataset().to_zarr(tmp_path / "map.zarr", consolidated=False)
    loads = {w: n - before[w] for w, n in client.run(_loads).items()}
    assert sum(loads.values()) <= len(loads) < slabs, loads  # once per worker at most
    written = xr.open_zarr(tmp_path / "map.zarr", consolidated=False)["tasmax"]
    xr.testing.assert_allclose(written.load(), expected, rtol=0, atol=1e-6)
    # a store filled a region at a time: each piece of the data with the window's
    # history before it, its own days written (forecast=False: the data's own days)
    days = 27  # regions of 10, 10 and 7 days, written last first
    whole = xt.predict(model, tab, ds.isel(time=slice(0, days)), forecast=False)
    whole.to_dataset().chunk({"time": 10}).to_zarr(
        tmp_path / "regions.zarr", compute=False, consolidated=False
    )
    for lo in reversed(range(0, days, 10)):
        hi = min(lo + 10, days)
        piece = lazy.isel(time=slice(max(lo - 3, 0), hi))  # 3-day windows, lead 1
        part = xt.predict(model, tab, piece, forecast=False).isel(time=slice(lo - hi, None))
        part.drop_vars(["lat", "lon"]).chunk({"time": 10}).to_dataset().to_zarr(
            tmp_path / "regions.zarr", region={"time": slice(lo, hi)}, consolidated=False
        )
    regions = xr.open_zarr(tmp_path / "regions.zarr", consolidated=False)["tasmax"]
    xr.testing.assert_allclose(regions.load(), whole, rtol=0, atol=1e-6)


@pytest.mark.slow
def test_a_worker_lost_mid_training_is_a_clear_error_within_a_minute(store, client):
    """A worker killed once training has started: the call raises naming the lost
    worker (no hang), within a minute."""
    ds, lazy = store
    tab = table().fit(ds)
    workers = sorted(client.scheduler_info()["workers"])
    pids = client.run(os.getpid)  # asked now: a worker busy training answers late
    import threading

    errors, results = [], []

    def run():
        try:
            results.append(
                xtx.train(
                    client, PARAMS, tab, lazy, 100000, mode="memory", batch_size=1500, timeout=20
                )
            )
        except Exception as error:  # noqa: BLE001 - recorded, checked below
            errors.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    deadline = time.monotonic() + 60

    def training() -> bool:  # the training tasks themselves (not the counts before)
        running = [k for keys in client.processing().values() for k in keys]
        return sum(str(k).startswith("xbatcher-tab-xgboost-train") for k in running) == 2

    while not training():
        assert time.monotonic() < deadline
        time.sleep(0.2)
    time.sleep(2)  # training has started
    os.kill(pids[workers[1]], signal.SIGKILL)
    killed = time.monotonic()
    thread.join(timeout=60)
    assert not thread.is_alive(), "train hung after a worker was lost"
    assert time.monotonic() - killed < 60
    assert len(errors) == 1, (errors, results)
    assert "left while xgboost trained" in str(errors[0])


def test_empty_data_and_odd_names_are_met(store):
    """A where that keeps no training sample, or evals with none, is refused by name
    (xgboost said "Iterative DMatrix must have at least 1 batch"); an evals name with a
    '/' trains in external mode too (it was a path of the pages); evals are whole
    under sample."""
    ds, lazy = store
    tab = table(where=ds.lat > float(ds.lat[3])).fit(ds)
    south = lazy.isel(lat=slice(0, 3))
    with pytest.raises(ValueError, match="evals 'south' gives 0 sample"):
        xtx.train(None, PARAMS, tab, lazy, 2, evals=[(south, "south")])
    with pytest.raises(ValueError, match="data gives 0 sample"):
        xtx.train(None, PARAMS, tab, south, 2)
    late = lazy.isel(time=slice(20, None))
    out = xtx.train(
        None,
        PARAMS,
        tab,
        lazy,
        3,
        mode="external",
        evals=[(late, "held/out")],
        sample=0.2,
        random_state=0,
    )
    X, y, _ = tab.tabularize(late)
    pred = out["booster"].predict(
        xgboost.DMatrix(X, feature_names=list(tab.get_feature_names_out()))
    )
    assert out["history"]["held/out"]["rmse"][-1] == pytest.approx(
        float(np.sqrt(np.mean((pred - y) ** 2))), rel=1e-4
    )
