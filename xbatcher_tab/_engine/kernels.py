"""Numpy kernels, the reference: strided window views, box sums, summaries, centering.

A *window view* exposes every window of an array without copying: each windowed axis
is replaced by a window-position axis (``n_windows`` long, strided by the window
stride) and the window's own cells are appended as trailing axes. Consumers index or
reshape that view; the only copy happens when the final output is laid out.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Sequence

import numpy as np
from numpy.lib.stride_tricks import as_strided
from scipy import ndimage
from scipy.linalg import blas
from threadpoolctl import ThreadpoolController

from .._core.plan import window_starts
from .._core.window import window_count

__all__ = [
    "center_columns",
    "copy_friendly_view",
    "expand_last",
    "expanded_view",
    "expanded_windows",
    "window_summaries",
    "gather_rows",
    "single_threaded_blas",
    "window_any",
    "window_view",
]


_GEMM = {"f": blas.sgemm, "d": blas.dgemm}  # by dtype char


@functools.cache
def _blas_pools():
    return ThreadpoolController().select(user_api="blas")


@contextlib.contextmanager
def single_threaded_blas():
    """BLAS limited to the calling thread while the block runs: the updates of
    :func:`center_columns` are small, and BLAS threads spinning beside the gather
    (the machine's other cores, or its hyperthread twin) halved their speed."""
    with _blas_pools().limit(limits=1):
        yield


def window_view(
    arr: np.ndarray,
    axes: Sequence[int],
    sizes: Sequence[int],
    steps: Sequence[int],
) -> np.ndarray:
    """A read-only view of every window along ``axes`` (``sizes`` long, every ``steps``).

    The result has ``arr.ndim + len(axes)`` dims: ``arr``'s dims with each windowed
    axis holding window positions, then one axis per window dim, in ``axes`` order.

    Examples
    --------
    >>> a = np.arange(6)
    >>> window_view(a, [0], [3], [2])
    array([[0, 1, 2],
           [2, 3, 4]])
    """
    arr = np.asarray(arr)
    if not axes:
        return arr
    shape = list(arr.shape)
    strides = list(arr.strides)
    for ax, size, step in zip(axes, sizes, steps, strict=True):
        if not 1 <= size <= arr.shape[ax] or step < 1:
            raise ValueError(
                f"window of {size} at stride {step} does not fit axis {ax} of {arr.shape}"
            )
        shape[ax] = window_count(arr.shape[ax], size, step)
        strides[ax] = arr.strides[ax] * step
    shape += list(sizes)
    strides += [arr.strides[ax] for ax in axes]
    return as_strided(arr, shape=shape, strides=strides, writeable=False)


def window_any(
    mask: np.ndarray,
    axes: Sequence[int],
    sizes: Sequence[int],
    steps: Sequence[int],
) -> np.ndarray:
    """Whether each window of ``mask`` holds a True cell, without building the windows.

    Box sums by cumulative sums along each windowed axis, so memory stays the size of
    ``mask``. The result has ``mask``'s shape with each windowed axis holding window
    positions, like the leading axes of :func:`window_view`.

    Examples
    --------
    >>> window_any(np.array([0, 0, 1, 0, 0, 0], bool), [0], [2], [2]).tolist()
    [False, True, False]
    """
    return _box_sum(np.asarray(mask, dtype=np.int32), axes, sizes, steps) > 0


def gather_rows(
    view: np.ndarray,
    index: tuple[np.ndarray, ...],
    out: np.ndarray,
    chunk_bytes: int = 1 << 21,
    at: np.ndarray | None = None,
) -> np.ndarray:
    """Copy the windows at ``index`` (one array per leading axis of ``view``) into the
    rows of ``out`` (shape ``(n, cells)``), in chunks of rows small enough for the
    temporary to stay in cache. With ``at`` (distinct rows of ``out``, one per window),
    window ``i`` goes to row ``at[i]`` of ``out`` instead of row ``i``: a gather and a scatter in
    one pass.

    Examples
    --------
    >>> v = window_view(np.arange(6.0), [0], [3], [1])
    >>> gather_rows(v, (np.array([3, 0]),), np.empty((2, 3))).tolist()
    [[3.0, 4.0, 5.0], [0.0, 1.0, 2.0]]
    >>> gather_rows(v, (np.array([3, 0]),), np.zeros((3, 3)), at=np.array([2, 0])).tolist()
    [[0.0, 1.0, 2.0], [0.0, 0.0, 0.0], [3.0, 4.0, 5.0]]
    """
    n = out.shape[0] if at is None else at.size
    if not index:  # nothing to index: every row is the whole (broadcast) view
        out[... if at is None else at] = view.reshape(1, -1)
        return out
    chunk = max(1, chunk_bytes // max(1, out.shape[1] * out.itemsize))
    for start in range(0, n, chunk):
        stop = min(start + chunk, n)
        part = view[tuple(i[start:stop] for i in index)].reshape(stop - start, -1)
        out[slice(start, stop) if at is None else at[start:stop]] = part
    return out


def contiguous_run(arr: np.ndarray, axes: Sequence[int], sizes: Sequence[int]) -> int:
    """Cells per contiguous run in memory of one window of ``arr`` (trailing window
    axes coalesce when each is laid out right after the next).

    Examples
    --------
    >>> a = np.zeros((5, 6))
    >>> contiguous_run(a, [0, 1], [2, 3]), contiguous_run(a, [0, 1], [2, 6])
    (3, 12)
    """
    run = sizes[-1] if arr.strides[axes[-1]] == arr.itemsize else 1
    for i in range(len(axes) - 2, -1, -1):
        if run != int(np.prod(sizes[i + 1 :])):
            break
        if arr.strides[axes[i]] != arr.strides[axes[i + 1]] * sizes[i + 1]:
            break
        run *= sizes[i]
    return run


def copy_friendly_view(
    arr: np.ndarray,
    axes: Sequence[int],
    sizes: Sequence[int],
    steps: Sequence[int],
    budget: int,
    min_run_bytes: int = 256,
) -> np.ndarray:
    """:func:`window_view` of ``arr``, laid out so that copying windows is fast.

    Same shape and values as ``window_view(arr, axes, sizes, steps)``. A window over
    several axes is copied in runs of its last axis's cells (e.g. 9 floats for a 9x9x9
    window); when those runs are short and the windows of all but the first window axis
    fit in ``budget`` bytes, those windows are first expanded into a contiguous array
    (one copy of ``arr`` times ``prod(sizes[1:])``), so that each window is then
    ``sizes[0]`` runs of ``prod(sizes[1:])`` cells.

    Examples
    --------
    >>> a = np.arange(20.0).reshape(4, 5)
    >>> fast = copy_friendly_view(a, [0, 1], [2, 2], [1, 1], budget=1 << 20, min_run_bytes=64)
    >>> bool((fast == window_view(a, [0, 1], [2, 2], [1, 1])).all())
    True
    """
    plain = window_view(arr, axes, sizes, steps)
    if len(axes) < 2 or contiguous_run(arr, axes, sizes) * arr.itemsize >= min_run_bytes:
        return plain
    # shape of the expansion: arr's axes (the windowed ones but the first as window
    # positions) followed by the cells of the windows of those axes
    positions = list(arr.shape)
    for ax, size, step in zip(axes[1:], sizes[1:], steps[1:], strict=True):
        positions[ax] = window_count(arr.shape[ax], size, step)
    nbytes = int(np.prod(positions, dtype=np.int64)) * int(np.prod(sizes[1:])) * arr.itemsize
    if nbytes > budget:
        return plain
    expanded = np.ascontiguousarray(window_view(arr, axes[1:], sizes[1:], steps[1:]))
    # window the first axis of the expansion: its cells land last; move them before
    # the other window axes' cells so the cell order is that of ``axes``
    view = window_view(expanded, axes[:1], sizes[:1], steps[:1])
    return np.moveaxis(view, -1, arr.ndim)


def expanded_view(
    arr: np.ndarray,
    axes: Sequence[int],
    sizes: Sequence[int],
    steps: Sequence[int],
) -> np.ndarray:
    """:func:`window_view` of ``arr`` read in longer runs, for windows taken one by one
    in any order.

    Same shape and values as ``window_view(arr, axes, sizes, steps)``, but built on a
    copy of ``arr`` expanded along its last window axis: the windows of that axis laid
    side by side, their position axis moved first (``sizes[-1] / steps[-1]`` times the
    bytes of ``arr``). A window is then read in runs of its last two axes' cells (81
    floats of a 9x9x9 window, rather than 9), so a gather in random order touches a
    ninth as many places in memory. ``axes`` must be the trailing axes of a C-contiguous
    ``arr``, at least two of them; otherwise the plain view is returned.

    Examples
    --------
    >>> a = np.arange(24.0).reshape(4, 6)
    >>> v = expanded_view(a, [0, 1], [2, 3], [1, 1])
    >>> bool((v == window_view(a, [0, 1], [2, 3], [1, 1])).all()), v.base is not None
    (True, True)
    """
    arr = np.asarray(arr)
    expanded = expand_last(arr, axes, sizes, steps)
    if expanded is None:
        return window_view(arr, axes, sizes, steps)
    return expanded_windows(expanded, arr.ndim, axes, sizes, steps)


def expand_last(
    arr: np.ndarray, axes: Sequence[int], sizes: Sequence[int], steps: Sequence[int]
) -> np.ndarray | None:
    """The contiguous copy behind :func:`expanded_view`: shape (window positions along
    the last axis, ``arr``'s other axes, that axis's window cells), or None where
    there is none (fewer than two window axes, not the trailing ones, or ``arr`` not
    C-contiguous).

    Examples
    --------
    >>> expand_last(np.arange(6.0).reshape(2, 3), [0, 1], [1, 2], [1, 1]).tolist()
    [[[0.0, 1.0], [3.0, 4.0]], [[1.0, 2.0], [4.0, 5.0]]]
    """
    k = len(axes)
    if k < 2 or list(axes) != list(range(arr.ndim - k, arr.ndim)) or not arr.flags.c_contiguous:
        return None
    last = arr.ndim - 1
    along_last = window_view(arr, [last], sizes[-1:], steps[-1:])
    return np.ascontiguousarray(np.moveaxis(along_last, last, 0))


def expanded_windows(
    expanded: np.ndarray,
    ndim: int,
    axes: Sequence[int],
    sizes: Sequence[int],
    steps: Sequence[int],
) -> np.ndarray:
    """The windows of an ``ndim``-d array as a view of its :func:`expand_last` copy:
    the shape and values of :func:`window_view`."""
    view = window_view(expanded, [a + 1 for a in axes[:-1]], sizes[:-1], steps[:-1])
    # -> the array's axes (positions), then the window cells in ``axes`` order
    n, k = ndim, len(axes)
    order = list(range(1, n)) + [0] + list(range(n + 1, n + k)) + [n]
    return view.transpose(order)


def center_columns(
    rows: np.ndarray,
    refs: Sequence[tuple[slice, np.ndarray]],
    chunk_bytes: int = 1 << 18,
) -> None:
    """``rows[:, cells] -= ref[:, None]`` in place, for each ``(cells, ref)`` of ``refs``.

    numpy's subtraction of a per-row scalar runs at a fraction of memory speed (one
    short inner loop per row), so on C-contiguous float32/float64 rows the
    subtractions of all ``refs`` are one BLAS rank-k update per cache-sized chunk of
    rows (``rows += R @ S``, ``S`` selecting each reference's columns with -1, a
    product by 0 or -1 being exact): the same values as numpy's subtraction (a zero's
    sign aside). Non-finite references are applied with numpy (0 * inf is NaN).

    Examples
    --------
    >>> r = np.arange(6, dtype=np.float32).reshape(2, 3)
    >>> center_columns(r, [(slice(0, 2), r[:, 2].copy())])
    >>> r.tolist()
    [[-2.0, -1.0, 2.0], [-2.0, -1.0, 5.0]]
    """
    if not refs or not rows.size:
        return
    gemm = _GEMM.get(rows.dtype.char) if rows.ndim == 2 and rows.flags.c_contiguous else None
    if len(refs) == 1:  # one column: a view, no stacking
        R = np.asarray(refs[0][1], dtype=rows.dtype).reshape(-1, 1)
    else:
        R = np.stack([np.asarray(ref, dtype=rows.dtype) for _, ref in refs], axis=1)
    if gemm is None:
        for (cells, _), ref in zip(refs, R.T, strict=True):
            rows[:, cells] -= ref[:, None]
        return
    finite = np.isfinite(R)
    exact = R if finite.all() else np.where(finite, R, 0)
    S = np.zeros((len(refs), rows.shape[1]), dtype=rows.dtype)
    for k, (cells, _) in enumerate(refs):
        S[k, cells] = -1
    step = max(1, chunk_bytes // max(1, rows.shape[1] * rows.itemsize))
    for lo in range(0, rows.shape[0], step):
        # rows.T is Fortran-ordered (columns x rows): C += S.T @ R.T updates it in place
        part = rows[lo : lo + step].T
        gemm(1.0, S.T, exact[lo : lo + step].T, beta=1.0, c=part, overwrite_c=True)
    if exact is not R:  # the references left out of the update (0 in ``exact``)
        for k, (cells, _) in enumerate(refs):
            bad = np.flatnonzero(~finite[:, k])
            rows[bad, cells] -= R[bad, k, None]


def window_summaries(
    arr: np.ndarray,
    axes: Sequence[int],
    sizes: Sequence[int],
    steps: Sequence[int],
    stats: Sequence[str],
) -> dict[str, np.ndarray]:
    """NaN-aware summaries (``mean``, ``std``, ``min``, ``max``) of every window of
    ``arr``, computed on the grid itself, not per window cell: box sums by cumulative
    sums and separable sliding minima and maxima, so the cost is that of a few passes
    over ``arr`` whatever the window's size. Each result has the shape of the leading
    axes of :func:`window_view` (window positions); an all-NaN window gives NaN.

    Examples
    --------
    >>> a = np.array([[1.0, 2.0, np.nan, 4.0]])
    >>> {k: v.tolist() for k, v in window_summaries(a, [1], [2], [1], ["mean", "max"]).items()}
    {'mean': [[1.5, 2.0, 4.0]], 'max': [[2.0, 2.0, 4.0]]}
    """
    out: dict[str, np.ndarray] = {}
    missing = np.isnan(arr) if arr.dtype.kind == "f" else np.zeros(arr.shape, bool)
    gaps = bool(missing.any())
    if {"mean", "std"} & set(stats):
        filled = np.where(missing, 0.0, arr.astype(np.float64)) if gaps else arr.astype(np.float64)
        if gaps:
            count = _box_sum((~missing).astype(np.float64), axes, sizes, steps)
        else:
            count = float(np.prod(sizes))
        total = _box_sum(filled, axes, sizes, steps)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = total / count
            if "std" in stats:
                # squares about a shift (the grid's mean) keep float64 sums accurate
                shift = float(filled.sum() / max(1, (~missing).sum()))
                squares = (filled - shift) ** 2
                if gaps:
                    squares[missing] = 0.0
                squares = _box_sum(squares, axes, sizes, steps)
                var = squares / count - (mean - shift) ** 2
                out["std"] = np.sqrt(np.maximum(var, 0.0))
        out["mean"] = mean
    for stat, sliding, fill in (
        ("min", ndimage.minimum_filter1d, np.inf),
        ("max", ndimage.maximum_filter1d, -np.inf),
    ):
        if stat in stats:
            ext = np.where(missing, fill, arr) if gaps else arr
            for ax, size, step in zip(axes, sizes, steps, strict=True):
                # the filter centered on cell j covers [j - size // 2, j - size // 2 + size):
                # the window starting at i is the one centered on i + size // 2
                ext = sliding(ext, size, axis=ax, mode="nearest")
                starts = window_starts(ext.shape[ax], size, step) + size // 2
                ext = np.take(ext, starts, axis=ax)
            if gaps:  # all-missing windows: NaN, not the fill value
                empty = _all_missing(missing, axes, sizes, steps)
                ext = np.where(np.isinf(ext) & empty, np.nan, ext)
            out[stat] = ext
    return {k: out[k] for k in stats if k in out}


def _box_sum(values: np.ndarray, axes, sizes, steps) -> np.ndarray:
    """Sum of each window, in ``values``' dtype (float64 sums, int32 counts), by
    cumulative sums along each window axis."""
    for ax, size, step in zip(axes, sizes, steps, strict=True):
        pad = [(0, 0)] * values.ndim
        pad[ax] = (1, 0)
        csum = np.cumsum(np.pad(values, pad), axis=ax, dtype=values.dtype)
        starts = window_starts(values.shape[ax], size, step)
        values = np.take(csum, starts + size, axis=ax) - np.take(csum, starts, axis=ax)
    return values


def _all_missing(missing: np.ndarray, axes, sizes, steps) -> np.ndarray:
    """Whether every cell of each window is missing."""
    present = window_any(~missing, axes, sizes, steps)
    return ~present
