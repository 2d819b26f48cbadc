"""The public API: one page lists it, it imports bare, its parameter rules are data, and
the older forms of calls still work with a warning that names the release."""

from __future__ import annotations

import importlib
import inspect
import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from sklearn.base import clone
from sklearn.linear_model import Ridge, SGDRegressor

import xbatcher_tab as xt
from xbatcher_tab import export
from xbatcher_tab._core.params import Rule

ROOT = Path(__file__).resolve().parents[1]
PUBLIC = sorted(p.stem for p in (ROOT / "xbatcher_tab").glob("*.py") if not p.stem.startswith("_"))


def documented() -> tuple[set[int], str]:
    """The objects docs/api.rst documents (by identity), and the page's text."""
    text = (ROOT / "docs/api.rst").read_text()
    found = set()
    for kind, path in re.findall(r"^\.\. (auto\w+):: (\S+)", text, re.M):
        if kind == "automodule":
            found.add(id(importlib.import_module(path)))
            continue
        module, _, name = path.rpartition(".")
        found.add(id(getattr(importlib.import_module(module), name)))
    return found, text


@pytest.mark.parametrize("module", ["__init__", *PUBLIC])
def test_every_public_name_is_on_the_api_page(module):
    pytest.importorskip("xgboost") if module == "xgboost" else None
    pytest.importorskip("torch") if module in ("torch", "keras") else None
    mod = importlib.import_module(
        "xbatcher_tab" if module == "__init__" else f"xbatcher_tab.{module}"
    )
    ids, _ = documented()
    missing = [n for n in mod.__all__ if n != "__version__" and id(getattr(mod, n)) not in ids]
    assert not missing, f"{mod.__name__}.__all__ names missing from docs/api.rst: {missing}"


def test_every_method_of_the_tabularizer_is_on_the_api_page():
    _, text = documented()
    block = text[text.index("WindowTabularizer\n") : text.index("xbatcher_tab.Target")]
    own = [
        name
        for name, obj in inspect.getmembers(xt.WindowTabularizer, callable)
        if not name.startswith("_") and inspect.unwrap(obj).__module__.startswith("xbatcher_tab")
    ]
    assert own and [n for n in own if not re.search(rf"\b{n}\b", block)] == []


def test_all_holds_what_users_pass_or_receive():
    assert "BatchOptions" not in xt.__all__ and "WindowSpec" not in xt.__all__
    assert "WindowDataIter" not in xt.__all__  # it needs xgboost: an attribute, lazily
    with pytest.warns(FutureWarning, match=r"xt.BatchOptions \(an internal type\)"):
        assert xt.BatchOptions().batch_size == 65536


BARE = """
import builtins, sys
real = builtins.__import__
def blocked(name, *args, **kwargs):
    if name.split(".")[0] in {"xgboost", "torch", "keras", "numba", "tensorflow"}:
        raise ImportError(f"no {name} here")
    return real(name, *args, **kwargs)
builtins.__import__ = blocked
from xbatcher_tab import *
ds = datasets.tasmax(time=6, lat=4, lon=5)
tab = WindowTabularizer({"time": 2}, target=Target("tasmax", lead={"time": 1}))
X, y, coords = tab.tabularize(ds)
print(len(X), get_option("engine"))
"""


@pytest.mark.slow
@pytest.mark.parametrize(
    ("flags", "engine"), [([], ""), (["-OO"], "numpy")], ids=["core only", "python -OO"]
)
def test_star_import_needs_only_the_core(flags, engine):
    """``from xbatcher_tab import *`` and a table with xgboost, torch, keras and numba
    all missing; and under ``python -OO``, whose docstrings are None, in a new process
    whose engine comes from the environment variable."""
    env = {**os.environ, "XBATCHER_TAB_ENGINE": engine}
    proc = subprocess.run(
        [sys.executable, *flags, "-c", BARE], capture_output=True, text=True, cwd=ROOT, env=env
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.split() == ["40", engine or "auto"]


# -- parameter rules as data ---------------------------------------------------------


def test_every_parameter_of_the_tabularizer_has_a_rule():
    rules = xt.WindowTabularizer._parameter_rules
    params = list(inspect.signature(xt.WindowTabularizer.__init__).parameters)[1:]
    assert list(rules) == params
    assert all(isinstance(r, Rule) for r in rules.values())


def _rule_holders():
    torch = pytest.importorskip("xbatcher_tab.torch")
    keras = pytest.importorskip("xbatcher_tab.keras")
    return [
        (xt.predict, True),
        (xt.fit_batches, True),
        (xt.datasets.tasmax, False),
        (export.export_parquet, True),
        (xt.WindowBlockSplit.__init__, True),
        (torch.WindowDataset.__init__, True),
        (torch.WindowIterableDataset.__init__, True),
        (keras.WindowPyDataset.__init__, True),
    ]


def test_public_functions_declare_their_rules():
    for func, keyword_only in _rule_holders():
        holder = inspect.unwrap(func, stop=lambda f: hasattr(f, "__parameter_rules__"))
        rules = getattr(holder, "__parameter_rules__", None)
        assert rules, f"{func.__qualname__} declares its parameters' rules"
        params = inspect.signature(func).parameters
        assert set(rules) <= set(params), func.__qualname__
        if keyword_only:
            kinds = {params[name].kind for name in rules}
            assert kinds == {inspect.Parameter.KEYWORD_ONLY}, f"{func.__qualname__}: options"


@pytest.fixture(scope="module")
def fitted():
    ds = xt.datasets.tasmax(time=8, lat=4, lon=5)
    tab = xt.WindowTabularizer({"time": 2}, target=xt.Target("tasmax", lead={"time": 1}))
    X, y, _ = tab.tabularize(ds)
    return ds, tab, Ridge().fit(X, y)


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"method": 1}, TypeError, r"method must be 'predict' or 'predict_proba', got 1 \(int\)"),
        ({"method": "proba"}, ValueError, "method must be 'predict' or 'predict_proba', got"),
        ({"shape": None}, TypeError, "shape must be 'flat' or 'window', got None"),
        ({"forecast": "yes"}, TypeError, "forecast must be None, True or False, got 'yes'"),
        ({"batch_size": 0}, ValueError, "batch_size must be a positive integer, got 0"),
        ({"batch_size": 2.0}, TypeError, r"batch_size must be a positive integer, got 2.0"),
        ({"progress": 1}, TypeError, r"progress must be True or False, got 1 \(int\)"),
    ],
)
def test_predict_rules_name_the_parameter_and_the_kind_of_error(fitted, options, error, message):
    ds, tab, model = fitted
    with pytest.raises(error, match=message):
        xt.predict(model, tab, ds, **options)


@pytest.mark.parametrize(
    ("params", "error", "message"),
    [
        ({"scale": "yes"}, TypeError, "scale must be True or False, got 'yes'"),
        ({"outlier_action": 1}, TypeError, "outlier_action must be 'nan', 'clip' or 'drop'"),
        ({"outlier_action": "keep"}, ValueError, "outlier_action must be 'nan', 'clip' or"),
        ({"dropna": "all"}, ValueError, "dropna must be True, False or 'target', got 'all'"),
        ({"dropna": 1}, TypeError, r"dropna must be True, False or 'target', got 1 \(int\)"),
        ({"n_jobs": 0}, ValueError, "n_jobs must be None, a positive integer"),
        ({"center_reference": None}, TypeError, "center_reference must be True or False"),
        ({"boundary": {"time": ("periodic", "360")}}, TypeError, "needs a positive period"),
    ],
)
def test_tabularizer_rules_name_the_parameter_and_the_kind_of_error(params, error, message):
    ds = xt.datasets.tasmax(time=8, lat=4, lon=5)
    with pytest.raises(error, match=message):
        xt.WindowTabularizer({"time": 2}, **params).fit(ds)


# -- deprecations: the older forms work, with a warning naming the release ------------


def test_partial_fit_is_now_fit_batches(fitted):
    ds, tab, _ = fitted
    new = xt.fit_batches(SGDRegressor(random_state=0), tab, ds, batch_size=16, random_state=0)
    with pytest.warns(FutureWarning, match=r"xt.partial_fit.*removed in 0.3.0.*fit_batches"):
        old = xt.partial_fit(SGDRegressor(random_state=0), tab, ds, batch_size=16, random_state=0)
    np.testing.assert_array_equal(old.coef_, new.coef_)


def test_window_model_takes_the_model_first(fitted):
    ds, tab, _ = fitted
    new = xt.WindowModel(Ridge(), tab).fit(ds)
    assert isinstance(clone(new).estimator, Ridge)
    old = xt.WindowModel(tab, Ridge())
    with pytest.warns(FutureWarning, match=r"WindowModel\(tab, estimator\).*0.3.0"):
        old.fit(ds)
    xr.testing.assert_equal(old.predict(ds), new.predict(ds))
    with pytest.raises(TypeError, match="needs the estimator, then tab, a WindowTabularizer"):
        xt.WindowModel(Ridge(), Ridge()).fit(ds)


def test_options_by_position_still_work_with_a_warning(fitted):
    ds, tab, model = fitted
    with pytest.warns(FutureWarning, match=r"passing batch_size, method to predict by position"):
        old = xt.predict(model, tab, ds, 7, "predict")
    xr.testing.assert_equal(old, xt.predict(model, tab, ds, batch_size=7))
    with pytest.warns(FutureWarning, match=r"WindowTabularizer\(\.\.\., input_overlap=\.\.\.\)"):
        positional = xt.WindowTabularizer({"time": 2}, {"time": 1})
    assert positional.get_params()["input_overlap"] == {"time": 1}
    with pytest.warns(FutureWarning, match="rmse"):
        old = xt.metrics.rmse(ds.tasmax, ds.tasmax + 1, "coslat")
    assert float(old) == pytest.approx(1.0)
    with pytest.warns(FutureWarning, match="WindowBlockSplit"):
        assert xt.WindowBlockSplit(tab, 3).n_splits == 3
    with pytest.raises(TypeError, match="got multiple values for 'batch_size'"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            xt.predict(model, tab, ds, 7, batch_size=8)


def test_one_name_for_a_seed():
    new = xt.datasets.tasmax(time=3, lat=3, lon=4, random_state=5)
    with pytest.warns(FutureWarning, match=r"tasmax\(seed=\.\.\.\).*tasmax\(random_state=\.\.\.\)"):
        old = xt.datasets.tasmax(time=3, lat=3, lon=4, seed=5)
    xr.testing.assert_identical(old, new)
    assert not new.identical(xt.datasets.tasmax(time=3, lat=3, lon=4))


def test_data_is_prepared_once_at_each_public_entry(fitted, monkeypatch):
    """Each entry puts the user's data in the fitted order once (for dask-backed data
    that is a lazy graph, built once), and everything below takes it as it is."""
    from xbatcher_tab._table import slabs

    ds, tab, model = fitted
    calls = []
    real = slabs.in_layout_order

    def counted(layout, data):
        calls.append(1)
        return real(layout, data)

    monkeypatch.setattr(slabs, "in_layout_order", counted)
    reversed_lat = ds.isel(lat=slice(None, None, -1))  # put back in the fitted order
    for run in (
        lambda d: xt.predict(model, tab, d),
        lambda d: tab.tabularize(d),
        lambda d: list(tab.iter_batches(d, batch_size=50, shuffle=True, random_state=0)),
        lambda d: tab.to_dask(d)[0].compute(),
    ):
        calls.clear()
        run(reversed_lat)
        assert len(calls) == 1
    expected = xt.predict(model, tab, ds)
    xr.testing.assert_equal(xt.predict(model, tab, reversed_lat), expected)


def test_the_older_window_model_order_still_tunes():
    """``WindowModel(tab, estimator)`` (warned) searches the same grid as the model-first
    form: ``tab__...`` reaches the tabularizer, ``estimator__...`` the estimator."""
    from sklearn.model_selection import GridSearchCV

    ds = xt.datasets.tasmax(time=30, lat=6, lon=7)
    label = xt.Target("tasmax", lead={"time": 1})
    grid = {"tab__input_dims": [{"time": 2}, {"time": 3}], "estimator__alpha": [0.1, 1e4]}
    results = []
    for order in ("new", "old"):
        tab = xt.WindowTabularizer({"time": 2}, target=label)
        model = xt.WindowModel(Ridge(), tab) if order == "new" else xt.WindowModel(tab, Ridge())
        cv = xt.WindowBlockSplit(xt.WindowTabularizer({"time": 3}, target=label), n_splits=3)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            search = GridSearchCV(model, grid, cv=cv).fit(xt.WindowData(ds))
        results.append((search.best_params_, round(search.best_score_, 10)))
    assert results[0] == results[1]
    assert results[0][0]["estimator__alpha"] == 0.1  # the grid's best is known
    with pytest.raises(ValueError, match="tabularizer__... parameters need the deprecated"):
        xt.WindowModel(Ridge(), tab).set_params(tabularizer__input_dims={"time": 2})


def test_deprecation_warnings_point_at_the_callers_line(fitted):
    ds, tab, model = fitted
    calls = [
        lambda: xt.datasets.tasmax(time=3, lat=3, lon=4, seed=5),
        lambda: xt.predict(model, tab, ds, 7),
        lambda: xt.partial_fit(SGDRegressor(), tab, ds, batch_size=64),
        lambda: xt.WindowModel(tab, Ridge()).fit(ds),
        lambda: xt.WindowTabularizer({"time": 2}, {"time": 1}),
    ]
    for call in calls:
        with pytest.warns(FutureWarning, match="deprecated since xbatcher-tab") as record:
            call()
        assert record[0].filename == __file__


def test_seed_and_random_state_together_are_refused():
    with pytest.raises(TypeError, match=r"random_state \(or the deprecated seed\), not both"):
        xt.datasets.tasmax(time=3, lat=3, lon=4, seed=1, random_state=2)
    with pytest.warns(FutureWarning):
        fresh = xt.datasets.tasmax(time=3, lat=3, lon=4, seed=None)  # new values, as before
    assert fresh.sizes["time"] == 3


def test_messages_name_the_function_the_value_and_the_way(fitted):
    ds, tab, model = fitted
    with pytest.raises(TypeError, match=r"engine must be .*, got 3 \(int\)"):
        xt.set_options(engine=3)
    with pytest.raises(TypeError, match=r"copy_budget\['chunk_bytes'\] must be a number"):
        xt.set_options(copy_budget={"chunk_bytes": "1"})
    with pytest.raises(TypeError, match=r"copy_budget must be None or a dict .*got 5 \(int\)"):
        xt.set_options(copy_budget=5)
    with pytest.raises(TypeError, match="predict: got an unexpected keyword argument 'bogus'"):
        xt.predict(model, tab, ds, bogus=1)
    with pytest.raises(TypeError, match="fit_batches: too many .* keyword-only: epochs=..."):
        xt.fit_batches(SGDRegressor(), tab, ds, 1000)
    with pytest.raises(TypeError, match=r"xt.fit_batches takes \(model, tab, data\), the model"):
        xt.fit_batches(tab, SGDRegressor(), ds)


def test_a_numpy_string_is_a_string():
    ds = xt.datasets.tasmax(time=8, lat=4, lon=5, nan_fraction=0.2)
    label = xt.Target("tasmax", lead={"time": 1})
    plain = xt.WindowTabularizer({"time": 2}, target=label, dropna="target").tabularize(ds)
    numpy = xt.WindowTabularizer({"time": 2}, target=label, dropna=np.str_("target"))
    np.testing.assert_array_equal(numpy.tabularize(ds).X, plain.X)
