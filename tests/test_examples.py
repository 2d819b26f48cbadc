"""Every example runs on small data and shows what it claims."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from .support import EXAMPLES, load_example


def test_tabularize_ridge_beats_persistence():
    result = load_example("tabularize_ridge").main(time=24, lat=40, lon=48, verbose=False)
    assert result["rmse"] < 0.9 * result["rmse_persistence"]
    grid = result["grid"]
    assert grid.dims == ("time", "lat", "lon")
    assert int(grid.notnull().sum()) == result["n_test"]
    assert np.isfinite(result["rmse"])


def test_tour_script_runs(tmp_path):
    # the tour on full-size data takes ~30 s; here it only has to start and finish
    code = (
        "import sys; sys.path.insert(0, '.');"
        "import tabularize_ridge, notebook_port, tour;"
        "tabularize_ridge.main.__defaults__ = (24, 40, 48, True);"
        "import xbatcher_tab as xt;"
        "orig = xt.datasets.tasmax;"
        "notebook_port.datasets.tasmax = lambda **k: orig(time=60, lat=20, lon=24);"
        "tour.main()"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=EXAMPLES, capture_output=True, text=True, check=True
    )
    assert "RMSE ridge" in out.stdout and "persistence" in out.stdout
    assert "done in" in out.stdout


def test_partial_fit_sgd_beats_persistence():
    result = load_example("partial_fit_sgd").main(time=24, lat=40, lon=48, verbose=False)
    assert result["rmse"] < result["rmse_persistence"]


def test_xgboost_external_memory_beats_persistence():
    result = load_example("xgboost_external_memory").main(time=24, lat=40, lon=48, verbose=False)
    assert result["rmse"] < 0.9 * result["rmse_persistence"]
    assert int(result["grid"].notnull().sum()) > 0


@pytest.mark.slow
def test_xgboost_dask_cluster_example():
    result = load_example("xgboost_dask_cluster").main(time=24, lat=30, lon=36, verbose=False)
    assert result["rmse"] < 0.9 * result["rmse_persistence"] < result["rmse_mean"]
    assert result["grid"].dims == ("time", "lat", "lon")


def test_relative_features_beat_raw_ones():
    scores = load_example("relative_features").main(verbose=False)
    assert scores["relative"]["rmse"] < 0.25 * scores["raw"]["rmse"]
    assert scores["relative"]["corr"] > 0.95 > scores["raw"]["corr"]
    assert scores["raw"]["rmse"] < scores["zero"]["rmse"]


def test_cnn_torch_beats_persistence():
    result = load_example("cnn_torch").main(time=36, lat=40, lon=48, epochs=2, verbose=False)
    assert result["rmse"] < 0.8 * result["rmse_persistence"]
    assert result["map"].sizes["time"] == 36 - 36 * 2 // 3 + 1  # the test days + forecast
