"""WindowBlockSplit: no training window shares a step with any test window's span."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV, cross_val_score

import xbatcher_tab as xt
from xbatcher_tab.model_selection import WindowBlockSplit, WindowData


@given(
    st.integers(1, 6),  # window along time
    st.integers(0, 5),  # overlap
    st.integers(0, 3),  # lead (0: none)
    st.integers(2, 5),  # folds
    st.booleans(),  # time windowed or a sample dim
)
def test_no_training_window_touches_a_test_window(size, overlap, lead, n_splits, windowed):
    overlap = min(overlap, size - 1)
    ds = xt.datasets.tasmax(time=24, lat=3, lon=2)
    input_dims = {"time": size, "lat": 2} if windowed else {"lat": 2}
    input_overlap = {"time": overlap} if windowed else {}
    target = xt.Target("tasmax", lead={"time": lead}) if lead else None
    tab = xt.WindowTabularizer(input_dims=input_dims, input_overlap=input_overlap, target=target)
    X, y, coords = tab.tabularize(ds)
    anchors = ds.get_index("time").get_indexer(coords["time"])
    assume(len(np.unique(anchors)) >= n_splits)
    cv = WindowBlockSplit(tab, n_splits=n_splits, coord=ds["time"])
    width = size if windowed else 1
    # brute force: the time steps each sample reads
    if lead:
        steps = [set(range(a - lead - width + 1, a - lead + 1)) | {a} for a in anchors]
    else:
        steps = [set(range(a - width // 2, a - width // 2 + width)) for a in anchors]
    # brute force: per fold, the samples whose steps all lie clear of the test span
    expected_train = []
    for block in np.array_split(np.unique(anchors), n_splits):
        test = [i for i, a in enumerate(anchors) if block[0] <= a <= block[-1]]
        test_span = set().union(*(steps[i] for i in test))
        lo, hi = min(test_span), max(test_span)
        expected_train.append([i for i in range(len(X)) if all(t < lo or t > hi for t in steps[i])])
    if not all(expected_train):  # a fold without training sample is an error
        with pytest.raises(ValueError, match="has no training sample.*gap of"):
            list(cv.split(X, y, groups=coords))
        return
    tested = []
    for k, (train, test) in enumerate(cv.split(X, y, groups=coords)):
        assert len(test) and not set(train) & set(test)
        test_span = set().union(*(steps[i] for i in test))
        lo, hi = min(test_span), max(test_span)
        for i in train:
            assert all(t < lo or t > hi for t in steps[i])
        assert list(train) == expected_train[k]
        tested.extend(test)
    assert sorted(tested) == list(range(len(X)))  # every sample tested exactly once


def test_cross_val_score_and_grid_search(next_day):
    ds = xt.datasets.tasmax(time=40, lat=10, lon=12)
    tab = next_day()
    X, y, coords = tab.tabularize(ds)
    cv = WindowBlockSplit(tab, n_splits=4, coord=ds["time"])
    scores = cross_val_score(Ridge(), X, y, groups=coords, cv=cv)
    assert scores.shape == (4,) and np.all(scores > 0.5)
    alphas = [1e12, 0.1, 1e8]  # the first and the last shrink the weights towards nothing
    search = GridSearchCV(Ridge(), {"alpha": alphas}, cv=cv).fit(X, y, groups=coords)
    assert search.best_params_["alpha"] == 0.1  # known, and not the first
    by_alpha = dict(zip(alphas, search.cv_results_["mean_test_score"], strict=True))
    assert by_alpha[1e12] < by_alpha[1e8] < 0.5 < by_alpha[0.1]


def test_integer_positions_and_errors():
    ds = xt.datasets.tasmax(time=12, lat=2, lon=2)
    tab = xt.WindowTabularizer(input_dims={"time": 2}, target=xt.Target("tasmax", lead={"time": 1}))
    X, y, coords = tab.tabularize(ds)
    positions = ds.get_index("time").get_indexer(coords["time"])
    by_label = list(WindowBlockSplit(tab, n_splits=3, coord=ds["time"]).split(X, y, coords))
    by_position = list(WindowBlockSplit(tab, n_splits=3).split(X, y, positions))
    for (a, b), (c, d) in zip(by_label, by_position, strict=True):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, d)
    with pytest.raises(ValueError, match="needs the samples' positions"):
        next(WindowBlockSplit(tab, n_splits=3).split(X, y))
    with pytest.raises(ValueError, match="which has a coordinate: pass coord"):
        next(WindowBlockSplit(tab, n_splits=3).split(X, y, coords))
    with pytest.raises(ValueError, match="not integer positions: pass coord"):
        next(WindowBlockSplit(tab, n_splits=3).split(X, y, coords["time"].to_numpy()))
    with pytest.raises(ValueError, match="n_splits must be an integer >= 2, got 1"):
        WindowBlockSplit(tab, n_splits=1)
    with pytest.raises(ValueError, match="n_splits=40 is more than the 5 distinct"):
        next(WindowBlockSplit(tab, n_splits=40, coord=ds["time"]).split(X, y, coords))


@pytest.mark.parametrize("fitted", [True, False])
def test_unfitted_tabularizers_split_with_the_window_fit_would_learn(fitted):
    """The splitter's gap follows the window the tabularizer's parameters give, fitted
    or not: a periodic time (windows joining its two ends) cannot be split either way;
    a padded one splits the same folds either way."""
    ds = xt.datasets.tasmax(time=20, lat=3, lon=4)
    data = WindowData(ds, dim="time")

    def tab(kind):
        made = xt.WindowTabularizer(input_dims={"time": 3}, boundary={"time": kind})
        return made.fit(ds) if fitted else made

    with pytest.raises(ValueError, match="cannot split along 'time': it is periodic"):
        list(WindowBlockSplit(tab("periodic"), n_splits=4).split(data))
    folds = list(WindowBlockSplit(tab("pad"), n_splits=4).split(data))
    fitted_folds = list(WindowBlockSplit(tab("pad").fit(ds), n_splits=4).split(data))
    assert len(folds) == 4
    for (a, b), (c, d) in zip(folds, fitted_folds, strict=True):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, d)


def test_integer_labels_are_not_taken_for_positions():
    """An integer time coordinate of step 6: its labels are not positions. Without
    ``coord`` the frame is refused; with it no training window shares a step with a
    test window (read as positions, 144 did)."""
    ds = xt.datasets.tasmax(time=24, lat=3, lon=4).assign_coords(time=np.arange(24) * 6)
    tab = xt.WindowTabularizer(input_dims={"time": 3}, target=xt.Target("tasmax", lead={"time": 1}))
    X, y, coords = tab.tabularize(ds)
    with pytest.raises(ValueError, match="labels are not positions, even integer ones"):
        next(WindowBlockSplit(tab, n_splits=4).split(X, y, coords))
    steps = ds.get_index("time").get_indexer(coords["time"])
    for train, test in WindowBlockSplit(tab, n_splits=4, coord=ds["time"]).split(X, y, coords):
        used = {s for a in steps[test] for s in range(a - 3, a + 1)}  # window and label
        assert not any(set(range(a - 3, a + 1)) & used for a in steps[train])


def test_a_window_model_learns_from_every_piece_of_a_selection():
    """WindowModel.fit on a WindowData selection of two pieces (a training fold around
    a held-out block) learns scale and quantile bounds from the cells of both, by hand
    (it learnt them from the larger piece alone: 271.52 for 269.71)."""

    ds = xt.datasets.tasmax(time=30, lat=6, lon=7)
    train = WindowData(ds, dim="time")[np.r_[0:12, 18:30]]
    tab = xt.WindowTabularizer(
        {"lat": 3, "time": 3},
        input_overlap={"lat": 2, "time": 2},
        target=xt.Target("tasmax", lead={"time": 1}),
        scale=True,
        outliers={"tasmax": ("quantile", 0.05, 0.95)},
        outlier_action="clip",
    )
    model = xt.WindowModel(Ridge(), tab).fit(train)
    cells = np.concatenate(
        [ds.tasmax.isel(time=s).values.ravel() for s in (slice(0, 12), slice(18, 30))]
    )
    lo, hi = np.quantile(cells, [0.05, 0.95], method="inverted_cdf")
    np.testing.assert_array_equal(model.tab_.layout_.outliers["tasmax"], (lo, hi))
    clipped = np.clip(cells, lo, hi).astype(np.float64)
    mean, std = model.tab_.layout_.scaling["tasmax"]
    assert mean == pytest.approx(clipped.mean(), rel=1e-9)
    assert std == pytest.approx(clipped.std(), rel=1e-7)
