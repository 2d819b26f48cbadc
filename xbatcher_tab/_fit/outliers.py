"""Outliers: cells beyond a variable's bounds, learnt from the data or given.

A rule per variable (``outliers={"tasmax": ("zscore", 5)}``, ``"*"`` for every feature
variable) gives bounds ``(lo, hi)``:

* ``("range", lo, hi)``: fixed physical bounds;
* ``("zscore", k)``: mean ± k standard deviations of the fitted data's cells, from
  moments merged exactly over ``partial_fit`` pieces (:mod:`~xbatcher_tab._fit.moments`);
* ``("quantile", q_lo, q_hi)``: the fitted data's quantiles, exact for one piece; over
  several pieces (or dask chunks), from a :class:`Sketch` of each: the ``q``-quantile
  of the union is found within a rank error of :data:`RANK_ERROR` (``1e-4``) of the
  cells.

A cell outside its bounds (NaN is never an outlier) is then, by ``outlier_action``,
made NaN, clipped to the bound, or its samples dropped (every sample whose window or
label holds it). The rule applies to the grid's cells once, where each variable is laid
out, so every path (tables, batches, dask blocks, predictions, loaders) sees the same.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import xarray as xr

from .._core.checks import check_choice, describe
from .._core.data import is_lazy
from .moments import Moments, merge, moments, of_cells

__all__ = [
    "ACTIONS",
    "RANK_ERROR",
    "OutlierStats",
    "apply_bounds",
    "check_outliers",
    "flagged",
    "flagged_counts",
    "learn_outliers",
]

ACTIONS = ("nan", "clip", "drop")
SKETCH_POINTS = 10_001  # quantiles kept per piece: a rank error of 1 / 10,000 at most
RANK_ERROR = 1.0 / (SKETCH_POINTS - 1)
TAIL_CELLS = 10_000  # the smallest and largest cells kept, to count outliers exactly


def check_outliers(
    value: object, features: Sequence[Hashable], target: Hashable | None = None
) -> dict[Hashable, tuple]:
    """``outliers``: ``{variable or "*": rule}`` -> ``{variable: rule}``, the rules
    checked; ``"*"`` is every feature variable (a rule of the target's own covers its
    labels).

    Examples
    --------
    >>> check_outliers({"*": ("zscore", 4), "b": ("range", 0, 1)}, ["a", "b"])
    {'a': ('zscore', 4.0), 'b': ('range', 0.0, 1.0)}
    >>> check_outliers({"a": ("zscore", -1)}, ["a"])
    Traceback (most recent call last):
    ...
    ValueError: outliers['a'] ('zscore', k) needs k > 0, got ('zscore', -1)
    """
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise TypeError(
            "outliers must be a dict of variable (or '*') to a rule such as ('zscore', 5), "
            f"('range', lo, hi) or ('quantile', 0.001, 0.999), got {describe(value)}"
        )
    known = list(dict.fromkeys([*features, *([target] if target is not None else [])]))
    unknown = [v for v in value if v != "*" and v not in known]
    if unknown:
        raise ValueError(
            f"outliers names {unknown}, which are not feature or target variables; they are "
            f"{known} (or '*' for every feature variable)"
        )
    rules = {}
    for v in known:
        if v in value:
            rules[v] = _check_rule(f"outliers[{v!r}]", value[v])
        elif "*" in value and v in features:
            rules[v] = _check_rule("outliers['*']", value["*"])
    return rules


def _check_rule(name: str, rule: object) -> tuple:
    if not isinstance(rule, tuple | list) or not rule or not isinstance(rule[0], str):
        raise TypeError(
            f"{name} must be a rule such as ('zscore', 5), ('range', lo, hi) or "
            f"('quantile', 0.001, 0.999), got {describe(rule)}"
        )
    kind = check_choice(f"{name}[0]", rule[0], ("range", "zscore", "quantile"))
    numbers_ = rule[1:]
    wanted = 1 if kind == "zscore" else 2
    if len(numbers_) != wanted or not all(
        isinstance(x, numbers.Real) and not isinstance(x, bool) for x in numbers_
    ):
        shape = {"zscore": "('zscore', k)", "range": "('range', lo, hi)"}.get(
            kind, "('quantile', q_lo, q_hi)"
        )
        raise ValueError(f"{name} must be {shape} with numbers, got {tuple(rule)!r}")
    values = tuple(float(x) for x in numbers_)
    if kind == "zscore" and not values[0] > 0:
        raise ValueError(f"{name} ('zscore', k) needs k > 0, got {tuple(rule)!r}")
    if kind == "range" and not values[0] < values[1]:
        raise ValueError(f"{name} ('range', lo, hi) needs lo < hi, got {tuple(rule)!r}")
    if kind == "quantile" and not 0 <= values[0] < values[1] <= 1:
        raise ValueError(
            f"{name} ('quantile', q_lo, q_hi) needs 0 <= q_lo < q_hi <= 1, got {tuple(rule)!r}"
        )
    return (kind, *values)


def quantiles(pieces: Sequence[tuple[int, np.ndarray]], levels: Sequence[float]) -> np.ndarray:
    """The ``levels`` quantiles of the union of pieces given as ``(count, values)``:
    exact for pieces given whole (all their cells); from sketches, within
    :data:`RANK_ERROR` (a fraction of the cells) of the true rank. Each piece's
    cumulative distribution (its cells' own, or interpolated between its sketch
    points) is weighted by its count and the mixture inverted as numpy's
    ``inverted_cdf``: the result is always a value of some cell."""
    pieces = [(n, np.asarray(v, dtype=np.float64)) for n, v in pieces if n and len(v)]
    if not pieces:
        return np.full(len(levels), np.nan)
    if len(pieces) == 1 and pieces[0][0] == len(pieces[0][1]):  # the cells themselves
        return np.quantile(pieces[0][1], levels, method="inverted_cdf")
    support = np.unique(np.concatenate([v for _, v in pieces]))
    total = sum(n for n, _ in pieces)
    cdf = np.zeros(support.size)
    for n, v in pieces:
        if len(v) == n:  # the cells themselves: their own distribution, a step function
            cdf += np.searchsorted(v, support, side="right") / total
        else:
            ranks = np.linspace(0.0, 1.0, len(v)) if len(v) > 1 else np.ones(1)
            cdf += n / total * np.interp(support, v, ranks, left=0.0, right=1.0)
    # the smallest value (a cell's) at or below which a fraction q lies: inverted_cdf
    at = np.searchsorted(cdf, np.asarray(levels, dtype=np.float64) - 1e-12, side="left")
    return support[np.minimum(at, support.size - 1)]


@dataclass
class OutlierStats:
    """What ``fit`` and ``partial_fit`` accumulate to learn the bounds, per variable:
    for rules learnt from the data, the moments of all cells (z-scores), and the
    :data:`TAIL_CELLS` smallest and largest cells of all pieces so far (``tails``,
    which count the cells outside bounds that moved after the pieces came, and correct
    the scaling, exactly while the bounds lie within them); for quantile rules, the
    sketches of each piece and, while there is a single numpy-backed piece, its exact
    quantiles."""

    moments: dict
    sketches: dict
    exact: dict
    tails: dict = dataclasses.field(default_factory=dict)

    def outside(self, v: Hashable, bounds: tuple[float, float]) -> np.ndarray | None:
        """The cells of every piece outside ``bounds``, from the tails: None where the
        bounds lie deeper than the tails reach (or no tails were kept)."""
        tails = self.tails.get(v)
        return None if tails is None else tails.outside(bounds)

    def tabled_moments(
        self, v: Hashable, bounds: tuple[float, float], action: str, dtype: np.dtype
    ) -> Moments | None:
        """The moments of every piece's cells as the table holds them (outliers left
        out, or clipped): those of the cells between the tails, merged with the tail
        cells inside ``bounds`` (and, clipped, those outside); None where the tails do
        not reach the bounds."""
        tails = self.tails.get(v)
        out = None if tails is None else tails.outside(bounds)
        if out is None:
            return None
        cells = tails.cells()
        inside = cells[(cells >= bounds[0]) & (cells <= bounds[1])]
        kept = merge(tails.core, of_cells(inside))
        if action == "clip":
            kept = merge(kept, of_cells(clipped(out.astype(dtype), bounds)))
        return kept

    @classmethod
    def of(cls, ds: xr.Dataset, rules: Mapping, keep_tails: bool = False) -> OutlierStats:
        zs = [v for v, r in rules.items() if r[0] == "zscore"]
        sketches, exact = {}, {}
        for v, rule in rules.items():
            if rule[0] != "quantile":
                continue
            if is_lazy([ds[v].variable]):
                import dask

                blocks = ds[v].data.to_delayed().ravel()
                sketches[v] = list(dask.compute(*[dask.delayed(_sketch)(b) for b in blocks]))
            else:
                cells = np.asarray(ds[v].values, dtype=np.float64).ravel()
                cells = cells[~np.isnan(cells)]
                sketches[v] = [_sketch(cells)]
                exact[v] = tuple(np.quantile(cells, rule[1:], method="inverted_cdf").tolist())
        tails = {}
        if keep_tails:  # pieces to come: their bounds will move
            tails = {v: _tails(ds[v]) for v, rule in rules.items() if rule[0] != "range"}
        return cls(moments(ds, zs) if zs else {}, sketches, exact, tails)

    def merged(self, other: OutlierStats) -> OutlierStats:
        """The statistics of two sets of pieces together (the exact quantiles go: they
        were of one piece)."""
        merged_moments = dict(other.moments)
        for v, m in other.moments.items():
            if v in self.moments:
                merged_moments[v] = merge(self.moments[v], m)
        sketches = {v: self.sketches.get(v, []) + s for v, s in other.sketches.items()}
        tails = {  # kept only where every piece kept them
            v: Tails.merged([self.tails[v], t]) for v, t in other.tails.items() if v in self.tails
        }
        return OutlierStats(merged_moments, sketches, {}, tails)

    def bounds(self, rules: Mapping) -> dict[Hashable, tuple[float, float]]:
        """Each variable's ``(lo, hi)``."""
        out = {}
        for v, rule in rules.items():
            if rule[0] == "range":
                out[v] = (rule[1], rule[2])
            elif rule[0] == "zscore":
                n, mean, m2 = self.moments[v]
                std = float(np.sqrt(m2 / n)) if n else 0.0
                out[v] = (mean - rule[1] * std, mean + rule[1] * std)
            elif v in self.exact:
                out[v] = self.exact[v]
            else:
                lo, hi = quantiles(self.sketches[v], [rule[1], rule[2]])
                out[v] = (float(lo), float(hi))
        return out


def _sketch(block: np.ndarray) -> tuple[int, np.ndarray]:
    """``(count, values)`` of a block's non-NaN cells: the cells, sorted, or their
    quantiles at ``SKETCH_POINTS`` levels when there are more."""
    cells = np.asarray(block, dtype=np.float64).ravel()
    cells = np.sort(cells[~np.isnan(cells)])
    if cells.size > SKETCH_POINTS:
        levels = np.linspace(0, 1, SKETCH_POINTS)
        return cells.size, np.quantile(cells, levels, method="inverted_cdf")
    return cells.size, cells


@dataclass(frozen=True)
class Tails:
    """A variable's cells as their :data:`TAIL_CELLS` smallest (``low``) and largest
    (``high``), sorted, and the moments, minimum and maximum of the cells between
    (``core``): every cell in exactly one of them (``n`` in all; few cells are all in
    ``low``). Bounds that leave every core cell inside find their outliers among the
    tails, exactly; no moment is ever subtracted (a fill value of 1e20 among the
    cells would take all the precision)."""

    low: np.ndarray
    high: np.ndarray
    core: Moments
    core_range: tuple[float, float]
    n: int

    @classmethod
    def of(cls, block: np.ndarray) -> Tails:
        cells = np.asarray(block, dtype=np.float64).ravel()
        return cls.of_cells(cells[~np.isnan(cells)], (0, 0.0, 0.0), (np.inf, -np.inf))

    @classmethod
    def of_cells(cls, cells: np.ndarray, core: Moments, core_range) -> Tails:
        """Tails of ``cells`` (non-NaN) and of a core besides them."""
        k = TAIL_CELLS
        n = cells.size + core[0]
        if cells.size <= 2 * k:
            return cls(np.sort(cells), cells[:0], core, core_range, n)
        cells = np.partition(cells, (k - 1, cells.size - k))
        middle = cells[k : cells.size - k]
        core = merge(core, of_cells(middle))
        core_range = (min(core_range[0], middle.min()), max(core_range[1], middle.max()))
        return cls(np.sort(cells[:k]), np.sort(cells[cells.size - k :]), core, core_range, n)

    @classmethod
    def merged(cls, parts: Sequence[Tails]) -> Tails:
        """The tails of the union of blocks or pieces from the tails of each."""
        core, lo, hi = (0, 0.0, 0.0), np.inf, -np.inf
        for p in parts:
            core = merge(core, p.core)
            lo, hi = min(lo, p.core_range[0]), max(hi, p.core_range[1])
        cells = np.concatenate([c for p in parts for c in (p.low, p.high)])
        return cls.of_cells(cells, core, (lo, hi))

    def cells(self) -> np.ndarray:
        """The tails' cells."""
        return np.concatenate([self.low, self.high])

    def outside(self, bounds: tuple[float, float]) -> np.ndarray | None:
        """The cells outside ``bounds``, if every core cell is inside; else None."""
        lo, hi = bounds
        if self.core[0] and not (lo <= self.core_range[0] and self.core_range[1] <= hi):
            return None
        cells = self.cells()
        return cells[(cells < lo) | (cells > hi)]


def _tails(var: xr.DataArray) -> Tails:
    """The tails of a variable's cells (block by block for dask-backed data, merged
    eight at a time: the client holds a few blocks' tails, not every block's)."""
    if not is_lazy([var.variable]):
        return Tails.of(var.values)
    import dask

    level = [dask.delayed(Tails.of)(b) for b in var.data.to_delayed().ravel()]
    if not level:
        return Tails.of(np.empty(0))
    while len(level) > 1:
        level = [dask.delayed(Tails.merged)(level[i : i + 8]) for i in range(0, len(level), 8)]
    (tails,) = dask.compute(level[0])
    return tails


def flagged(values: np.ndarray, bounds: tuple[float, float]) -> np.ndarray:
    """Whether each cell lies outside ``bounds`` (NaN is never flagged)."""
    lo, hi = bounds
    with np.errstate(invalid="ignore"):
        return (values < lo) | (values > hi)


def apply_bounds(values: np.ndarray, bounds: tuple[float, float], action: str) -> np.ndarray:
    """``values`` with the outliers made NaN (``"nan"``) or clipped to the bounds
    (``"clip"``); unchanged for ``"drop"`` (samples are dropped instead)."""
    if action == "drop":
        return values
    values = np.asarray(values)
    if action == "clip":
        return clipped(values, bounds)
    out = np.array(values, dtype=np.result_type(values.dtype, np.float32))
    out[flagged(out, bounds)] = np.nan
    return out


def clipped(values: np.ndarray, bounds: tuple[float, float]) -> np.ndarray:
    """``values`` clipped to ``bounds``, in their dtype: integers to the integers inside
    the bounds (``lo`` rounded up, ``hi`` down, within the dtype's range).

    Examples
    --------
    >>> clipped(np.array([0, 200, 1000], dtype=np.int16), (150.5, 350.0)).tolist()
    [151, 200, 350]
    """
    if values.dtype.kind == "f":
        return np.clip(values, *bounds)
    if values.dtype.kind not in "iu":
        return values
    info = np.iinfo(values.dtype)
    lo = max(math.ceil(bounds[0]), info.min) if math.isfinite(bounds[0]) else info.min
    hi = min(math.floor(bounds[1]), info.max) if math.isfinite(bounds[1]) else info.max
    if bounds[0] == math.inf or bounds[1] == -math.inf:
        lo, hi = 1, 0  # no value inside
    if lo > hi:
        raise ValueError(
            f"outlier_action='clip' needs an integer inside the bounds ({bounds[0]:g}, "
            f"{bounds[1]:g}) for {values.dtype} data; there is none: widen the rule or "
            "use outlier_action='nan' with a float dtype"
        )
    return np.clip(values, values.dtype.type(lo), values.dtype.type(hi))


def flagged_counts(ds: xr.Dataset, bounds: Mapping) -> dict[Hashable, tuple[int, int]]:
    """Per variable, ``(flagged cells, non-NaN cells)`` of ``ds`` against ``bounds``
    (computed, chunk by chunk for dask-backed data)."""
    parts = {}
    for v, (lo, hi) in bounds.items():
        var = ds[v]
        parts[v] = (((var < lo) | (var > hi)).sum(), var.count())
    if is_lazy(ds[list(bounds)].variables.values()):
        import dask

        (parts,) = dask.compute(parts)
    return {v: (int(a), int(b)) for v, (a, b) in parts.items()}


def learn_outliers(
    ds: xr.Dataset,
    rules: Mapping,
    previous: OutlierStats | None,
    counted: Mapping | None,
    keep_tails: bool = False,
) -> tuple[OutlierStats, dict, dict]:
    """The statistics, bounds and summary (``outliers_``) after one more piece ``ds``
    (``previous``, ``counted``: those of the pieces before, or None for the first).

    The summary counts, per variable, the cells of all pieces outside the bounds
    learnt from all of them (``exact: True``): for one ``fit`` and ``"range"`` rules
    by counting each piece; over ``partial_fit`` pieces with rules learnt from the data,
    from the tails of the pieces (:class:`OutlierStats`). Where the final bounds lie
    deeper than the tails reach (more than :data:`TAIL_CELLS` outliers on a side), each
    earlier piece counts against the bounds known when it came (``exact: False``).
    """
    stats = OutlierStats.of(ds, rules, keep_tails)
    if previous is not None:
        stats = previous.merged(stats)
    bounds = stats.bounds(rules)
    counts = flagged_counts(ds, bounds)
    summary = {}
    for v, (lo, hi) in bounds.items():
        flagged_cells, cells = counts[v]
        exact = True
        if counted and v in counted:
            cells += counted[v]["cells"]
            out = stats.outside(v, (lo, hi)) if rules[v][0] != "range" else None
            if out is not None:
                flagged_cells = int(out.size)
            else:
                flagged_cells += counted[v]["flagged"]
                exact = rules[v][0] == "range" and counted[v].get("exact", True)
        summary[v] = {
            "rule": rules[v],
            "lo": lo,
            "hi": hi,
            "flagged": flagged_cells,
            "cells": cells,
            "fraction": flagged_cells / cells if cells else 0.0,
            "exact": exact,
        }
    return stats, bounds, summary
