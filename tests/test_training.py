"""partial_fit and the xgboost DataIter against their in-memory equivalents."""

from __future__ import annotations

import numpy as np
import pytest
import xgboost
from sklearn.linear_model import SGDClassifier, SGDRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import xbatcher_tab as xt

from .support import with_backend


@pytest.fixture(scope="module")
def data(next_day):
    ds = xt.datasets.tasmax(time=16, lat=14, lon=18)
    tab = next_day().fit(ds)
    return ds, tab


@pytest.mark.parametrize("batch_size", [1, 2, 50, "n", "n+42"])
def test_partial_fit_standard_scaler_equals_fit(data, batch_size, backend):
    ds, tab = data
    X = tab.transform(ds)
    n = len(X)
    size = {"n": n, "n+42": n + 42}.get(batch_size, batch_size)
    if size == 1:  # one sample per batch: keep it quick on a smaller grid
        ds = ds.isel(time=slice(0, 5), lat=slice(0, 6), lon=slice(0, 6))
        X = tab.transform(ds)
    source = with_backend(ds, backend, {"time": 3})
    streamed = xt.fit_batches(StandardScaler(), tab, source, batch_size=size, random_state=0)
    whole = StandardScaler().fit(X)
    np.testing.assert_allclose(streamed.mean_, whole.mean_, rtol=1e-6)
    np.testing.assert_allclose(streamed.var_, whole.var_, rtol=1e-4)
    assert streamed.n_samples_seen_ == len(X)


def test_pipeline_trains_steps_in_turn_and_learns(data):
    ds, tab = data
    model = make_pipeline(StandardScaler(), SGDRegressor(random_state=0))
    xt.fit_batches(model, tab, ds, batch_size=256, epochs=3, random_state=1)
    X, y, _ = tab.tabularize(ds)
    scaler = model[0]
    np.testing.assert_allclose(scaler.mean_, X.mean(axis=0, dtype=np.float64), rtol=1e-5)
    pred = model.predict(X)
    assert np.mean((pred - y) ** 2) < 0.2 * np.var(y)
    # the same seed repeats the run exactly
    again = make_pipeline(StandardScaler(), SGDRegressor(random_state=0))
    xt.fit_batches(again, tab, ds, batch_size=256, epochs=3, random_state=1)
    np.testing.assert_array_equal(again[-1].coef_, model[-1].coef_)


def test_classes_pass_through_and_progress(data, capsys):
    ds, tab = data
    ds = ds.assign(hot=(ds.tasmax > float(ds.tasmax.median())).astype("int8"))
    ctab = xt.WindowTabularizer(
        input_dims={"time": 2}, variables=["tasmax"], target=xt.Target("hot", lead={"time": 1})
    )
    clf = xt.fit_batches(
        SGDClassifier(random_state=0),
        ctab,
        ds,
        batch_size=300,
        classes=np.array([0, 1]),
        progress=True,
    )
    assert list(clf.classes_) == [0, 1]
    assert "epoch 1/1" in capsys.readouterr().err  # the tqdm bar


def test_partial_fit_errors(data):
    ds, tab = data
    with pytest.raises(TypeError, match="XGBRegressor has no partial_fit"):
        xt.fit_batches(xgboost.XGBRegressor(), tab, ds)
    with pytest.raises(ValueError, match="epochs must be a positive integer, got 0"):
        xt.fit_batches(StandardScaler(), tab, ds, epochs=0)
    no_target = xt.WindowTabularizer(input_dims={"time": 2})
    with pytest.raises(ValueError, match="fit_batches needs labels"):
        xt.fit_batches(StandardScaler(), no_target, ds)


PARAMS = {"max_depth": 3, "eta": 0.3, "nthread": 1, "max_bin": 64, "seed": 0}


@pytest.mark.parametrize("shuffle", [False, True])
def test_quantile_dmatrix_from_iterator_trains_the_in_memory_model(data, shuffle):
    ds, tab = data
    X, y, coords = tab.tabularize(ds)
    if shuffle:  # the in-memory table in the iterator's (seeded) order
        batches = tab.iter_batches(ds, batch_size=700, shuffle=True, random_state=3)
        order = [b.coords.index for b in batches]
        at = coords.index.get_indexer(np.concatenate(order))
        X, y = X[at], y[at]
    names = list(tab.get_feature_names_out())
    it = xt.WindowDataIter(tab, ds, batch_size=700, shuffle=shuffle, random_state=3)
    streamed = xgboost.QuantileDMatrix(it, max_bin=64)
    whole = xgboost.QuantileDMatrix(X, y, max_bin=64, feature_names=names)
    assert streamed.num_row() == len(y) and streamed.feature_names == names
    a = xgboost.train(PARAMS, streamed, num_boost_round=10)
    b = xgboost.train(PARAMS, whole, num_boost_round=10)
    test = xgboost.DMatrix(X, feature_names=names)
    np.testing.assert_array_equal(a.predict(test), b.predict(test))


def test_iterator_reads_dask_data_like_numpy(data):
    ds, tab = data
    batches = []
    for source in (ds, ds.chunk({"time": 5, "lat": 4})):
        seen: list = []
        it = xt.WindowDataIter(tab, source, batch_size=333)
        while it.next(lambda seen=seen, **kw: seen.append((kw["data"], kw["label"]))):
            pass
        batches.append(seen)
    for (xa, ya), (xb, yb) in zip(*batches, strict=True):
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(ya, yb)


def test_every_pass_gives_the_same_batches(data):
    ds, tab = data
    it = xt.WindowDataIter(tab, ds, batch_size=500, shuffle=True)
    passes = []
    for _ in range(2):
        seen: list = []

        def take(seen=seen, **kw):
            seen.append(kw["data"][:, 0].copy())

        while it.next(take):
            pass
        it.reset()
        passes.append(np.concatenate(seen))
    np.testing.assert_array_equal(passes[0], passes[1])


def test_ext_mem_quantile_dmatrix_trains(data, tmp_path):
    ds, tab = data
    X, y, _ = tab.tabularize(ds)
    it = xt.WindowDataIter(tab, ds, batch_size=600, cache_prefix=str(tmp_path / "cache"))
    dtrain = xgboost.ExtMemQuantileDMatrix(it, max_bin=64)
    booster = xgboost.train(PARAMS, dtrain, num_boost_round=20)
    names = list(tab.get_feature_names_out())
    pred = booster.predict(xgboost.DMatrix(X, feature_names=names))
    assert np.mean((pred - y) ** 2) < 0.2 * np.var(y)


class Recorder:
    """An estimator that records the labels of every batch it is given."""

    def __init__(self):
        self.batches: list[np.ndarray] = []

    def partial_fit(self, X, y, sample_weight=None):
        self.batches.append(np.asarray(y).copy())
        self.n_features_in_ = X.shape[1]
        return self

    def transform(self, X):
        return X


def test_start_resumes_the_run_and_every_path_shares_an_epochs_order(data):
    """start=k resumes a run after its first k batches, over the epochs (it skipped k
    batches of every epoch: 100 samples lost in each of epochs 2 and 3); a Pipeline's
    earlier step trained already is not passed over again. Epoch e of fit_batches is
    the order of iter_batches for its seed (e = 0) and of the torch and Keras loaders'
    epoch e (fit_batches and the loaders began at another order than iter_batches)."""
    ds, tab = data
    options = dict(batch_size=500, epochs=3, random_state=0, prefetch=0)
    full = xt.fit_batches(Recorder(), tab, ds, **options).batches
    per_epoch = -(-len(tab.transform(ds)) // 500)
    assert len(full) == 3 * per_epoch
    for k in (2, per_epoch + 1):
        resumed = xt.fit_batches(Recorder(), tab, ds, start=k, **options).batches
        assert len(resumed) == len(full) - k
        for a, b in zip(resumed, full[k:], strict=True):
            np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="past the run's last batch"):
        xt.fit_batches(Recorder(), tab, ds, start=3 * per_epoch, **options)
    trained = make_pipeline(StandardScaler().fit(tab.transform(ds)), Recorder())
    xt.fit_batches(trained, tab, ds, start=2, **options)
    assert trained[0].n_samples_seen_ == len(tab.transform(ds))  # not passed over again
    with pytest.raises(ValueError, match="Pipeline's StandardScaler is not trained"):
        xt.fit_batches(make_pipeline(StandardScaler(), Recorder()), tab, ds, start=2, **options)
    # one order per epoch, on every path
    epoch0 = [b.y for b in tab.iter_batches(ds, batch_size=500, shuffle=True, random_state=0)]
    for a, b in zip(full[:per_epoch], epoch0, strict=True):
        np.testing.assert_array_equal(a, b)
    torch = pytest.importorskip("torch")
    from xbatcher_tab.torch import WindowIterableDataset

    stream = WindowIterableDataset(tab, ds, batch_size=500, shuffle=True, random_state=0)
    loader = torch.utils.data.DataLoader(stream, batch_size=None)
    for epoch in range(3):
        stream.set_epoch(epoch)
        got = [y.numpy() for _, y in loader]
        for a, b in zip(got, full[epoch * per_epoch : (epoch + 1) * per_epoch], strict=True):
            np.testing.assert_array_equal(a, b)
    import os

    os.environ.setdefault("KERAS_BACKEND", "torch")
    pytest.importorskip("keras")
    from xbatcher_tab.keras import WindowPyDataset

    keras_batches = WindowPyDataset(tab, ds, batch_size=500, shuffle=True, random_state=0)
    for epoch in range(2):
        got = [keras_batches[k][1] for k in range(len(keras_batches))]
        for a, b in zip(got, full[epoch * per_epoch : (epoch + 1) * per_epoch], strict=True):
            np.testing.assert_array_equal(a, b)
        keras_batches.on_epoch_end()
    # row_order="random": the same sets in the epoch's permuted order, on every path
    permuted = [
        b.y
        for b in tab.iter_batches(
            ds, batch_size=500, shuffle=True, random_state=0, row_order="random"
        )
    ]
    keras_permuted = WindowPyDataset(
        tab, ds, batch_size=500, shuffle=True, random_state=0, row_order="random"
    )
    for k, b in enumerate(permuted):
        np.testing.assert_array_equal(keras_permuted[k][1], b)
        np.testing.assert_array_equal(np.sort(b), np.sort(epoch0[k]))
    assert not any(np.array_equal(a, b) for a, b in zip(permuted, epoch0, strict=True))
