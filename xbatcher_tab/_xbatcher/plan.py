"""The xbatcher generator's plans: which windows each batch holds, and how a batch's
arrays are laid out (xbatcher 0.4.0's order and composition).

Plans come from sizes alone (a :class:`BatchPlan` is a plain value); :func:`arrange`
lays an array out in a batch's dims, a view where numpy can, else one copy.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .._core.window import WindowSpec, window_count

__all__ = ["Axis", "BatchPlan", "arrange", "xbatcher_plans"]


# -- xbatcher's batches ----------------------------------------------------------------------


@dataclass(frozen=True)
class Axis:
    """One sliced dim of a plan: windows of ``size`` cells every ``stride`` cells."""

    dim: Hashable
    size: int
    stride: int
    count: int

    def bounds(self, windows: range) -> slice:
        """The slab of cells covered by a contiguous range of window indices."""
        return slice(windows.start * self.stride, (windows.stop - 1) * self.stride + self.size)


@dataclass(frozen=True)
class BatchPlan:
    """The windows of one batch: a contiguous range of window indices per sliced dim.

    The batch holds the Cartesian product of the ranges, enumerated in C order over
    ``axes`` (the last axis varies fastest).
    """

    axes: tuple[Axis, ...]
    windows: tuple[range, ...]

    @property
    def n_windows(self) -> int:
        return math.prod(len(r) for r in self.windows)

    def selector(self) -> dict[Hashable, slice]:
        """``isel`` selector of the slab that holds every window of the batch."""
        return {ax.dim: ax.bounds(r) for ax, r in zip(self.axes, self.windows, strict=True)}


def xbatcher_plans(
    dim_sizes: Mapping[Hashable, int],
    spec: WindowSpec,
    batch_dims: Mapping[Hashable, int],
    concat_input_dims: bool,
) -> list[BatchPlan]:
    """Batches in the order and composition of xbatcher 0.4.0's ``BatchGenerator``.

    Sliced dims are the batch dims that are not input dims (windows of the batch size,
    no overlap), then the input dims. Without ``concat_input_dims`` every window is a
    batch of its own. With it, windows are grouped: per dim, window ``i`` goes to batch
    ``i // ceil(batch_size / stride)`` and windows whose batch index reaches
    ``length // batch_size`` are dropped, as xbatcher 0.4.0 does. Unlike xbatcher,
    batches left empty by that rule are skipped rather than yielded.

    Examples
    --------
    >>> spec = WindowSpec(("time",), (10,), (9,))
    >>> plans = xbatcher_plans({"time": 60}, spec, {"time": 20}, True)
    >>> [p.n_windows for p in plans]
    [20, 20, 11]
    >>> [p.selector() for p in plans][-1]
    {'time': slice(40, 60, None)}
    """
    unique_batch = {d: n for d, n in batch_dims.items() if d not in spec.dims}
    axes = [Axis(d, n, n, window_count(dim_sizes[d], n, n)) for d, n in unique_batch.items()]
    for d in spec.dims:
        size, stride = spec.size(d), spec.stride(d)
        axes.append(Axis(d, size, stride, window_count(dim_sizes[d], size, stride)))
    axes_t = tuple(axes)

    if not concat_input_dims:
        return [
            BatchPlan(axes_t, tuple(range(i, i + 1) for i in idx))
            for idx in itertools.product(*(range(ax.count) for ax in axes_t))
        ]

    # Per sliced dim: the window-index ranges of each batch along that dim.
    per_dim: list[list[range]] = []
    for ax in axes_t:
        if ax.dim in batch_dims:
            per_batch = math.ceil(batch_dims[ax.dim] / ax.stride)
            n_batches = dim_sizes[ax.dim] // batch_dims[ax.dim]
            ranges = [
                range(b * per_batch, min((b + 1) * per_batch, ax.count)) for b in range(n_batches)
            ]
        else:
            ranges = [range(ax.count)]
        per_dim.append(ranges)
    return [
        BatchPlan(axes_t, combo)
        for combo in itertools.product(*per_dim)
        if all(len(r) > 0 for r in combo)
    ]


# -- a batch's arrays ------------------------------------------------------------------------


def arrange(
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
    >>> arrange(a, ("x", "y"), [("y", "x")], {"x": 2, "y": 3}).tolist()
    [0, 3, 1, 4, 2, 5]
    >>> arrange(np.arange(2), ("x",), [("x", "z")], {"x": 2, "z": 2}).tolist()
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
    if _merges_as_view(moved, [len(group) for group in target]):
        return moved.reshape(shape)
    return _repeated(moved).reshape(shape)


def _merges_as_view(arr: np.ndarray, groups: Sequence[int]) -> bool:
    """Whether merging runs of ``groups`` consecutive axes of ``arr`` (C order) is a
    view: within each run, every axis (of length > 1) steps over the next one whole."""
    start = 0
    for n in groups:
        axes = [a for a in range(start, start + n) if arr.shape[a] > 1]
        for outer, inner in zip(axes[:-1], axes[1:], strict=True):
            if arr.strides[outer] != arr.strides[inner] * arr.shape[inner]:
                return False
        start += n
    return True


def _repeated(arr: np.ndarray) -> np.ndarray:
    """A C-contiguous copy of ``arr``. Broadcast axes (stride 0) are filled by
    repeating the copy of the rest (whole blocks at a time) rather than copied
    element by element, e.g. a time coordinate spread over every grid cell."""
    broadcast = [a for a in range(arr.ndim) if arr.strides[a] == 0 and arr.shape[a] > 1]
    if not broadcast:
        return np.ascontiguousarray(arr)
    out = np.ascontiguousarray(
        arr[tuple(slice(0, 1) if a in broadcast else slice(None) for a in range(arr.ndim))]
    )
    for a in reversed(broadcast):  # inner axes first: the copies grow to the full size
        out = np.repeat(out, arr.shape[a], axis=a)
    return out
