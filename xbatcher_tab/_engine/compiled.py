"""The compiled engine's gather of one table's rows: per variable, one pass of the numba
kernel that writes each window straight into its row (in any order) and centers it
there, then the extra columns. Equal to the numpy engine's rows; used by
:class:`~xbatcher_tab._engine.copy.RowCopier` for every gather but plain whole blocks.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from types import ModuleType
from typing import Any

import numpy as np

from .choice import compiled_kernels

__all__ = ["CompiledGather"]

# the kernel reads long runs for rows that hold at least 1 in this many of the
# samples between their first and last
LONG_RUN_DENSITY = 32


class CompiledGather:
    """The compiled kernel and each feature array's window geometry for it."""

    def __init__(self, kernels: ModuleType, features: Sequence[Any]) -> None:
        self.kernels = kernels
        self.features = list(features)
        self.geometry = [
            kernels.window_geometry(f.arr, f.axes, f.sizes, f.steps) for f in self.features
        ]
        self._long: dict[int, tuple] = {}  # per feature: the geometry of its long runs
        self.modes = {None: kernels.NO_CENTER, "anchor": kernels.ANCHOR, "given": kernels.GIVEN}

    @classmethod
    def of(cls, engine: str, features: Sequence[Any], dtype: np.dtype) -> CompiledGather | None:
        """The compiled gather when ``engine`` resolves to numba and the kernel can
        copy these rows (its dtypes, C-contiguous feature arrays); else None (numpy:
        float16, or an array numba cannot read)."""
        kernels = compiled_kernels(engine)
        if kernels is None or dtype not in kernels.DTYPES:
            return None
        if not all(f.arr.dtype == dtype and f.arr.flags.c_contiguous for f in features):
            return None
        return cls(kernels, features)

    def gather(
        self,
        ids: np.ndarray,
        pos: Mapping[Hashable, np.ndarray],
        out: np.ndarray,
        rows: np.ndarray,
        finisher: Any,
        extra: dict,
        budget: Any = None,
    ) -> None:
        """The rows of ``ids`` (at positions ``pos``) into ``out[rows]``, centered as
        the ``finisher`` says, then its ``extra`` columns. With a copy ``budget``, a
        variable whose windows are read in short runs is read from its copy expanded
        along the last window dim once that pays (9 runs of 81 cells for a 9x9x9
        window rather than 81 of 9: the copy is built once, some 9 times the
        variable, and the rows are the same)."""
        rows = rows.astype(np.int64, copy=False)
        # rows written out of order (shuffled ids, or their places in a batch): the
        # kernel reads in memory order and fetches rows ahead
        shuffled = bool((np.diff(ids) < 0).any() or (np.diff(rows) < 0).any())
        # long runs pay where the rows are dense enough among the samples they span
        # to reuse the expanded copy's lines (a 5 % subset: 10 % faster; 0.6 %: 40 %
        # slower than the array itself, which stays in cache)
        span = int(ids.max() - ids.min()) + 1 if ids.size else 0
        dense = budget is not None and ids.size * LONG_RUN_DENSITY >= span
        for i, (f, geometry) in enumerate(zip(self.features, self.geometry, strict=True)):
            dims = f.dims
            if dense and f.long_runs(rows.size, budget) is not None:
                geometry, dims = self._long_runs(i, f)
            strides = geometry[1]
            bases = np.zeros(rows.size, dtype=np.int64)
            for k, d in enumerate(dims):
                bases += pos[d].astype(np.int64, copy=False) * strides[k]
            how, refs, ref_col = finisher.centering(f, extra)
            self.kernels.gather_windows(
                geometry,
                bases,
                out,
                rows,
                f.columns.start,
                self.modes[how],
                f.plan.anchor_cell,
                refs,
                ref_col,
                shuffled,
            )
            extra.pop(ref_col, None)  # written by the kernel
        finisher.write_extra(out, extra, rows)

    def _long_runs(self, i: int, f: Any) -> tuple[tuple, tuple]:
        """Feature ``i``'s kernel geometry on its expanded copy (built), and the dims
        of that copy's position axes: the last window dim's positions first, then the
        variable's other dims."""
        if i not in self._long:
            copy, n = f.expanded_copy, f.arr.ndim
            geometry = self.kernels.window_geometry(
                copy,
                [a + 1 for a in f.axes[:-1]] + [n],
                f.sizes,
                f.steps[:-1] + (1,),
            )
            self._long[i] = (geometry, (f.dims[-1], *f.dims[:-1]))
        return self._long[i]
