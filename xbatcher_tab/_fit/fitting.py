"""What ``fit`` learns from the data's values, besides the layout, piece by piece.

The layout fixes variables, dims and window from metadata; the values give the scaling
statistics (``scale=True``: each variable's moments, merged exactly) and the outlier
bounds (:mod:`~xbatcher_tab._fit.outliers`). :func:`learn_values` adds one piece to what
earlier pieces gave and returns the layout with what they learnt, and the fitted
attributes that carry it to the next ``partial_fit``.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Mapping

import numpy as np
import xarray as xr

from .layout import Layout
from .moments import Moments, merge, moments, scaling
from .outliers import apply_bounds, check_outliers, learn_outliers

__all__ = ["learn_values", "same_layout"]


def learn_values(
    ds: xr.Dataset,
    layout: Layout,
    scale: bool,
    outliers: object,
    before: Mapping,
    pieces: bool = False,
) -> tuple[Layout, dict]:
    """The layout with the scaling and outlier bounds of the pieces so far, and the
    fitted attributes that hold them (``moments_``, ``outlier_stats_``, ``outliers_``).
    ``before``: those attributes after the earlier pieces (empty for the first).
    ``pieces``: more pieces may come (``partial_fit``): rules learnt from the data keep
    the tails of the cells, to count and scale exactly under bounds that move."""
    fitted: dict = {}
    rules = check_outliers(outliers, layout.variables, layout.target)
    if rules:  # bounds from the pieces so far; outliers_ counts what they flag
        stats, bounds, summary = learn_outliers(
            ds, rules, before.get("outlier_stats_"), before.get("outliers_"), pieces
        )
        fitted.update(outlier_stats_=stats, outliers_=summary)
        layout = dataclasses.replace(layout, outliers=bounds)
    if scale:  # of the cells as the table has them: outliers left out, or clipped
        piece = moments(as_tabled(ds, layout), layout.variables)
        if "moments_" in before:
            piece = {v: merge(before["moments_"][v], piece[v]) for v in layout.variables}
            for v in layout.variables:  # bounds learnt from the data moved since
                if v in rules and rules[v][0] != "range":
                    piece[v] = exact_moments(fitted["outlier_stats_"], v, layout, ds, piece[v])
        fitted["moments_"] = piece
        layout = dataclasses.replace(layout, scaling=scaling(piece))
    if not before and layout.target in layout.variables and not layout.window.leads:
        warnings.warn(
            f"the target variable {layout.target!r} is also a feature and the target has "
            "no lead: each label is one of its own sample's features. Give "
            "Target(..., lead={'time': 1}) to predict ahead.",
            UserWarning,
            stacklevel=4,
        )
    return layout, fitted


def exact_moments(stats, v, layout: Layout, ds: xr.Dataset, by_pieces: Moments) -> Moments:
    """The moments of every piece's cells as the table holds them under the final
    bounds (earlier pieces were judged by the bounds known when they came), from the
    outlier statistics' tails; ``by_pieces``, with a warning, where they fall short."""
    action = "clip" if layout.outlier_action == "clip" else "nan"
    exact = stats.tabled_moments(v, layout.outliers[v], action, ds[v].dtype)
    if exact is not None:
        return exact
    warnings.warn(
        f"scale=True over partial_fit pieces: the outlier bounds of {v!r} moved past the "
        "10,000 smallest or largest cells kept, so each earlier piece's cells are "
        "scaled as judged by the bounds known when it came (fit the whole data at once "
        "for exact statistics)",
        UserWarning,
        stacklevel=5,
    )
    return by_pieces


def as_tabled(ds: xr.Dataset, layout: Layout) -> xr.Dataset:
    """The feature variables' cells as the table holds them under the layout's outlier
    bounds: clipped (``"clip"``) or left out (``"nan"``, ``"drop"``: no kept row holds
    them), so that scaling learns from the cells the rows are made of. Lazy for
    dask-backed data."""
    if not layout.outliers:
        return ds
    out = {}
    for v, (lo, hi) in layout.outliers.items():
        if v not in layout.variables:
            continue
        var = ds[v]
        # as the table applies the bounds; a dropped cell is in no kept row: left out
        action = "clip" if layout.outlier_action == "clip" else "nan"
        dtype = var.dtype if action == "clip" else np.result_type(var.dtype, np.float32)
        out[v] = xr.apply_ufunc(
            apply_bounds,
            var,
            kwargs={"bounds": (lo, hi), "action": action},
            dask="parallelized",
            output_dtypes=[dtype],
        )
    return ds.assign(out)


def same_layout(piece: Layout, first: Layout) -> None:
    """Raise unless a ``partial_fit`` piece has the first piece's layout."""
    shape = (piece.variables, piece.var_dims, piece.dims, piece.window, piece.target)
    if shape != (first.variables, first.var_dims, first.dims, first.window, first.target):
        raise ValueError(
            "partial_fit got a piece whose variables, dims or window differ from the "
            "first piece's; every piece must have the same layout (use fit to start over)"
        )
