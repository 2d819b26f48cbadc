"""Finishing rows: the columns computed rather than copied from the windows.

Once a group of rows is copied (and still in cache), a :class:`Finisher` centers each
centered variable's cells on its reference (the anchor cell, or the window's mean),
writes the reference as a column of its own, and writes the summaries and the
coordinate features. Summaries come from per-window arrays computed once for the
whole grid (:meth:`FeatureArray.summarize`); coordinate features depend on one dim's
anchor each, so they are computed once per position along that dim.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import numpy as np

from .._core.coords import coordinate_features
from .._core.plan import SampleGrid
from .kernels import center_columns

__all__ = ["Finisher"]


class Finisher:
    """The extra columns of a table's rows.

    Parameters
    ----------
    features : list of FeatureArray
        The table's variables (their column plans and summaries).
    coord_lookup : list of (dim, array)
        Per coordinate feature, in column order: its dim and its columns for every
        position along that dim (see :meth:`of`).
    coord_start : int
        The first coordinate feature's column.
    """

    def __init__(
        self,
        features: Sequence[Any],
        coord_lookup: Sequence[tuple[Hashable, np.ndarray]],
        coord_start: int,
    ) -> None:
        self.features = list(features)
        self.coord_lookup = list(coord_lookup)
        self.coord_start = coord_start
        self.centers = any(f.plan.center for f in self.features)
        self.needs_positions = any(f.summaries for f in self.features) or bool(coord_lookup)
        self.active = (
            any(f.plan.center == "anchor" or f.summaries for f in self.features)
            or self.needs_positions
        )

    @classmethod
    def of(
        cls,
        features: Sequence[Any],
        coord_features: Sequence[tuple[str, str]],
        coord_start: int,
        grid: SampleGrid,
        offset: int,
        values: Mapping,
    ) -> Finisher:
        """The finisher of a table: ``grid`` its samples, ``offset`` the cells before
        its first position along the outermost dim, ``values`` the whole data's
        coordinate values (for the coordinate features' labels)."""
        lookup = []
        for source, encoding in coord_features:
            d = source.partition(".")[0]
            positions = np.arange(grid.counts[grid.dims.index(d)])
            cells = grid.spec.anchor_cell(d, positions)
            if d == grid.dims[0]:
                cells = cells + offset
            lookup.append((d, coordinate_features(values, {d: cells}, [(source, encoding)])))
        return cls(features, lookup, coord_start)

    def extra_columns(self, pos: Mapping[Hashable, np.ndarray]) -> dict:
        """Columns computed per sample at positions ``pos``: each variable's summaries
        (and window mean, for centering on it), picked from its per-window summaries,
        and the coordinate features. ``{column: values}``."""
        extra: dict = {}
        for f in self.features:
            if not f.summaries:
                continue
            index = tuple(pos[d] for d in f.dims)
            for stat, column in f.plan.stats.items():
                extra[column] = f.summaries[stat][index]
            if f.plan.center == "mean":  # the reference: its column, or only for centering
                extra[_mean_key(f)] = f.summaries["mean"][index]
        column = self.coord_start
        for d, values in self.coord_lookup:
            picked = values[pos[d]]
            for j in range(values.shape[1]):
                extra[column + j] = picked[:, j]
            column += values.shape[1]
        return extra

    def finish(self, out: np.ndarray, extra: Mapping[int, np.ndarray]) -> None:
        """Finish rows just copied into ``out``: center on the anchor cell or the
        window mean, then write the ``extra`` columns (from :meth:`extra_columns`)."""
        refs = []  # (centered variable, its reference per row: a copy in X's dtype)
        for f in self.features:
            if f.plan.center == "anchor":
                refs.append((f, out[:, f.plan.cells.start + f.plan.anchor_cell].astype(out.dtype)))
            elif f.plan.center == "mean":  # (a scalar for a variable without sample dims)
                mean = np.broadcast_to(extra[_mean_key(f)], out.shape[:1])
                refs.append((f, mean.astype(out.dtype)))
        center_columns(out, [(f.plan.cells, ref) for f, ref in refs])
        written = set()
        for f, ref in refs:
            if f.plan.reference is not None:  # kept as a feature (center_reference)
                out[:, f.plan.reference] = ref
                written.add(f.plan.reference)
        self.write_extra(out, {k: v for k, v in extra.items() if k not in written})

    def centering(self, feature: Any, extra: Mapping) -> tuple[str | None, Any, int]:
        """How a compiled pass centers ``feature``'s cells in rows whose extra columns
        are ``extra``: ``(how, references, reference column)``: how is None, "anchor"
        (its anchor cell) or "given" (the references: its window means); the column is
        -1 when the reference is not kept."""
        column = -1 if feature.plan.reference is None else feature.plan.reference
        if feature.plan.center == "mean":
            return "given", extra[_mean_key(feature)], column
        return feature.plan.center, None, column

    def write_extra(self, out: np.ndarray, extra: Mapping, rows: Any = None) -> None:
        """Write the ``extra`` columns (from :meth:`extra_columns`) into ``out`` (its
        rows ``rows``, if given)."""
        at = slice(None) if rows is None else rows
        for column, values in extra.items():
            if isinstance(column, int):
                out[at, column] = values


def _mean_key(f) -> object:
    """Where a variable's window mean goes among the extra columns: its reference
    column, or (without one) a key that is no column, used only to center."""
    return f.plan.reference if f.plan.reference is not None else ("mean", f.plan.variable)
