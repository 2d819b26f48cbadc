"""The xbatcher-tab command: exit codes, one-line errors, Parquet export read back."""

from __future__ import annotations

import functools
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import xbatcher_tab as xt
from xbatcher_tab.cli import main

from .support import run_cli


@pytest.fixture
def run(capsys):
    """The command run in this process: ``run("plan", ...)`` gives its exit code and
    output (see ``support.run_cli``)."""
    return functools.partial(run_cli, capsys)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "tasmax.zarr"
    xt.datasets.tasmax(time=14, lat=8, lon=10, static=True).chunk({"time": 5}).to_zarr(
        path, consolidated=False
    )
    return path


@pytest.mark.parametrize("command", [[], ["demo"], ["export"], ["plan"]])
def test_help(run, command):
    out = run(*command, "--help")
    assert out.returncode == 0 and "usage: xbatcher-tab" in out.stdout


@pytest.mark.slow
def test_the_installed_command_runs_in_its_own_process(store, tmp_path):
    """One smoke test of the real thing: ``python -m xbatcher_tab`` in a subprocess,
    an export read back, and a one-line error with exit code 2."""
    out = tmp_path / "smoke.parquet"
    args = ["export", str(store), "--input-dims", "time=3", "--target", "tasmax:time+1"]
    command = [sys.executable, "-m", "xbatcher_tab", *args]
    proc = subprocess.run([*command, "--out", str(out), "--quiet"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert len(pd.read_parquet(out)) == 4 * 8 * 10  # 4 disjoint 3-day windows with a label
    proc = subprocess.run([*command, "--out", str(out)], capture_output=True, text=True)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "exists" in proc.stderr


def test_export_parquet_equals_tabularize(store, tmp_path):
    out = tmp_path / "table.parquet"
    code = main(
        [
            "export",
            str(store),
            "--input-dims",
            "lat=3,lon=3,time=2",
            "--overlap",
            "lat=2,lon=2,time=1",
            "--target",
            "tasmax:time+1",
            "--variables",
            "tasmax,orog",
            "--out",
            str(out),
            "--batch-size",
            "100",
            "--quiet",
        ]
    )
    assert code == 0
    table = pd.read_parquet(out)
    ds = xt.datasets.tasmax(time=14, lat=8, lon=10, static=True)
    tab = xt.WindowTabularizer(
        input_dims={"lat": 3, "lon": 3, "time": 2},
        input_overlap={"lat": 2, "lon": 2, "time": 1},
        variables=["tasmax", "orog"],
        target=xt.Target("tasmax", lead={"time": 1}),
    )
    X, y, coords = tab.tabularize(ds)
    names = list(tab.get_feature_names_out())
    np.testing.assert_array_equal(table[names].to_numpy(), X)
    np.testing.assert_array_equal(table["label"].to_numpy(), y)
    for d in coords.columns:
        np.testing.assert_array_equal(table[d].to_numpy(), coords[d].to_numpy())
    np.testing.assert_array_equal(table["sample"].to_numpy(), coords.index.to_numpy())


def test_export_with_a_periodic_longitude_and_area_weights(store, tmp_path):
    out = tmp_path / "globe.parquet"
    args = ["export", str(store), "--input-dims", "lat=3,lon=3", "--overlap", "lat=2,lon=2"]
    args += ["--target", "tasmax", "--variables", "orog", "--out", str(out), "--quiet"]
    code = main([*args, "--boundary", "lon=periodic,lat=pad", "--weight", "coslat"])
    assert code == 0
    table = pd.read_parquet(out)
    ds = xt.datasets.tasmax(time=14, lat=8, lon=10, static=True)
    tab = xt.WindowTabularizer(
        input_dims={"lat": 3, "lon": 3},
        input_overlap={"lat": 2, "lon": 2},
        variables=["orog"],
        target="tasmax",
        boundary={"lon": "periodic", "lat": "pad"},
        weight="coslat",
    )
    X, y, coords = tab.tabularize(ds)
    assert len(table) == 14 * 8 * 10  # every cell anchors a sample
    np.testing.assert_array_equal(table[list(tab.get_feature_names_out())].to_numpy(), X)
    np.testing.assert_array_equal(table["weight"].to_numpy(), tab.sample_weight(coords))


@pytest.mark.parametrize(
    ("flag", "message"),
    [
        ("lon", "--boundary expects dim=periodic|pad pairs"),
        ("lon=wrap", "boundary['lon'] must be 'periodic' or 'pad', got 'wrap'"),
    ],
)
def test_export_bad_boundary_is_one_line(run, store, tmp_path, flag, message):
    proc = run(
        "export",
        str(store),
        "--input-dims",
        "lon=3",
        "--boundary",
        flag,
        "--out",
        str(tmp_path / "x.parquet"),
    )
    assert proc.returncode == 2
    assert message in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "x.parquet").exists()


def test_export_reads_netcdf(run, tmp_path):
    path = tmp_path / "small.nc"
    xt.datasets.tasmax(time=6, lat=4, lon=5).to_netcdf(path, engine="scipy")
    out = tmp_path / "small.parquet"
    proc = run(
        "export",
        str(path),
        "--input-dims",
        "time=3",
        "--target",
        "tasmax:time+1",
        "--out",
        str(out),
        "--quiet",
    )
    assert proc.returncode == 0, proc.stderr
    assert len(pd.read_parquet(out)) == 1 * 4 * 5  # one 3-day window has its label inside


def test_plan_reads_no_values(store, tmp_path, capsys):
    # a copy of the store with every chunk of data deleted: only metadata is left
    import shutil

    bare = tmp_path / "bare.zarr"
    shutil.copytree(store, bare)
    for chunk in (bare / "tasmax" / "c").rglob("*"):
        if chunk.is_file():
            chunk.unlink()
    code = main(
        [
            "plan",
            str(bare),
            "--input-dims",
            "lat=3,lon=3,time=3",
            "--overlap",
            "lat=2,lon=2,time=2",
            "--target",
            "tasmax:time+1",
            "--memory",
            "0.001",
        ]
    )
    assert code == 0
    text = capsys.readouterr().out
    assert "samples        528" in text  # 11 time x 6 lat x 8 lon windows
    assert "features       36 (" in text  # 27 of tasmax, 9 of orog (in the store's order)
    assert "tasmax" in text and "orog" in text
    assert "batch size" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["plan", "missing.zarr", "--input-dims", "time=3"], "no such file or directory"),
        (["plan", "{store}", "--input-dims", "time"], "--input-dims expects dim=integer pairs"),
        (["plan", "{store}", "--input-dims", "depth=3"], "input_dims names dimension 'depth'"),
        (
            ["plan", "{store}", "--input-dims", "time=3", "--overlap", "time=3"],
            "input_overlap['time']=3 must be smaller",
        ),
        (
            ["plan", "{store}", "--input-dims", "time=3", "--target", "pr:time+1"],
            "target variable 'pr' is not a data variable",
        ),
        (
            ["plan", "{store}", "--input-dims", "time=3", "--target", "tasmax:time+x"],
            "--target expects VAR or VAR:dim+lead",
        ),
        (
            [
                "export",
                "{store}",
                "--input-dims",
                "time=3",
                "--out",
                "x.parquet",
                "--variables",
                "nope",
            ],
            "variables names ['nope']",
        ),
        (["plan", "{bad}", "--input-dims", "time=3"], "cannot read"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(run, store, tmp_path, args, message):
    bad = tmp_path / "bad.nc"
    bad.write_text("not a netCDF file")
    args = [a.format(store=store, bad=bad) for a in args]
    proc = run(*args)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], proc.stderr


def test_argparse_errors_exit_2(run, store):
    proc = run("export", "x.zarr")  # missing --input-dims and --out
    assert proc.returncode == 2 and "required" in proc.stderr
    for memory in ("inf", "nan", "0"):  # inf crashed the plan's arithmetic
        proc = run("plan", str(store), "--input-dims", "time=3", "--memory", memory)
        assert proc.returncode == 2 and "--memory: must be a number of GiB > 0" in proc.stderr


def test_demo_small(tmp_path):
    from xbatcher_tab.demo import run_demo

    result = run_demo(size=0.5, out=tmp_path, rounds=20, progress=False, lat=40, lon=48)
    scores = result["scores"]
    assert scores["model"] < scores["persistence"] < scores["climatology"]
    for path in result["maps"]:
        assert Path(path).stat().st_size > 10_000
        assert Path(path).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    stems = [Path(p).stem for p in result["maps"]]
    assert stems == ["truth", "prediction", "error", "forecast", "importance"]
    # the model's gain by offset: shares of the whole, the last day's above the first's
    importance = result["importance"]
    assert set(importance.dims) == {"lon_offset", "time_offset"}
    assert float(importance.sum()) == pytest.approx(1.0)
    assert importance.sel(time_offset=-1).sum() > importance.sel(time_offset=-9).sum()
    # the weather drifts east a cell a day: the model reads yesterday's western neighbour
    last = importance.sel(time_offset=-1)
    assert last.sel(lon_offset=-1) > 10 * last.sel(lon_offset=1)
    # the map from xt.predict holds the demo's own predictions, and the day after
    grid, forecast = result["grid"], result["forecast"]
    assert int(grid.notnull().sum()) == result["n_test"]
    on_map = grid.values[grid.notnull().values]
    np.testing.assert_array_equal(np.sort(on_map), np.sort(result["pred"]))
    last = grid.time.values[-1]
    assert forecast.time.values == last + np.timedelta64(1, "D")
    # longitude wraps around: every longitude, latitudes away from the edges
    assert int(forecast.notnull().sum()) == (40 - 8) * 48
    assert forecast.notnull().all("lat").sum() == 0 and forecast.notnull().any("lat").all()
    # area-weighted scores: the rows' weighted RMSE equals xt.metrics on the map
    truth = result["truth"]
    by_day = xt.metrics.rmse(grid, truth, weight="coslat", dim=("lat", "lon")).dropna("time")
    np.testing.assert_allclose(by_day, result["rmse_by_day"].sel(time=by_day.time))
    overall = float(xt.metrics.rmse(grid, truth, weight="coslat"))
    assert overall == pytest.approx(scores["model"], rel=1e-5)
