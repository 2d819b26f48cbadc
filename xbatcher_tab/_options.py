"""Global options: for the session, or for a block as a context manager.

Options decide *how* the package works, never *what* it gives: the rows are the same
whatever they are set to. They are read when a tabularizer's layout is made (in the
caller's thread), and the layout carries them to every thread that gathers rows.

``engine``
    Which kernels copy the rows: ``"auto"`` (the default: the compiled numba kernel
    when numba is installed and works, else numpy), ``"numba"`` (an error without a
    working numba) or ``"numpy"`` (the reference). The environment variable
    ``XBATCHER_TAB_ENGINE`` sets the default. See :mod:`~xbatcher_tab._engine`.
``copy_budget``
    A :class:`~xbatcher_tab._copy.CopyBudget`: the sizes that decide how the copy
    engine splits and stages its copies (None: the defaults). Tests set tiny ones to
    drive every path of the engine on small data.
"""

from __future__ import annotations

import os
from typing import Any

__all__ = ["get_option", "set_options"]

_OPTIONS: dict[str, Any] = {"copy_budget": None, "engine": "auto"}


def _check(name: str, value: Any) -> Any:
    if name == "engine":
        from ._engine import resolve

        resolve(value)  # a bad name, or "numba" without a working numba, fails here
    if name == "copy_budget":
        from ._copy import CopyBudget

        if value is not None and not isinstance(value, CopyBudget):
            raise TypeError(f"copy_budget must be a CopyBudget or None, got {value!r}")
    return value


class set_options:
    """Set options for the session, or for a ``with`` block (restored after it).

    Parameters
    ----------
    engine : {"auto", "numba", "numpy"}
        Which kernels copy the rows (the rows are the same whichever does).
    copy_budget : CopyBudget or None
        How the copy engine splits and stages its copies.

    Examples
    --------
    >>> import xbatcher_tab as xt
    >>> with xt.set_options(engine="numpy"):
    ...     xt.get_option("engine")
    'numpy'
    >>> from xbatcher_tab._copy import CopyBudget
    >>> with set_options(copy_budget=CopyBudget(thread_min_bytes=1)):
    ...     get_option("copy_budget").thread_min_bytes
    1
    >>> get_option("copy_budget") is None
    True
    >>> set_options(k="fast")
    Traceback (most recent call last):
    ...
    ValueError: set_options got an unknown option 'k'; the options are ['copy_budget', 'engine']
    """

    def __init__(self, **options: Any) -> None:
        for name, value in options.items():
            if name not in _OPTIONS:
                raise ValueError(
                    f"set_options got an unknown option {name!r}; the options are "
                    f"{sorted(_OPTIONS)}"
                )
            _check(name, value)
        self._previous = {name: _OPTIONS[name] for name in options}
        _OPTIONS.update(options)

    def __enter__(self) -> set_options:
        return self

    def __exit__(self, *exc: object) -> None:
        _OPTIONS.update(self._previous)


def get_option(name: str) -> Any:
    """The current value of option ``name`` (see :class:`set_options`)."""
    if name not in _OPTIONS:
        raise ValueError(
            f"get_option got an unknown option {name!r}; the options are {sorted(_OPTIONS)}"
        )
    return _OPTIONS[name]


if os.environ.get("XBATCHER_TAB_ENGINE"):  # the default engine, for a whole run
    _OPTIONS["engine"] = _check("engine", os.environ["XBATCHER_TAB_ENGINE"])
