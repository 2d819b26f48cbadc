"""How rows are gathered, never which: the run-time choices that travel beside a layout.

A :class:`Runtime` (threads, the copy budget and the engine option) is read in the
caller's thread when a table, a batch iterator or a dask graph is made, and carried to
every thread, task and worker that gathers its rows; the rows are the same whatever it
holds. What ``fit`` learns (:class:`~xbatcher_tab._fit.layout.Layout`) holds none of it.
"""

from __future__ import annotations

import dataclasses
import numbers
from collections.abc import Mapping
from dataclasses import dataclass, field

from .._core.checks import describe

__all__ = ["CopyBudget", "Runtime", "as_copy_budget"]


@dataclass(frozen=True)
class CopyBudget:
    """Sizes that decide how the copy engine copies rows (never which rows).

    Attributes
    ----------
    thread_min_bytes : smaller gathers are not split among threads.
    chunk_bytes : rows gathered one by one are copied this many bytes of them at a time.
    group_bytes : rows finished after copying (centering, summaries, coordinate
        features) are copied and finished in cache-sized groups of about this many bytes.
    direct_run_bytes : blocks with gaps are gathered straight into the output when
        every variable's windows are read in runs this long; otherwise through scratch.
    short_run_bytes : windows read in shorter runs are worth an expanded copy when
        taken one by one (see :meth:`FeatureArray.scattered_windows`).
    expanded_max_bytes : larger expanded copies are never built.
    payback : an expanded copy is built once the windows taken one by one add up to
        this many times its bytes.
    """

    thread_min_bytes: int = 1 << 22
    chunk_bytes: int = 1 << 22
    group_bytes: int = 1 << 21
    direct_run_bytes: int = 64
    short_run_bytes: int = 256
    expanded_max_bytes: int = 1 << 29
    payback: float = 1.0


def as_copy_budget(value: object) -> CopyBudget | None:
    """The ``copy_budget`` option: None (the defaults), a mapping of
    :class:`CopyBudget`'s sizes (the others default), or a :class:`CopyBudget`.

    Examples
    --------
    >>> as_copy_budget({"thread_min_bytes": 1}).thread_min_bytes
    1
    >>> as_copy_budget({"threads": 1})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: copy_budget has no size 'threads'; its sizes are ['chunk_bytes', ...]
    """
    if value is None or isinstance(value, CopyBudget):
        return value
    if not isinstance(value, Mapping):
        raise TypeError(
            f"copy_budget must be None or a dict of sizes (such as thread_min_bytes), got "
            f"{describe(value)}"
        )
    names = sorted(f.name for f in dataclasses.fields(CopyBudget))
    for name, size in value.items():
        if name not in names:
            raise ValueError(f"copy_budget has no size {name!r}; its sizes are {names}")
        if isinstance(size, bool) or not isinstance(size, numbers.Real):
            raise TypeError(f"copy_budget[{name!r}] must be a number >= 0, got {describe(size)}")
        if size < 0:
            raise ValueError(f"copy_budget[{name!r}] must be a number >= 0, got {size!r}")
    return CopyBudget(**value)


@dataclass(frozen=True)
class Runtime:
    """How a table's rows are gathered (the rows are the same whatever it holds).

    Attributes
    ----------
    n_jobs : threads that gather rows.
    budget : how the copy engine splits and stages its copies.
    engine : the ``engine`` option ("auto", "numba" or "numpy"), resolved where the
        rows are copied.
    """

    n_jobs: int = 1
    budget: CopyBudget = field(default_factory=CopyBudget)
    engine: str = "auto"

    @classmethod
    def current(cls, n_jobs: int = 1) -> Runtime:
        """The options in force now (see :func:`~xbatcher_tab.set_options`), with
        ``n_jobs`` threads."""
        from .options import get_option

        return cls(n_jobs, get_option("copy_budget") or CopyBudget(), get_option("engine"))

    def single_threaded(self) -> Runtime:
        """The same, gathering on one thread (dask tasks run in parallel already)."""
        return dataclasses.replace(self, n_jobs=1)
