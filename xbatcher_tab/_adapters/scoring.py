"""Labelled rows of gridded data, scored: one home for ``WindowModel.score`` and
:func:`~xbatcher_tab.model_selection.window_scorer`.

Data is a Dataset (one piece) or a ``WindowData`` selection (pieces tabularized one by
one, so no window joins steps across a gap). A model is scored on the rows of every
piece that holds a whole window and its label, weighted by the tabularizer's weight.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import xarray as xr
from sklearn.metrics import r2_score

from .._core.data import as_dataset

__all__ = ["data_pieces", "labelled_rows", "labelled_score"]


def data_pieces(X: object) -> list[xr.Dataset]:
    """The contiguous pieces of data to tabularize separately."""
    if isinstance(X, xr.Dataset | xr.DataArray):
        return [as_dataset(X)]
    segments = getattr(X, "segments", None)
    if segments is None:
        raise TypeError(
            "X must be an xarray Dataset/DataArray or a model_selection.WindowData, "
            f"got {type(X).__name__}"
        )
    return segments()


def labelled_rows(tab: Any, pieces: list[xr.Dataset]):
    """X, y and the sample weights (None without a weight) of every piece that holds
    a whole window and its label, under the fitted tabularizer ``tab``."""
    layout = tab.get_layout()
    window = layout.window
    parts = []
    for piece in pieces:
        if layout.grid(piece.sizes).n_samples == 0:
            continue  # a piece too short for one window and its label
        X, y, coords = tab.tabularize(piece)
        w = None if layout.weight is None else tab.sample_weight(coords)
        parts.append((X, y, w))
    if not parts:
        raise ValueError(
            "no piece of the data holds a whole window and its label: the pieces are "
            f"{[dict(p.sizes) for p in pieces]}, the window needs "
            f"{ {d: window.reach(d) for d in window.dims} }"
        )
    w = None if layout.weight is None else np.concatenate([p[2] for p in parts])
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]), w


def labelled_score(estimator: Any, tab: Any, X: object, scorer: Callable | None = None) -> float:
    """``scorer(estimator, rows, labels[, sample_weight=])`` on the labelled rows of
    ``X``; without a scorer, the estimator's own ``score`` (R² where it has none)."""
    rows, labels, weights = labelled_rows(tab, data_pieces(X))
    if scorer is not None:
        extra = {} if weights is None else {"sample_weight": weights}
        return scorer(estimator, rows, labels, **extra)
    if hasattr(estimator, "score"):
        return float(estimator.score(rows, labels, sample_weight=weights))
    return float(r2_score(labels, estimator.predict(rows), sample_weight=weights))
