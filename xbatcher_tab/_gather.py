"""Numpy kernels: strided window views and the one copy that gathers a batch.

A *window view* exposes every window of an array without copying: each windowed axis
is replaced by a window-position axis (``n_windows`` long, strided by the window
stride) and the window's own cells are appended as trailing axes. Consumers index or
reshape that view; the only copy happens when the final output is laid out.
"""

from __future__ import annotations

import warnings
from collections.abc import Hashable, Mapping, Sequence

import numpy as np
from numpy.lib.stride_tricks import as_strided

__all__ = [
    "copy_centred",
    "copy_friendly_view",
    "finish_windows",
    "window_means",
    "gather_rows",
    "layout",
    "window_any",
    "window_view",
]


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
        shape[ax] = (arr.shape[ax] - size) // step + 1
        strides[ax] = arr.strides[ax] * step
    shape += list(sizes)
    strides += [arr.strides[ax] for ax in axes]
    return as_strided(arr, shape=shape, strides=strides, writeable=False)


def layout(
    arr: np.ndarray,
    dims: Sequence[Hashable],
    target: Sequence[tuple[Hashable, ...]],
    sizes: Mapping[Hashable, int],
) -> np.ndarray:
    """Lay ``arr`` (labelled by ``dims``) out as ``target``: a view where numpy can, else
    one copy.

    ``target`` lists the output axes, each a tuple of the labels merged into it (C
    order). Labels missing from ``dims`` are broadcast with length ``sizes[label]``;
    every label of ``dims`` must appear in ``target``.

    Examples
    --------
    >>> a = np.arange(6).reshape(2, 3)
    >>> layout(a, ("x", "y"), [("y", "x")], {"x": 2, "y": 3}).tolist()
    [0, 3, 1, 4, 2, 5]
    >>> layout(np.arange(2), ("x",), [("x", "z")], {"x": 2, "z": 2}).tolist()
    [0, 0, 1, 1]
    """
    flat = [d for group in target for d in group]
    missing = [d for d in dims if d not in flat]
    if missing:
        raise ValueError(f"labels {missing} of the array are not in the target layout")
    expanded = arr.reshape(arr.shape + (1,) * (len(flat) - len(dims)))
    all_dims = list(dims) + [d for d in flat if d not in dims]
    order = [all_dims.index(d) for d in flat]
    moved = np.broadcast_to(expanded.transpose(order), tuple(sizes[d] for d in flat))
    shape = tuple(int(np.prod([sizes[d] for d in group], dtype=np.int64)) for group in target)
    if not moved.size:
        return np.empty(shape, arr.dtype)
    # np.reshape returns a view when the strides allow it and copies once otherwise.
    return moved.reshape(shape)


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
    counts = np.asarray(mask, dtype=np.int32)
    for ax, size, step in zip(axes, sizes, steps, strict=True):
        n = (counts.shape[ax] - size) // step + 1
        pad = [(0, 0)] * counts.ndim
        pad[ax] = (1, 0)
        csum = np.cumsum(np.pad(counts, pad), axis=ax, dtype=np.int32)
        starts = np.arange(n) * step
        counts = np.take(csum, starts + size, axis=ax) - np.take(csum, starts, axis=ax)
    return counts > 0


def gather_rows(
    view: np.ndarray,
    index: tuple[np.ndarray, ...],
    out: np.ndarray,
    chunk_bytes: int = 1 << 21,
    after=None,
) -> np.ndarray:
    """Copy the windows at ``index`` (one array per leading axis of ``view``) into the
    rows of ``out`` (shape ``(n, cells)``), in chunks of rows small enough for the
    temporary to stay in cache; ``after(start, stop)``, if given, runs on each chunk's
    rows right after they are copied (still in cache).

    Examples
    --------
    >>> v = window_view(np.arange(6.0), [0], [3], [1])
    >>> gather_rows(v, (np.array([3, 0]),), np.empty((2, 3))).tolist()
    [[3.0, 4.0, 5.0], [0.0, 1.0, 2.0]]
    """
    n = out.shape[0]
    if not index:  # nothing to index: every row is the whole (broadcast) view
        out[...] = view.reshape(1, -1)
        if after is not None:
            after(0, n)
        return out
    chunk = max(1, chunk_bytes // max(1, out.shape[1] * out.itemsize))
    for start in range(0, n, chunk):
        stop = min(start + chunk, n)
        part = view[tuple(i[start:stop] for i in index)]
        out[start:stop] = part.reshape(stop - start, -1)
        if after is not None:
            after(start, stop)
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
        positions[ax] = (arr.shape[ax] - size) // step + 1
    nbytes = int(np.prod(positions, dtype=np.int64)) * int(np.prod(sizes[1:])) * arr.itemsize
    if nbytes > budget:
        return plain
    expanded = np.ascontiguousarray(window_view(arr, axes[1:], sizes[1:], steps[1:]))
    # window the first axis of the expansion: its cells land last; move them before
    # the other window axes' cells so the cell order is that of ``axes``
    view = window_view(expanded, axes[:1], sizes[:1], steps[:1])
    return np.moveaxis(view, -1, arr.ndim)


def finish_windows(
    block: np.ndarray,
    cells: slice,
    anchor_cell: int,
    center: str | None = None,
    reference: int | None = None,
    stats: dict[str, int] | None = None,
    centred: bool = False,
) -> np.ndarray:
    """Turn one variable's window cells in ``block`` (rows of X) into its features, in
    place. Callers pass rows just copied, still in cache.

    Writes each summary of ``stats`` (``{"mean": column, ...}``, NaN-aware) into its
    column, then centres the cells on the reference (the cell ``anchor_cell`` or the
    window mean) and writes the reference into column ``reference``. ``centred``: the
    cells are already centred on the anchor cell and ``reference`` holds it (the copy
    did it, see :func:`copy_centred`); summaries are then shifted back.

    Examples
    --------
    >>> X = np.array([[1.0, 2.0, 6.0, 0.0, 0.0]])
    >>> finish_windows(X, slice(0, 3), 1, "anchor", 3, stats={"max": 4}).tolist()
    [[-1.0, 0.0, 4.0, 2.0, 6.0]]
    """
    stats = stats or {}
    values = block[:, cells]  # a view: (rows, cells)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN windows give NaN
        shift = block[:, reference] if centred else None  # what the cells are less
        mean = None
        if stats or center == "mean":
            mean = window_means(values)
        for stat, column in stats.items():
            value = mean if stat == "mean" else _summary(stat, values, mean)
            block[:, column] = value if shift is None or stat == "std" else value + shift
        if center is not None and not centred:
            ref = values[:, anchor_cell].copy() if center == "anchor" else mean
            values -= ref[:, None]
            block[:, reference] = ref
    return block


def copy_centred(target: np.ndarray, view: np.ndarray, anchor: tuple) -> np.ndarray:
    """``target[...] = view - view at the anchor cell`` in one pass; returns the anchor
    values. ``view``: (positions...) + (window cells...); ``anchor``: the anchor cell's
    index along each window axis."""
    n_cells = len(anchor)
    ref = view[(Ellipsis, *anchor)]
    np.subtract(view, ref[(Ellipsis,) + (np.newaxis,) * n_cells], out=target)
    return ref


def window_means(values: np.ndarray) -> np.ndarray:
    """NaN-aware mean of each row; a matrix-vector product for rows without NaN."""
    total = values @ np.ones(values.shape[1], dtype=values.dtype)
    means = total / values.shape[1]
    bad = np.isnan(total)
    if bad.any():
        means[bad] = np.nanmean(values[bad], axis=1)
    return means


def _summary(stat: str, values: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """A NaN-aware summary of each row: fast reductions for rows without NaN."""
    if stat == "std":
        deviations = values - mean[:, None]
        out = np.sqrt(np.einsum("ij,ij->i", deviations, deviations) / values.shape[1])
    else:
        out = (np.min if stat == "min" else np.max)(values, axis=1)
    bad = np.isnan(out)
    if bad.any():  # rows with NaN: the NaN-aware summary over their other cells
        nan_aware = {"std": np.nanstd, "min": np.nanmin, "max": np.nanmax}[stat]
        out[bad] = nan_aware(values[bad], axis=1)
    return out
