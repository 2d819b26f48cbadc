"""The copy kernel compiled with numba: the same rows as the numpy reference.

Importing this module imports numba (the ``fast`` extra). One kernel,
:func:`gather_windows`, copies one variable's window of each sample into its row,
straight from the variable's array (its window's cells as runs along its last axis),
for any sample ids in any order, and centers each cell on the row's reference as it
copies it (the anchor cell, or a reference given per row: the window's mean), one
pass. Scattered windows are read in the order they lie in the array, each still
written to its own row, so that neighbouring windows share the cache. It holds no
GIL, so the copy engine's threads run it side by side. It is compiled once per dtype
and cached on disk (``cache=True``): a later process loads it rather than compiling
it again.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .._core.optional import require

numba = require("numba", "fast", "the numba engine")

__all__ = ["ANCHOR", "GIVEN", "NO_CENTER", "gather_windows", "self_test", "window_geometry"]

NO_CENTER, ANCHOR, GIVEN = 0, 1, 2  # how a variable's cells are centered

# the dtypes the kernel is compiled for (numba has no float16)
DTYPES = frozenset(np.dtype(c) for c in "fdbhilqBHILQ")


# scattered rows: the first lines of the row written two rows later are fetched ahead
# (written in random order, a row's lines are not fetched by the hardware in time)
PREFETCH_AHEAD, PREFETCH_BYTES = 2, 512


@numba.extending.intrinsic
def _prefetch_for_write(typingctx, arr, index):
    """Ask the CPU to fetch the cache line of ``arr[index]`` (a 1-d array) for writing:
    a hint (LLVM's ``llvm.prefetch``), which never faults and changes no value."""
    from llvmlite import ir
    from numba.core import cgutils

    if not isinstance(arr, numba.types.Array) or arr.ndim != 1:
        return None

    def codegen(context, builder, signature, args):
        aryty = signature.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        ptr = cgutils.get_item_pointer(context, builder, aryty, ary, [args[1]], wraparound=False)
        i32 = ir.IntType(32)
        if getattr(ptr.type, "is_opaque", False):  # LLVM 15 and later
            name = "llvm.prefetch.p0"
        else:
            ptr, name = builder.bitcast(ptr, ir.IntType(8).as_pointer()), "llvm.prefetch.p0i8"
        fnty = ir.FunctionType(ir.VoidType(), [ptr.type, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, name)
        builder.call(fn, [ptr, i32(1), i32(3), i32(1)])  # write, keep in cache, data
        return context.get_dummy_value()

    return numba.types.void(arr, index), codegen


@numba.njit(nogil=True, cache=True, boundscheck=False)
def _gather(src, bases, runs, run_len, out, rows, col0, center, anchor, refs, ref_col, scattered):
    # indices made unsigned: no wraparound test per element, so the runs vectorize
    n_runs = runs.shape[0]
    n = bases.shape[0]
    line = max(1, 64 // out.itemsize)
    ahead = min(out.shape[1] - col0, PREFETCH_BYTES // out.itemsize)
    for i in range(n):
        if scattered and i + PREFETCH_AHEAD < n:
            later = out[rows[i + PREFETCH_AHEAD]]
            for c in range(col0, col0 + ahead, line):
                _prefetch_for_write(later, np.uint64(c))
        row = out[rows[i]]
        b = bases[i]
        c = col0
        if center == NO_CENTER:
            for k in range(n_runs):
                o = b + runs[k]
                for j in range(run_len):
                    row[np.uint64(c + j)] = src[np.uint64(o + j)]
                c += run_len
            continue
        ref = src[b + anchor] if center == ANCHOR else refs[i]
        for k in range(n_runs):
            o = b + runs[k]
            for j in range(run_len):
                row[np.uint64(c + j)] = src[np.uint64(o + j)] - ref
            c += run_len
        if ref_col >= 0:
            row[ref_col] = ref


def window_geometry(
    arr: np.ndarray, axes: Sequence[int], sizes: Sequence[int], steps: Sequence[int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """How to read the windows of the C-contiguous ``arr`` (windows along ``axes``,
    ``sizes`` long, every ``steps``, as :func:`~xbatcher_tab._engine.kernels.window_view`) from
    its flat values: ``(flat, position_strides, runs, run_len)``, in elements. The
    window at positions ``p`` (one per axis of ``arr``) starts at ``p @
    position_strides``; its cells, in C order over ``axes``, are runs of ``run_len``
    consecutive values starting ``runs`` after that. Trailing window axes laid end to
    end in ``arr`` (a window as wide as the axis) are one run.

    Examples
    --------
    >>> flat, strides, runs, run_len = window_geometry(np.zeros((4, 5)), [0, 1], [2, 3], [1, 2])
    >>> strides.tolist(), runs.tolist(), run_len
    ([5, 2], [0, 5], 3)
    """
    if not arr.flags.c_contiguous:
        raise ValueError("the numba engine reads windows of C-contiguous arrays only")
    elem = [s // arr.itemsize for s in arr.strides] if arr.ndim else []
    positions = np.array(elem, dtype=np.int64)
    for ax, step in zip(axes, steps, strict=True):
        positions[ax] *= step
    cells = [(elem[ax], size) for ax, size in zip(axes, sizes, strict=True)]
    run_len = 1
    while cells and cells[-1][0] == run_len:  # the last axes follow one another in memory
        run_len *= cells.pop()[1]
    runs = np.zeros(1, dtype=np.int64)
    for stride, size in cells:
        runs = (runs[:, None] + np.arange(size, dtype=np.int64) * stride).ravel()
    return arr.reshape(-1), positions, runs, run_len


def gather_windows(
    geometry: tuple[np.ndarray, np.ndarray, np.ndarray, int],
    bases: np.ndarray,
    out: np.ndarray,
    rows: np.ndarray,
    col0: int,
    center: int = NO_CENTER,
    anchor: int = 0,
    refs: np.ndarray | None = None,
    ref_col: int = -1,
    shuffled: bool = False,
) -> None:
    """Copy the window starting at element ``bases[i]`` (see :func:`window_geometry`)
    into ``out[rows[i], col0:]``, for every ``i``; with ``center``, minus the value of
    the window's cell ``anchor`` (``ANCHOR``, in C order) or ``refs[i]`` (``GIVEN``,
    cast to ``out``'s dtype first, as the numpy engine does), the reference then
    written to column ``ref_col`` (if >= 0). ``shuffled`` rows (from ids out of order)
    are copied in the order their windows lie in memory (each to its own row), with
    their rows' first lines fetched ahead.

    Examples
    --------
    >>> geometry = window_geometry(np.arange(6.0), [0], [3], [1])
    >>> out = np.zeros((2, 4))
    >>> gather_windows(geometry, np.array([3, 0]), out, np.array([0, 1]), 0, ANCHOR, 1,
    ...                ref_col=3)
    >>> out.tolist()
    [[-1.0, 0.0, 1.0, 4.0], [-1.0, 0.0, 1.0, 1.0]]
    """
    flat, _, runs, run_len = geometry
    _check_bounds(flat, bases, runs, run_len, out, rows, col0, ref_col)
    if refs is None:
        refs = np.zeros(0, dtype=out.dtype)
    else:
        refs = np.ascontiguousarray(np.broadcast_to(refs, bases.shape), dtype=out.dtype)
    scattered = shuffled and bases.size > 1
    if scattered:  # read in the order the windows lie in memory
        order = np.argsort(bases)
        bases, rows = bases[order], rows[order]
        refs = refs[order] if refs.size else refs
    offset = int(runs[anchor // run_len]) + anchor % run_len  # the anchor cell's element
    _gather(flat, bases, runs, run_len, out, rows, col0, center, offset, refs, ref_col, scattered)


def _check_bounds(flat, bases, runs, run_len, out, rows, col0, ref_col) -> None:
    """Refuse what would make the kernel (compiled without bounds checks) read or write
    outside its arrays: a safety net, cheap next to the copy."""
    if not bases.size:
        return
    n_cells = runs.size * run_len
    last = int(runs.max()) + run_len - 1 if runs.size else 0
    problems = [
        (bases.min() < 0 or bases.max() + last >= flat.size, "read a window outside its array"),
        (rows.min() < 0 or rows.max() >= out.shape[0], "write a row outside out"),
        (
            col0 < 0 or col0 + n_cells > out.shape[1] or ref_col >= out.shape[1],
            "write a column outside out",
        ),
        (bases.shape != rows.shape, "take rows and windows of different counts"),
        (not out.flags.writeable, "write to a read-only out"),
    ]
    for bad, what in problems:
        if bad:
            raise IndexError(f"the compiled gather would {what}: refused (a bug in its caller)")


def self_test() -> None:
    """Compile the kernel for float64 (or load it from the cache) and check one gather
    against numpy: raises if this numba cannot run it."""
    arr = np.arange(24.0).reshape(4, 6)
    geometry = window_geometry(arr, [0, 1], [2, 3], [1, 1])
    bases = np.array([7, 0], dtype=np.int64)
    out = np.zeros((2, 6))
    gather_windows(geometry, bases, out, np.array([1, 0], dtype=np.int64), 0)
    expected = np.stack([arr[0:2, 0:3].ravel(), arr[1:3, 1:4].ravel()])
    if not np.array_equal(out, expected):
        raise RuntimeError("the compiled gather gave other rows than numpy")
