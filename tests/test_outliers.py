"""Outliers (rules learnt exactly, or within the stated rank error; each action equal
to a brute-force table on every path), references left out of the features, and
feature values back on the window."""

from __future__ import annotations

import re

import numpy as np
import pytest
import xarray as xr
from sklearn.linear_model import Ridge

import xbatcher_tab as xt
from xbatcher_tab._fit.outliers import RANK_ERROR
from xbatcher_tab.testing import reference_table

from .support import concat_batches, load_example

NEXT_DAY = xt.Target("tasmax", lead={"time": 1})
WINDOW = dict(input_dims={"lat": 3, "lon": 3, "time": 2}, input_overlap={"lat": 2, "lon": 2})


def spiky(
    fraction: float = 0.001, seed: int = 0, jump=(80, 120), **sizes
) -> tuple[xr.Dataset, np.ndarray]:
    """tasmax with spikes (+/- ``jump`` K) in a ``fraction`` of its cells, and where."""
    ds = xt.datasets.tasmax(**{"time": 20, "lat": 30, "lon": 40, **sizes})
    rng = np.random.default_rng(seed)
    spikes = rng.random(ds.tasmax.shape) < fraction
    jump = rng.uniform(*jump, spikes.sum()) * rng.choice([-1, 1], spikes.sum())
    values = ds.tasmax.values.copy()
    values[spikes] += jump.astype(np.float32)
    return ds.copy(data={"tasmax": values}), spikes


def test_bounds_equal_numpy_on_the_grid():
    ds, _ = spiky()
    cells = ds.tasmax.values.astype(np.float64).ravel()
    tab = xt.WindowTabularizer(**WINDOW, outliers={"tasmax": ("zscore", 3)}, target=NEXT_DAY).fit(
        ds
    )
    lo, hi = tab.layout_.outliers["tasmax"]
    assert lo == pytest.approx(cells.mean() - 3 * cells.std(), rel=1e-12)
    assert hi == pytest.approx(cells.mean() + 3 * cells.std(), rel=1e-12)
    q = xt.WindowTabularizer(**WINDOW, outliers={"*": ("quantile", 0.01, 0.99)}).fit(ds)
    expected = np.quantile(cells, [0.01, 0.99], method="inverted_cdf")
    np.testing.assert_array_equal(q.layout_.outliers["tasmax"], expected)
    summary = q.outliers_["tasmax"]
    flagged = int(((cells < expected[0]) | (cells > expected[1])).sum())
    assert summary["flagged"] == flagged and summary["cells"] == cells.size
    assert summary["fraction"] == pytest.approx(flagged / cells.size)
    lazy = q.outlier_cells(ds.chunk({"time": 5}))
    assert int(lazy.tasmax.sum()) == flagged


def test_partial_fit_over_pieces_equals_fit():
    ds, _ = spiky(time=30)
    pieces = [ds.isel(time=slice(a, b)) for a, b in ((0, 7), (7, 19), (19, 30))]
    rules = {"tasmax": ("zscore", 2.5)}
    whole = xt.WindowTabularizer(**WINDOW, outliers=rules).fit(ds)
    parts = xt.WindowTabularizer(**WINDOW, outliers=rules)
    for piece in pieces:
        parts.partial_fit(piece)
    np.testing.assert_allclose(
        parts.layout_.outliers["tasmax"], whole.layout_.outliers["tasmax"], rtol=1e-12
    )
    # quantiles from three pieces, and from dask chunks: within the stated rank error
    cells = np.sort(ds.tasmax.values.astype(np.float64).ravel())
    rules = {"tasmax": ("quantile", 0.003, 0.95)}
    parts = xt.WindowTabularizer(**WINDOW, outliers=rules)
    for piece in pieces:
        parts.partial_fit(piece)
    chunked = xt.WindowTabularizer(**WINDOW, outliers=rules).fit(ds.chunk({"time": 4}))
    for tab in (parts, chunked):
        for q, bound in zip((0.003, 0.95), tab.layout_.outliers["tasmax"], strict=True):
            rank = np.searchsorted(cells, bound, side="right") / cells.size
            assert abs(rank - q) <= RANK_ERROR + 3 / cells.size, (q, rank)
            assert bound in cells  # a value a cell has, as the docs say (was between)
    # pieces of fewer than 10,001 cells are kept whole: their union's quantiles exactly
    small = xt.WindowTabularizer(**WINDOW, outliers={"tasmax": ("quantile", 0.5, 1.0)})
    small.fit(ds.chunk({"time": 4}))
    exact = np.quantile(cells, [0.5, 1.0], method="inverted_cdf")
    np.testing.assert_array_equal(small.layout_.outliers["tasmax"], exact)


def test_every_spike_is_found_and_no_clean_cell_with_a_range():
    ds, spikes = spiky(fraction=0.001, jump=(150, 200), time=30, lat=40, lon=50)
    tab = xt.WindowTabularizer(**WINDOW, outliers={"tasmax": ("range", 150.0, 350.0)}).fit(ds)
    found = tab.outlier_cells(ds).tasmax.values
    assert spikes.sum() > 50
    np.testing.assert_array_equal(found, spikes)  # every spike, and nothing else
    assert tab.outliers_["tasmax"]["flagged"] == spikes.sum()


def brute_force(ds, action, bounds, **window):
    """The table of ``ds`` with the rule applied to its cells by xarray, by looping
    over window positions: nan or clip on the cells, or drop samples whose window or
    label holds an outlier."""
    lo, hi = bounds
    out = ds.tasmax < lo
    out = out | (ds.tasmax > hi)
    if action == "nan":
        fixed = ds.assign(tasmax=ds.tasmax.where(~out))
    elif action == "clip":
        fixed = ds.assign(tasmax=ds.tasmax.clip(lo, hi))
    else:
        fixed = ds
    X, y, coords = reference_table(fixed, target="tasmax", lead={"time": 1}, **window)
    if action == "drop":
        marks = ds.assign(tasmax=out.astype(np.float64))
        M, My, _ = reference_table(marks, target="tasmax", lead={"time": 1}, **window)
        keep = (M.max(axis=1) == 0) & (My == 0)
        X, y, coords = X[keep], y[keep], coords[keep]
    return X, y, coords


@pytest.mark.parametrize("action", ["nan", "clip", "drop"])
def test_each_action_equals_brute_force_on_every_path(action):
    ds, _ = spiky(fraction=0.01, time=10, lat=8, lon=9)
    tab = xt.WindowTabularizer(
        input_dims={"lat": 3, "lon": 3, "time": 2},
        input_overlap={"lat": 2, "lon": 2, "time": 1},
        target=NEXT_DAY,
        outliers={"tasmax": ("range", 200.0, 330.0)},
        outlier_action=action,
    )
    X, y, coords = tab.tabularize(ds)
    window = dict(
        input_dims={"lat": 3, "lon": 3, "time": 2}, input_overlap={"lat": 2, "lon": 2, "time": 1}
    )
    X_ref, y_ref, c_ref = brute_force(ds, action, (200.0, 330.0), **window)
    np.testing.assert_array_equal(coords.index, c_ref.index)
    np.testing.assert_allclose(X, X_ref, rtol=1e-6)
    np.testing.assert_allclose(y, y_ref, rtol=1e-6)
    if action == "nan":
        assert np.isnan(X).any() and np.isnan(y).any()
    if action == "clip":
        assert X.max() <= 330.0 and X.min() >= 200.0
    # shuffled batches, dask blocks and the torch loader: the same rows
    batches = list(
        tab.iter_batches(ds.chunk({"time": 4}), batch_size=37, shuffle=True, random_state=0)
    )
    Xb, yb, cb = concat_batches(batches)
    order = coords.index.get_indexer(cb.index)
    np.testing.assert_array_equal(Xb, X[order])
    Xd, _, _ = tab.to_dask(ds.chunk({"time": 3}))
    np.testing.assert_array_equal(Xd.compute(), X)
    torch = pytest.importorskip("torch")
    from xbatcher_tab.torch import WindowDataset

    rows = WindowDataset(tab, ds)
    assert len(rows) == len(X)
    np.testing.assert_array_equal(torch.stack([rows[i][0] for i in range(len(X))]).numpy(), X)
    # predict: the map's cells from the same rows (labels are not read there, so under
    # "drop" it also predicts the samples whose only outlier is their label)
    model = Ridge().fit(np.nan_to_num(X), np.nan_to_num(y))
    pred = xt.predict(_NanSafe(model), tab, ds).sel(time=ds.time).values
    inside = tab.to_grid(_NanSafe(model).predict(X), coords, like=ds).values
    known = ~np.isnan(inside)
    np.testing.assert_allclose(pred[known], inside[known], rtol=1e-6)
    if action != "drop":
        np.testing.assert_array_equal(np.isnan(pred), np.isnan(inside))


class _NanSafe:
    """A model that predicts rows with NaN (as trees do), for the maps above."""

    def __init__(self, model):
        self.model = model

    def predict(self, X):
        return self.model.predict(np.nan_to_num(X))


def test_a_rule_on_the_target_covers_the_labels():
    ds, spikes = spiky(fraction=0.01, time=10, lat=8, lon=9)
    tab = xt.WindowTabularizer(
        input_dims={"lat": 3, "lon": 3},
        variables=["tasmax"],
        target="tasmax",
        outliers={"tasmax": ("range", 200.0, 330.0)},
        outlier_action="drop",
    )
    X, y, _ = tab.tabularize(ds)
    assert y.min() >= 200.0 and y.max() <= 330.0
    assert len(y) < 10 * 6 * 7


def test_bad_rules_are_named():
    ds = xt.datasets.tasmax(time=6, lat=4, lon=5)
    cases = [
        ({"nope": ("zscore", 3)}, ValueError, "outliers names \\['nope'\\]"),
        ({"*": ("iqr", 3)}, ValueError, "must be 'range', 'zscore' or 'quantile'"),
        ({"*": ("range", 5, 1)}, ValueError, "needs lo < hi"),
        ({"*": ("quantile", 0.9, 0.1)}, ValueError, "needs 0 <= q_lo < q_hi <= 1"),
        ({"*": "zscore"}, TypeError, "must be a rule such as"),
        ("zscore", TypeError, "outliers must be a dict"),
    ]
    for rules, error, match in cases:
        with pytest.raises(error, match=match):
            xt.WindowTabularizer(input_dims={"time": 2}, outliers=rules).fit(ds)
    with pytest.raises(ValueError, match="outlier_action must be 'nan', 'clip' or 'drop'"):
        xt.WindowTabularizer(input_dims={"time": 2}, outlier_action="zero").fit(ds)
    with pytest.raises(ValueError, match="which dtype int32 cannot hold"):
        xt.WindowTabularizer(
            input_dims={"time": 2}, dtype="int32", outliers={"*": ("zscore", 3)}
        ).fit(ds.round())


@pytest.mark.parametrize("center", ["anchor", "mean"])
def test_center_reference_false_drops_only_the_reference_columns(center):
    ds = xt.datasets.tasmax(time=8, lat=6, lon=7, static=True)
    options = dict(**WINDOW, target=NEXT_DAY, center=center, stats=("mean", "max"))
    with_ref = xt.WindowTabularizer(**options)
    without = xt.WindowTabularizer(**options, center_reference=False)
    X, _, _ = with_ref.tabularize(ds)
    X0, _, _ = without.tabularize(ds)
    names = list(with_ref.get_feature_names_out())
    kept = [
        i
        for i, n in enumerate(names)
        if not n.endswith(f"@{center}")
        or (center == "mean" and n.endswith("@mean") and n.split("@")[0] == "orog")
    ]
    if center == "mean":  # the window mean is a summary again once it is no reference
        assert "tasmax@mean" in without.get_feature_names_out()
        ref_columns = [names.index("tasmax@mean"), names.index("orog@mean")]
        expected = np.delete(X, ref_columns, axis=1)
        X0 = np.delete(
            X0,
            [list(without.get_feature_names_out()).index(f"{v}@mean") for v in ("orog", "tasmax")],
            axis=1,
        )
        np.testing.assert_array_equal(X0, expected)
        return
    assert list(without.get_feature_names_out()) == [names[i] for i in kept]
    np.testing.assert_array_equal(X0, X[:, kept])


def parse(name: str) -> tuple[str, dict]:
    """A window cell's feature name -> (variable, {dim: offset})."""
    variable, cells = re.fullmatch(r"(\w+)\((.*)\)(?:-\w+)?", name).groups()
    return variable, {d: int(o) for d, o in re.findall(r"(\w+)([+-]\d+)", cells)}


def test_feature_map_puts_each_feature_at_its_offset():
    ds = xt.datasets.tasmax(time=8, lat=6, lon=7, static=True)
    tab = xt.WindowTabularizer(
        **WINDOW,
        target=NEXT_DAY,
        center={"tasmax": "anchor"},
        stats=("max",),
        coord_features={"time.dayofyear": "cyclic"},
    ).fit(ds)
    names = list(tab.get_feature_names_out())
    mapped = tab.feature_map(np.arange(len(names)))
    assert dict(mapped.tasmax.sizes) == {"lat_offset": 3, "lon_offset": 3, "time_offset": 2}
    assert dict(mapped.orog.sizes) == {"lat_offset": 3, "lon_offset": 3}
    for i, name in enumerate(names):
        if "(" in name:
            variable, offsets = parse(name)
            cell = mapped[variable].sel({f"{d}_offset": o for d, o in offsets.items()})
            assert int(cell) == i, name
        else:  # references, summaries, coordinate features: by name
            assert int(mapped[name]) == i
    # by name, as xgboost's get_score gives them (missing names count 0)
    by_name = tab.feature_map(
        {"tasmax(lat+1;lon-1;time-2)-anchor": 5.0, "anchor.time.dayofyear.sin": 2.0}
    )
    assert float(by_name.tasmax.sel(lat_offset=1, lon_offset=-1, time_offset=-2)) == 5.0
    assert float(by_name.tasmax.sum()) == 5.0
    assert float(by_name["anchor.time.dayofyear.sin"]) == 2.0
    with pytest.raises(ValueError, match="does not have"):
        tab.feature_map({"nope": 1.0})
    with pytest.raises(ValueError, match="one value per feature"):
        tab.feature_map(np.zeros(3))


def test_feature_map_places_a_lead_along_a_dim_not_windowed():
    """A lead along lon with windows over lat and time reads one cell a step along lon:
    the map puts it at that offset, as the names do (it lost the offset)."""
    ds = xt.datasets.tasmax(time=8, lat=6, lon=7)
    tab = xt.WindowTabularizer(
        {"lat": 3, "time": 2}, target=xt.Target("tasmax", lead={"lon": 1})
    ).fit(ds)
    names = list(tab.get_feature_names_out())
    mapped = tab.feature_map(np.arange(len(names)))
    assert dict(mapped.tasmax.sizes) == {"lat_offset": 3, "time_offset": 2, "lon_offset": 1}
    for i, name in enumerate(names):
        variable, offsets = parse(name)
        assert set(offsets) == {"lat", "time", "lon"}
        assert int(mapped[variable].sel({f"{d}_offset": o for d, o in offsets.items()})) == i


def test_feature_map_of_models():
    ds = xt.datasets.tasmax(time=12, lat=8, lon=9)
    tab = xt.WindowTabularizer(**WINDOW, target=NEXT_DAY)
    X, y, _ = tab.tabularize(ds)
    ridge = Ridge().fit(X, y)
    coef = tab.feature_map(ridge)
    np.testing.assert_array_equal(coef.tasmax.values.ravel(), ridge.coef_)
    xgboost = pytest.importorskip("xgboost")
    booster = xgboost.train(
        {"max_depth": 2}, xgboost.DMatrix(X, y, feature_names=list(tab.get_feature_names_out())), 5
    )
    gain = tab.feature_map(booster.get_score(importance_type="gain"))
    scores = booster.get_score(importance_type="gain")
    assert float(gain.tasmax.sum()) == pytest.approx(sum(scores.values()))
    used = gain.tasmax.where(gain.tasmax > 0, drop=True)
    assert used.count() == len(scores)
    from sklearn.inspection import permutation_importance

    result = permutation_importance(ridge, X[:200], y[:200], n_repeats=2, random_state=0)
    perm = tab.feature_map(result)
    np.testing.assert_array_equal(perm.tasmax.values.ravel(), result.importances_mean)
    # a Booster or a Pipeline: which values is a choice, refused by name (crashed with
    # "setting an array element with a sequence" and "float() argument")
    with pytest.raises(TypeError, match=r"xgboost Booster.*get_score\(importance_type="):
        tab.feature_map(booster)
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    pipe = make_pipeline(StandardScaler(), Ridge()).fit(X, y)
    with pytest.raises(TypeError, match=r"Pipeline.*pass its last step, pipeline\[-1\]"):
        tab.feature_map(pipe)
    np.testing.assert_array_equal(tab.feature_map(pipe[-1]).tasmax.values.ravel(), pipe[-1].coef_)


def test_spikes_hurt_and_outlier_rules_recover_the_score():
    scores = load_example("outliers_spikes").main(time=30, lat=40, lon=48, verbose=False)
    assert scores["spiky"] > 1.5 * scores["clean"]
    assert scores["dropped"] < 1.05 * scores["clean"]
    assert 0.5 < scores["kept"] < 1.0


@pytest.mark.parametrize("dtype", ["int16", "int32", "uint16"])
def test_clip_clips_integer_data(dtype):
    """``outlier_action="clip"`` on integer data (decoded counts, say) clips to the
    integers inside the bounds, in X and y alike (it left 0 and 1000 in place before)."""
    ds = xt.datasets.tasmax(time=6, lat=4, lon=5)
    ds["tasmax"] = ds.tasmax.round().astype(dtype)
    ds["tasmax"][0, 0, 0] = 0
    ds["tasmax"][1, 1, 1] = 1000
    rule = {"tasmax": ("range", 150.5, 350)}
    tab = xt.WindowTabularizer(
        {"time": 2},
        target=xt.Target("tasmax", lead={"time": 1}),
        dtype=dtype,
        outliers=rule,
        outlier_action="clip",
    )
    X, y, _ = tab.tabularize(ds)
    by_hand = ds.copy()
    by_hand["tasmax"] = ds.tasmax.clip(151, 350).astype(dtype)  # integers inside the bounds
    X_ref, y_ref, _ = reference_table(
        by_hand, {"time": 2}, target="tasmax", lead={"time": 1}, dtype=dtype
    )
    np.testing.assert_array_equal(X, X_ref)
    np.testing.assert_array_equal(y, y_ref)
    assert X.dtype == np.dtype(dtype) and X.min() == 151 and X.max() == 350
    assert tab.outliers_["tasmax"]["flagged"] == 2
    with pytest.raises(ValueError, match="needs an integer inside the bounds"):
        xt.WindowTabularizer(
            {"time": 2},
            outliers={"tasmax": ("range", 200.2, 200.7)},
            outlier_action="clip",
            dtype=dtype,
        ).tabularize(ds)


def test_labels_keep_the_targets_dtype_whatever_the_action():
    """An integer target under a rule: clip and drop give labels of its dtype; 'nan',
    which would need a float (it turned y into float32 before), is refused."""
    ds = xt.datasets.tasmax(time=6, lat=4, lon=5)
    ds["tasmax"] = ds.tasmax.round().astype("int32")
    ds["tasmax"][2, 1, 1] = 1000
    label = xt.Target("tasmax", lead={"time": 1})
    rule = {"tasmax": ("range", 150, 350)}
    for action in ("clip", "drop"):
        tab = xt.WindowTabularizer({"time": 2}, target=label, outliers=rule, outlier_action=action)
        assert tab.tabularize(ds).y.dtype == np.int32
    with pytest.raises(ValueError, match="would make outlier labels NaN, which the target"):
        xt.WindowTabularizer({"time": 2}, target=label, outliers=rule).fit(ds)


@pytest.mark.parametrize("action", ["nan", "clip", "drop"])
def test_scaling_learns_from_the_cells_the_table_holds(action):
    """A pole decoded as 0 K under a ("range", 150, 350) rule: scale=True takes its
    mean and std from the cells the rows are made of, the outliers left out ("nan",
    "drop") or clipped ("clip"), by hand (they counted the zeros: mean 0.35 and std
    0.21 in the scaled features); pieces give the statistics of their union."""
    ds = xt.datasets.tasmax(time=8, lat=6, lon=7)
    ds["tasmax"][:, 0, :] = 0.0
    rule = {"tasmax": ("range", 150, 350)}
    tab = xt.WindowTabularizer(
        {"time": 2},
        target=xt.Target("tasmax", lead={"time": 1}),
        scale=True,
        outliers=rule,
        outlier_action=action,
    )
    tab.fit(ds)
    cells = ds.tasmax.values.astype(np.float64)
    cells = np.clip(cells, 150, 350) if action == "clip" else cells[(cells >= 150) & (cells <= 350)]
    mean, std = tab.layout_.scaling["tasmax"]
    assert mean == pytest.approx(cells.mean(), rel=1e-9)
    assert std == pytest.approx(cells.std(), rel=1e-6)
    for piece in (ds.isel(time=slice(0, 3)), ds.isel(time=slice(3, None))):
        tab.partial_fit(piece) if piece.time[0] != ds.time[0] else tab.fit(piece)
    assert tab.layout_.scaling["tasmax"] == pytest.approx((mean, std), rel=1e-9)


def test_one_sided_rules_clip_integers_and_scaling_sees_the_clipped_cells():
    """("range", -inf, 280) with clip on integer data clips the top only (it crashed);
    the scaling's moments are those of the integer cells the table holds."""
    ds = xt.datasets.tasmax(time=6, lat=4, lon=5)
    ds["tasmax"] = (ds.tasmax * 10).round().astype("int32")
    tab = xt.WindowTabularizer(
        {"time": 2},
        outliers={"tasmax": ("range", -np.inf, 2800.5)},
        outlier_action="clip",
        dtype="int32",
    )
    X = tab.fit(ds).transform(ds)
    assert X.max() == 2800 and X.min() == ds.tasmax.min()
    scaled = xt.WindowTabularizer(
        {"time": 2},
        outliers={"tasmax": ("range", -np.inf, 2800.5)},
        outlier_action="clip",
        scale=True,
    ).fit(ds)
    cells = np.minimum(ds.tasmax.values, 2800).astype(np.float64)
    mean, std = scaled.layout_.scaling["tasmax"]
    assert mean == pytest.approx(cells.mean(), rel=1e-12) and std == pytest.approx(cells.std())


@pytest.mark.parametrize("rule", [("zscore", 2.5), ("quantile", 0.01, 0.99)])
def test_flagged_after_pieces_counts_every_cell_against_the_final_bounds(rule, monkeypatch):
    """outliers_["flagged"] after partial_fit is the cells of all pieces outside the
    bounds learnt from all of them, counted by hand (each piece counted against the
    bounds known when it came before: 418 where the final bounds flag 483); where the
    final bounds lie deeper than the kept tails, the summary says it is not exact."""
    ds, _ = spiky(time=30, fraction=0.01)
    pieces = [ds.isel(time=slice(a, b)) for a, b in ((0, 7), (7, 19), (19, 30))]
    parts = xt.WindowTabularizer(**WINDOW, outliers={"tasmax": rule})
    for piece in pieces:
        parts.partial_fit(piece)
    lo, hi = parts.layout_.outliers["tasmax"]
    cells = ds.tasmax.values.astype(np.float64).ravel()
    by_hand = int(((cells < lo) | (cells > hi)).sum())
    summary = parts.outliers_["tasmax"]
    assert summary["flagged"] == by_hand and summary["exact"] is True
    assert summary["cells"] == cells.size
    assert int(parts.outlier_cells(ds).tasmax.sum()) == by_hand
    monkeypatch.setattr("xbatcher_tab._fit.outliers.TAIL_CELLS", 5)
    short = xt.WindowTabularizer(**WINDOW, outliers={"tasmax": rule})
    for piece in pieces:
        short.partial_fit(piece)
    assert short.outliers_["tasmax"]["exact"] is False  # tails of 5 cells: not enough


@pytest.mark.parametrize("action", ["nan", "clip"])
@pytest.mark.parametrize("rule", [("zscore", 2.0), ("quantile", 0.02, 0.97)])
def test_scaling_over_pieces_under_bounds_learnt_from_the_data(rule, action, monkeypatch):
    """scale=True over partial_fit pieces with a rule learnt from the data: the mean
    and std of the cells of every piece as the table holds them under the final bounds,
    by hand (each piece was judged by the bounds known when it came); where the tails
    kept fall short, a warning says the statistics are those of the pieces as judged."""
    ds, _ = spiky(time=30, fraction=0.01)
    pieces = [ds.isel(time=slice(a, b)) for a, b in ((0, 7), (7, 19), (19, 30))]
    options = dict(scale=True, outliers={"tasmax": rule}, outlier_action=action)
    tab = xt.WindowTabularizer(**WINDOW, **options)
    for piece in pieces:
        tab.partial_fit(piece)
    lo, hi = tab.layout_.outliers["tasmax"]
    cells = ds.tasmax.values
    if action == "clip":
        cells = np.clip(cells, np.float32(lo), np.float32(hi)).astype(np.float64)
    else:
        cells = cells[(cells >= lo) & (cells <= hi)].astype(np.float64)
    mean, std = tab.layout_.scaling["tasmax"]
    assert mean == pytest.approx(cells.mean(), rel=1e-9)
    assert std == pytest.approx(cells.std(), rel=1e-7)
    monkeypatch.setattr("xbatcher_tab._fit.outliers.TAIL_CELLS", 5)
    short = xt.WindowTabularizer(**WINDOW, **options)
    with pytest.warns(UserWarning, match="moved past the 10,000 smallest or largest"):
        for piece in pieces:
            short.partial_fit(piece)


def test_scaling_over_pieces_survives_fill_values_among_the_cells():
    """Fill values of 1e20 never masked, under a quantile rule, scale=True over two
    pieces: the statistics of the cells inside the bounds, by hand (the moments of all
    cells less those outside lost every digit: std 1.56e10 for 9.88)."""
    rng = np.random.default_rng(0)
    values = 280 + 10 * rng.standard_normal((400, 50))
    values[rng.random(values.shape) < 5e-4] = 1e20
    ds = xr.Dataset({"v": (("time", "x"), values)})
    options = dict(input_dims={"time": 2}, scale=True, outliers={"v": ("quantile", 0.001, 0.999)})
    tab = xt.WindowTabularizer(**options)
    for piece in (ds.isel(time=slice(0, 200)), ds.isel(time=slice(200, None))):
        tab.partial_fit(piece)
    lo, hi = tab.layout_.outliers["v"]
    cells = values[(values >= lo) & (values <= hi)]
    mean, std = tab.layout_.scaling["v"]
    assert mean == pytest.approx(cells.mean(), rel=1e-12)
    assert std == pytest.approx(cells.std(), rel=1e-9)
    assert tab.outliers_["v"]["exact"] and tab.outliers_["v"]["flagged"] == values.size - cells.size
