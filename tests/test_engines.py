"""Engines: the compiled (numba) gather gives the numpy engine's rows for any data,
ids, preprocessing, dtypes and threads; ``engine`` is an option resolved in one
place, and a missing or broken numba falls back to numpy (or is an error when numba
was asked for)."""

from __future__ import annotations

import dataclasses
import importlib
import sys
import warnings

import numpy as np
import pytest
import xarray as xr
from hypothesis import assume, given
from hypothesis import strategies as st

import xbatcher_tab as xt
from xbatcher_tab._engine import choice as _engine
from xbatcher_tab._engine import options
from xbatcher_tab._engine.runtime import CopyBudget, Runtime
from xbatcher_tab._table.slabs import load_table

from .strategies import tab_case
from .support import make_tab

numba_kernels = pytest.importorskip("xbatcher_tab._engine.numba_kernels")


def zero_signs_equal(X: np.ndarray) -> np.ndarray:
    """``X`` with -0.0 made +0.0: the numpy engine's BLAS centering may turn a -0.0
    it does not center into +0.0 (see ``center_columns``); every other bit must match."""
    return X + X.dtype.type(0) if X.dtype.kind == "f" else X


def assert_same_bits(a: np.ndarray, b: np.ndarray) -> None:
    assert a.dtype == b.dtype and a.shape == b.shape
    a, b = zero_signs_equal(a), zero_signs_equal(b)
    np.testing.assert_array_equal(a.view(f"u{a.itemsize}"), b.view(f"u{b.itemsize}"))


def tables(tab, ds, **budget):
    """The table of ``tab`` under each engine (with a copy budget, if given)."""
    runtime = tab._runtime()
    budget = CopyBudget(**budget) if budget else runtime.budget
    layout = tab.get_layout()
    numpy_table = load_table(
        layout, ds, runtime=dataclasses.replace(runtime, engine="numpy", budget=budget)
    )
    numba_table = load_table(
        layout, ds, runtime=dataclasses.replace(runtime, engine="numba", budget=budget)
    )
    assert numpy_table.copier.kernels is None
    return numpy_table, numba_table


@st.composite
def preprocessing(draw, kw, ds):
    """Random preprocessing options for a ``tab_case``."""
    options = {}
    if draw(st.booleans()):
        options["center"] = draw(st.sampled_from(["anchor", "mean"]))
        options["center_reference"] = draw(st.booleans())
    if draw(st.booleans()):
        options["stats"] = tuple(draw(st.sets(st.sampled_from(["mean", "std", "max"]), min_size=1)))
    if draw(st.booleans()):
        options["scale"] = True
    if draw(st.booleans()):
        d = draw(st.sampled_from(sorted(kw["input_dims"])))
        options["boundary"] = {d: "pad"}
    if draw(st.booleans()):
        options["outliers"] = {"*": ("zscore", draw(st.sampled_from([0.5, 1.5])))}
        options["outlier_action"] = draw(st.sampled_from(["nan", "clip", "drop"]))
    if draw(st.booleans()):
        options["coord_features"] = [draw(st.sampled_from(list(ds.dims)))]
    options["dtype"] = draw(st.sampled_from(["float32", "float64"]))
    return options


@pytest.mark.slow
@given(tab_case(), st.data())
def test_numba_rows_equal_numpy_rows(case, data):
    """Every path of the copy engine: whole blocks, sorted subsets, shuffled or
    repeated ids, rows put in place (``at``), split among threads, in small chunks."""
    ds, kw = case
    options = data.draw(preprocessing(kw, ds))
    n_jobs = data.draw(st.integers(1, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        tab = make_tab(kw, n_jobs=n_jobs, **options).fit(ds)  # every drawn option is valid
        budget = dict(thread_min_bytes=1, chunk_bytes=data.draw(st.sampled_from([1, 64, 1 << 22])))
        if data.draw(st.booleans()):  # windows read from the copy expanded at once
            budget.update(payback=0.0, short_run_bytes=1 << 30)
        numpy_table, numba_table = tables(tab, ds, **budget)
    assert numba_table.copier.kernels is not None  # the compiled kernel runs
    ids = numpy_table.valid_ids()
    np.testing.assert_array_equal(numba_table.valid_ids(), ids)
    assume(ids.size)
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    kind = data.draw(st.sampled_from(["all", "sorted subset", "shuffled", "repeated"]))
    if kind == "sorted subset":
        ids = ids[rng.random(ids.size) < data.draw(st.floats(0.05, 1.0))]
    elif kind == "shuffled":
        ids = rng.permutation(ids)[: data.draw(st.integers(1, ids.size))]
    elif kind == "repeated":
        ids = rng.choice(ids, size=data.draw(st.integers(1, 2 * ids.size)))
    assume(ids.size)
    assert_same_bits(numba_table.X(ids), numpy_table.X(ids))
    if numpy_table.labelled:
        assert_same_bits(numba_table.y(ids), numpy_table.y(ids))
    extra = data.draw(st.integers(0, 3))
    rows = rng.permutation(ids.size + extra)[: ids.size]
    placed = []
    for table in (numpy_table, numba_table):
        big = np.full((ids.size + extra, table.n_features), -7, dtype=table.layout.dtype)
        table.X(ids, out=big, at=rows)
        placed.append(big)
    assert_same_bits(placed[1], placed[0])


@pytest.mark.slow
@given(tab_case(), st.data())
def test_batches_and_tables_equal_under_both_engines(case, data):
    """The public paths (tabularize, shuffled batches) under each engine."""
    ds, kw = case
    options = {}
    if data.draw(st.booleans()):
        options["center"] = data.draw(st.sampled_from(["anchor", "mean"]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        tab = make_tab(kw, **options).fit(ds)
        size = data.draw(st.integers(1, max(1, tab.count_samples(ds))))
        results = []
        for engine in ("numpy", "numba"):
            with xt.set_options(engine=engine):
                X, y, coords = tab.tabularize(ds)
                batches = list(tab.iter_batches(ds, batch_size=size, shuffle=True, random_state=3))
            results.append((X, y, coords, batches))
    (X0, y0, c0, b0), (X1, y1, c1, b1) = results
    assert_same_bits(X1, X0)
    np.testing.assert_array_equal(y1, y0)
    assert c1.equals(c0)
    assert len(b1) == len(b0)
    for a, b in zip(b1, b0, strict=True):
        assert_same_bits(a.X, b.X)
        assert a.coords.index.equals(b.coords.index)


@pytest.mark.parametrize("dtype", ["int16", "int64", "uint8", "float16"])
def test_integer_and_half_dtypes(dtype):
    """Integer rows are compiled too (centering wraps like numpy's); float16, which
    numba lacks, is copied by numpy under either engine."""
    rng = np.random.default_rng(0)
    ds = xr.Dataset({"v": (("t", "x"), rng.integers(0, 100, (9, 11)).astype("float64"))})
    tab = xt.WindowTabularizer(input_dims={"t": 3, "x": 4}, center="anchor", dtype=dtype).fit(ds)
    numpy_table, numba_table = tables(tab, ds)
    assert (numba_table.copier.kernels is None) == (dtype == "float16")
    ids = rng.permutation(numpy_table.valid_ids())
    assert_same_bits(numba_table.X(ids), numpy_table.X(ids))


def test_a_shuffled_gather_of_the_notebook_grid(next_day):
    """The notebook's 9x9x9 windows, centered on the window mean with stats, shuffled:
    the same rows as numpy's, and equal to windows cut by hand."""
    ds = xt.datasets.tasmax(time=14, lat=20, lon=24)
    nine = {"lat": 9, "lon": 9, "time": 9}
    tab = next_day(nine, center="mean", stats=("std",), n_jobs=2).fit(ds)
    numpy_table, numba_table = tables(tab, ds, thread_min_bytes=1)
    ids = np.random.default_rng(1).permutation(numpy_table.valid_ids())[:500]
    X = numba_table.X(ids)
    assert_same_bits(X, numpy_table.X(ids))
    pos = numba_table.copier.positions(ids[:3])
    v = ds.tasmax.transpose("lat", "lon", "time").values  # features: lat, lon, time
    for i in range(3):
        t, la, lo = (int(pos[d][i]) for d in ("time", "lat", "lon"))
        window = v[la : la + 9, lo : lo + 9, t : t + 9].astype(np.float64)
        mean = np.float32(window.mean())
        np.testing.assert_allclose(X[i, :729], window.ravel().astype(np.float32) - mean, atol=1e-5)


@pytest.mark.parametrize("center", [None, "anchor", "mean"])
@pytest.mark.parametrize("order", ["all", "sorted subset", "shuffled", "sparse"])
def test_the_kernel_reads_long_runs_of_the_expanded_copy(next_day, center, order):
    """Once it pays, the kernel reads a variable's windows from its copy expanded along
    the last window dim (9 runs of 81 cells rather than 81 of 9): the same rows, bit
    for bit, as the numpy engine and as the kernel on the array itself; strides along
    the last window dim, a margin (boundary) and two variables included. Rows sparser
    than 1 in 32 of the samples they span read the array itself (no copy built)."""
    ds = xt.datasets.tasmax(time=16, lat=14, lon=19)
    ds["pr"] = ds.tasmax * 0.5 + 3
    tab = next_day(
        {"lat": 5, "lon": 4, "time": 3},
        input_overlap={"lat": 4, "lon": 2, "time": 2},
        center=center,
        boundary={"lat": "pad"},
        scale=center is not None,
    ).fit(ds)
    layout = tab.get_layout()
    eager = CopyBudget(payback=0.0, short_run_bytes=1 << 30)
    never = CopyBudget(payback=1e12)
    numpy_table = load_table(layout, ds, runtime=Runtime(engine="numpy", budget=eager))
    ids = numpy_table.valid_ids()
    rng = np.random.default_rng(3)
    if order == "sorted subset":
        ids = ids[rng.random(ids.size) < 0.2]
    elif order == "shuffled":
        ids = rng.permutation(ids)
    elif order == "sparse":
        ids = rng.permutation(ids[::40])
    expected = numpy_table.X(ids)
    kernel = center is not None or order != "all"  # plain whole blocks: numpy's copy
    kernel = kernel and order != "sparse"
    for budget, expanded in ((eager, kernel), (never, False)):
        table = load_table(layout, ds, runtime=Runtime(engine="numba", budget=budget))
        assert_same_bits(table.X(ids), expected)
        copies = [f.expanded_copy is not None for f in table.copier.features]
        assert copies == [expanded] * 2, copies


def test_every_path_runs_the_compiled_kernel(monkeypatch, next_day):
    """to_dask blocks, lazy and eager predict and the torch dataset gather with the
    compiled kernel under numba (counted) and give the numpy engine's values."""
    from sklearn.linear_model import LinearRegression

    DataLoader = pytest.importorskip("torch.utils.data").DataLoader

    calls = []
    gather = numba_kernels.gather_windows
    monkeypatch.setattr(
        numba_kernels, "gather_windows", lambda *a, **k: calls.append(1) or gather(*a, **k)
    )
    ds = xt.datasets.tasmax(time=16, lat=10, lon=12)
    tab = next_day(center="anchor").fit(ds)
    X, y, _ = tab.tabularize(ds)
    model = LinearRegression().fit(X, y)
    ids = np.random.default_rng(2).permutation(len(X))[:64]
    paths = {
        "to_dask": lambda lazy: tab.to_dask(lazy)[0].compute(),
        "predict": lambda lazy: xt.predict(model, tab, ds, batch_size=50).values,
        "lazy predict": lambda lazy: xt.predict(model, tab, lazy, batch_size=50).compute(),
        "torch": lambda lazy: next(
            iter(DataLoader(xt.torch.WindowDataset(tab, ds), 64, sampler=ids))
        )[0],
    }
    results = {}
    for engine in ("numpy", "numba"):
        results[engine] = []
        with xt.set_options(engine=engine):
            for name, path in paths.items():
                calls.clear()
                results[engine].append(path(ds.chunk(time=6)))
                assert bool(calls) == (engine == "numba"), (name, engine)
    for a, b in zip(results["numba"], results["numpy"], strict=True):
        assert_same_bits(np.asarray(a), np.asarray(b))
    np.testing.assert_array_equal(results["numba"][3], X[ids])


def test_window_geometry_reads_every_view():
    """The kernel's window geometry reads what ``window_view`` shows, for windows
    with steps, windows as wide as their axis (one long run) and no windowed axis."""
    from xbatcher_tab._engine.kernels import window_view

    arr = np.arange(4 * 5 * 6, dtype=np.float64).reshape(4, 5, 6)
    for axes, sizes, steps in [
        ([1, 2], [2, 3], [2, 1]),
        ([0, 1, 2], [2, 5, 6], [1, 1, 1]),
        ([2], [6], [1]),
        ([], [], []),
    ]:
        view = window_view(arr, axes, sizes, steps)
        n_pos = arr.ndim
        positions = np.stack([g.ravel() for g in np.indices(view.shape[:n_pos])], axis=1).astype(
            np.int64
        )
        geometry = numba_kernels.window_geometry(arr, axes, sizes, steps)
        out = np.empty((len(positions), int(np.prod(sizes))))
        bases = positions @ geometry[1]
        numba_kernels.gather_windows(geometry, bases, out, np.arange(len(positions)), 0)
        expected = view.reshape(len(positions), -1)
        np.testing.assert_array_equal(out, expected)


# -- the option and the fallback -------------------------------------------------------


@pytest.fixture
def fresh_engine():
    """Forget the process's resolved engine before and after the test."""
    _engine._load.cache_clear()
    _engine._warn_once.cache_clear()
    yield
    _engine._load.cache_clear()
    _engine._warn_once.cache_clear()


def test_engine_option_is_checked():
    with pytest.raises(
        ValueError, match="engine must be one of 'auto', 'numba' or 'numpy', not 'jit'"
    ):
        xt.set_options(engine="jit")
    with pytest.raises(ValueError, match="unknown option 'engines'"):
        xt.get_option("engines")
    assert xt.get_option("engine") in _engine.ENGINES
    with xt.set_options(engine="numpy"):
        assert xt.get_option("engine") == "numpy"
    assert _engine.resolve("auto") == "numba"  # installed by make test


def test_without_numba_auto_is_numpy_and_numba_an_error(monkeypatch, fresh_engine, next_day):
    monkeypatch.setitem(sys.modules, "numba", None)  # `import numba` now fails
    ds = xt.datasets.tasmax(time=12, lat=10, lon=12)
    tab = next_day(center="anchor").fit(ds)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numba simply absent: no warning
        assert _engine.resolve("auto") == "numpy"
        table = load_table(tab.get_layout(), ds)
    assert table.copier.kernels is None
    with pytest.raises(
        ImportError, match=r"engine='numba' needs .*xbatcher-tab\[fast\].*not installed"
    ):
        xt.set_options(engine="numba")
    ids = np.random.default_rng(0).permutation(table.valid_ids())
    _engine._load.cache_clear()
    monkeypatch.delitem(sys.modules, "numba")
    with_numba = load_table(tab.get_layout(), ds)
    assert with_numba.copier.kernels is not None
    assert_same_bits(table.X(ids), with_numba.X(ids))


@pytest.mark.parametrize("broken", ["old", "compile"])
def test_a_broken_numba_falls_back_with_one_warning(monkeypatch, fresh_engine, next_day, broken):
    import numba

    if broken == "old":
        monkeypatch.setattr(numba, "__version__", "0.55.1")
    else:

        def fails():
            raise RuntimeError("LLVM could not compile")

        monkeypatch.setattr(numba_kernels, "self_test", fails)
    ds = xt.datasets.tasmax(time=12, lat=10, lon=12)
    tab = next_day().fit(ds)
    with pytest.warns(RuntimeWarning, match="numba engine cannot run here") as record:
        X, _, _ = tab.tabularize(ds)
        X_again, _, _ = tab.tabularize(ds)
    assert len([w for w in record if issubclass(w.category, RuntimeWarning)]) == 1
    match = "0.55.1 is older than 0.60" if broken == "old" else "LLVM could not compile"
    assert match in str(record[0].message)
    with pytest.raises(ImportError, match=match):
        xt.set_options(engine="numba")
    with xt.set_options(engine="numpy"):
        np.testing.assert_array_equal(X, tab.tabularize(ds)[0])


@pytest.fixture
def unread_environment(monkeypatch):
    """The engine option as in a new process: the environment not read yet."""
    monkeypatch.setitem(options._OPTIONS, "engine", options._UNSET)


@pytest.mark.parametrize(
    ("value", "expected"), [("numpy", "numpy"), ("NumPy ", "numpy"), ("", "auto"), (" ", "auto")]
)
def test_environment_variable_sets_the_default_engine(
    monkeypatch, unread_environment, value, expected
):
    monkeypatch.setenv("XBATCHER_TAB_ENGINE", value)
    assert xt.get_option("engine") == expected
    monkeypatch.setenv("XBATCHER_TAB_ENGINE", "numba")  # read once, at first use
    assert xt.get_option("engine") == expected


def test_a_bad_environment_variable_is_named_at_first_use(monkeypatch, unread_environment):
    monkeypatch.setenv("XBATCHER_TAB_ENGINE", "fast")
    importlib.reload(options)  # importing reads nothing
    monkeypatch.setitem(options._OPTIONS, "engine", options._UNSET)
    with pytest.raises(
        ValueError, match=r"environment variable XBATCHER_TAB_ENGINE='fast': engine must be"
    ):
        xt.get_option("engine")
    with xt.set_options(engine="numpy"):  # an explicit choice needs no environment
        assert xt.get_option("engine") == "numpy"


# -- refusals: the kernel runs without bounds checks ----------------------------------


@pytest.mark.parametrize("engine", ["numpy", "numba"])
def test_bad_destination_rows_are_refused_under_both_engines(engine, next_day):
    """``at`` outside ``out``, repeated, or a read-only ``out``: the same named error
    under either engine (numba's kernel would write outside the buffer or pick
    another winner among repeats)."""
    ds = xt.datasets.tasmax(time=8, lat=6, lon=7)
    tab = next_day(center="anchor").fit(ds)
    table = load_table(tab.get_layout(), ds, runtime=Runtime(engine=engine))
    ids = np.random.default_rng(0).permutation(table.valid_ids())[:5]
    out = np.zeros((6, table.n_features), dtype=tab.get_layout().dtype)
    for at, match in [
        (np.array([0, 1, 2, 3, 6]), "at must hold row numbers of out, 0 to 5"),
        (np.array([0, 1, 2, 3, -1]), "at must hold row numbers of out, 0 to 5"),
        (np.array([0, 1, 2, 3, 3]), "at must hold distinct rows of out"),
        (np.array([0.0, 1, 2, 3, 4]), "at must hold row numbers"),
    ]:
        with pytest.raises(ValueError, match=match):
            table.X(ids, out=out, at=at)
    assert not out.any()  # nothing written before the refusal
    out.flags.writeable = False
    with pytest.raises(ValueError, match="out is read-only"):
        table.X(ids, out=out, at=np.arange(5))
    good = np.zeros_like(out)
    table.X(ids, out=good, at=np.array([5, 0, 4, 1, 3]))
    np.testing.assert_array_equal(good[[5, 0, 4, 1, 3]], table.X(ids))
    assert not good[2].any()


def test_the_kernel_refuses_to_leave_its_arrays():
    """The wrapper's safety net: a window, row or column outside the arrays is an
    IndexError, never a write past a buffer."""
    arr = np.arange(24.0).reshape(4, 6)
    geometry = numba_kernels.window_geometry(arr, [0, 1], [2, 3], [1, 1])
    out = np.zeros((2, 6))
    rows = np.array([0, 1])
    for bases, r, col0, what in [
        (np.array([0, 16]), rows, 0, "read a window outside its array"),
        (np.array([-1, 0]), rows, 0, "read a window outside its array"),
        (np.array([0, 1]), np.array([0, 2]), 0, "write a row outside out"),
        (np.array([0, 1]), rows, 1, "write a column outside out"),
        (np.array([0, 1, 2]), rows, 0, "take rows and windows of different counts"),
    ]:
        with pytest.raises(IndexError, match=what):
            numba_kernels.gather_windows(geometry, bases, out, r, col0)
    assert not out.any()
