"""Per-variable means and standard deviations over grid cells, piece by piece.

``scale=True`` standardizes each feature variable by statistics of its grid cells,
not of the windowed table (which repeats each cell once per window it falls in).
They are accumulated as ``(count, mean, M2)`` (the sum of squared deviations) and
merged exactly (Chan et al.'s pairwise update), so fitting on pieces of the data gives
the statistics of the whole.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence

import numpy as np
import xarray as xr

from .._core.data import is_lazy

__all__ = ["Moments", "merge", "moments", "of_cells", "scaling"]

Moments = tuple[int, float, float]  # count, mean, M2


def moments(ds: xr.Dataset, variables: Sequence[Hashable]) -> dict[Hashable, Moments]:
    """NaN-aware ``(count, mean, M2)`` of each variable's cells, in one pass over the
    data (chunk by chunk for dask-backed data).

    Examples
    --------
    >>> ds = xr.Dataset({"v": ("x", [1.0, 2.0, np.nan, 5.0])})
    >>> moments(ds, ["v"])
    {'v': (3, 2.6666666666666665, 8.666666666666668)}
    """
    parts = {}
    for v in variables:
        values = ds[v].astype(np.float64)
        parts[v] = (values.count(), values.mean(), values.var())
    if is_lazy(ds[list(variables)].variables.values()):
        import dask

        (parts,) = dask.compute(parts)
    out = {}
    for v, (count, mean, var) in parts.items():
        n = int(count)
        out[v] = (n, float(mean) if n else 0.0, float(var) * n if n else 0.0)
    return out


def merge(a: Moments, b: Moments) -> Moments:
    """The moments of two pieces together.

    Examples
    --------
    >>> merge((2, 1.5, 0.5), (1, 5.0, 0.0))
    (3, 2.666666666666667, 8.666666666666666)
    """
    (na, ma, sa), (nb, mb, sb) = a, b
    n = na + nb
    if not n:
        return (0, 0.0, 0.0)
    delta = mb - ma
    return (n, ma + delta * nb / n, sa + sb + delta * delta * na * nb / n)


def of_cells(cells: np.ndarray) -> Moments:
    """The moments of some cells (none NaN)."""
    cells = np.asarray(cells, dtype=np.float64)
    if not cells.size:
        return (0, 0.0, 0.0)
    mean = float(cells.mean())
    return (int(cells.size), mean, float(((cells - mean) ** 2).sum()))


def scaling(stats: Mapping[Hashable, Moments]) -> dict[Hashable, tuple[float, float]]:
    """``(mean, std)`` per variable (population std; 1 where it is 0 or undefined, so a
    constant variable is only shifted)."""
    out = {}
    for v, (n, mean, m2) in stats.items():
        std = float(np.sqrt(m2 / n)) if n else 0.0
        out[v] = (mean, std if std > 0 and np.isfinite(std) else 1.0)
    return out
