"""Shared test support: case builders, dask compute guards, example loading.

Test modules import from here (and from ``strategies``), never from each other.
"""

from __future__ import annotations

import contextlib
import importlib.util
import types
import warnings
from collections.abc import Iterator
from pathlib import Path

import dask
import numpy as np
import pandas as pd

import xbatcher_tab as xt

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
BACKENDS = ("numpy", "dask")


def load_example(name: str):
    """Import ``examples/{name}.py`` as a module."""
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def make_tab(kw, **options):
    """The tabularizer of a ``tab_case``'s arguments; ``options`` add or override
    parameters (preprocessing, dropna)."""
    target = xt.Target(kw["target"], lead=kw["lead"] or None) if kw["target"] else None
    return xt.WindowTabularizer(
        input_dims=kw["input_dims"],
        input_overlap=kw["input_overlap"],
        variables=kw["variables"],
        target=target,
        **{"dropna": kw["dropna"], **options},
    )


def fitted(case):
    """The data of a ``tab_case`` and its tabularizer, fitted (label warnings muted)."""
    ds, kw = case
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        tab = make_tab(kw).fit(ds)
    return ds, tab


def with_backend(ds, backend: str, chunks: dict | None = None):
    """``ds`` numpy-backed, or dask-backed with ``chunks`` (default: halves)."""
    if backend == "numpy":
        return ds.compute()
    return ds.chunk(chunks or {d: max(1, n // 2) for d, n in ds.sizes.items()})


def concat_batches(batches):
    """X, y and coords of a list of batches, concatenated (None for no batch)."""
    X = np.concatenate([b.X for b in batches]) if batches else None
    y = None if not batches or batches[0].y is None else np.concatenate([b.y for b in batches])
    coords = pd.concat([b.coords for b in batches]) if batches else None
    return X, y, coords


def assert_rows_equal(X, X_ref, tol: float = 2e-5):
    """Same shape, NaN in the same places, values equal within ``tol``."""
    assert X.shape == X_ref.shape
    np.testing.assert_array_equal(np.isnan(X), np.isnan(X_ref))
    np.testing.assert_allclose(X, X_ref, rtol=tol, atol=tol)


def computed(obj):
    """``obj.compute()`` for a dask object, else ``obj``."""
    return obj.compute() if hasattr(obj, "compute") else obj


def _raise_on_compute(*args, **kwargs):
    raise AssertionError("dask computed something inside raise_if_dask_computes()")


@contextlib.contextmanager
def raise_if_dask_computes() -> Iterator[None]:
    """Fail the test if anything is computed with dask inside the block."""
    with dask.config.set(scheduler=_raise_on_compute):
        yield


@contextlib.contextmanager
def count_dask_computes() -> Iterator[list]:
    """Count dask computes inside the block: yields the list of computed keys, one
    entry per compute call (run by the synchronous scheduler)."""
    computes: list = []

    def counting_get(dsk, keys, **kwargs):
        computes.append(keys)
        return dask.get(dsk, keys, **kwargs)

    with dask.config.set(scheduler=counting_get):
        yield computes


def run_cli(capsys, *args) -> types.SimpleNamespace:
    """``xbatcher-tab ARGS`` run in this process (``cli.main``), with its exit code and
    what it printed, as ``returncode``, ``stdout`` and ``stderr`` (like a finished
    subprocess). argparse's own exits (bad syntax, ``--help``, ``--version``) count."""
    from xbatcher_tab.cli import main

    capsys.readouterr()  # what was printed before is not the command's
    try:
        code = main([str(a) for a in args])
    except SystemExit as exit:
        code = exit.code
    out, err = capsys.readouterr()
    return types.SimpleNamespace(returncode=code, stdout=out, stderr=err)
