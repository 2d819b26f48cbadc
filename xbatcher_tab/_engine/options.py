"""Global options: for the session, or for a block as a context manager.

Options decide *how* the package works, never *what* it gives: the rows are the same
whatever they are set to. They are read when a table, a batch iterator or a dask graph
is made (in the caller's thread), into a :class:`~xbatcher_tab._engine.runtime.Runtime`
that every thread gathering its rows receives.

``engine``
    Which kernels copy the rows: ``"auto"`` (the default: the compiled numba kernel
    when numba is installed and works, else numpy), ``"numba"`` (an error without a
    working numba) or ``"numpy"`` (the reference). The environment variable
    ``XBATCHER_TAB_ENGINE`` sets the default; it is read when the option is first
    needed, not at import. See :mod:`~xbatcher_tab._engine.choice`.
``copy_budget``
    The sizes that decide how the copy engine splits and stages its copies: None (the
    defaults) or a dict of some of them (``thread_min_bytes``, ``chunk_bytes``,
    ``group_bytes``, ``direct_run_bytes``, ``short_run_bytes``, ``expanded_max_bytes``,
    ``payback``). Tests set tiny ones to drive every path of the engine on small data.
"""

from __future__ import annotations

import os
from typing import Any

from .._core.checks import describe
from .choice import resolve
from .runtime import as_copy_budget

__all__ = ["get_option", "set_options"]

ENVIRONMENT = "XBATCHER_TAB_ENGINE"
_UNSET = object()  # the engine before the environment is read
_OPTIONS: dict[str, Any] = {"copy_budget": None, "engine": _UNSET}


def _check(name: str, value: Any) -> Any:
    if name == "engine":
        if not isinstance(value, str):
            raise TypeError(f"engine must be 'auto', 'numba' or 'numpy', got {describe(value)}")
        resolve(value)  # a bad name, or "numba" without a working numba, fails here
    if name == "copy_budget":
        return as_copy_budget(value)
    return value


def _default_engine() -> str:
    """The engine named by the environment variable, or "auto"."""
    value = os.environ.get(ENVIRONMENT, "").strip().lower()
    if not value:
        return "auto"
    try:
        return _check("engine", value)
    except ValueError as err:
        raise ValueError(f"the environment variable {ENVIRONMENT}={value!r}: {err}") from None
    except ImportError as err:
        raise ImportError(f"the environment variable {ENVIRONMENT}={value!r}: {err}") from None


class set_options:
    """Set options for the session, or for a ``with`` block (restored after it).

    Parameters
    ----------
    engine : {"auto", "numba", "numpy"}
        Which kernels copy the rows (the rows are the same whichever does).
    copy_budget : dict or None
        How the copy engine splits and stages its copies (sizes in bytes; None: the
        defaults).

    Examples
    --------
    >>> import xbatcher_tab as xt
    >>> with xt.set_options(engine="numpy"):
    ...     xt.get_option("engine")
    'numpy'
    >>> with xt.set_options(copy_budget={"thread_min_bytes": 1}):
    ...     xt.get_option("copy_budget").thread_min_bytes
    1
    >>> xt.get_option("copy_budget") is None
    True
    >>> xt.set_options(k="fast")
    Traceback (most recent call last):
    ...
    ValueError: set_options got an unknown option 'k'; the options are ['copy_budget', 'engine']
    """

    def __init__(self, **options: Any) -> None:
        checked = {}
        for name, value in options.items():
            if name not in _OPTIONS:
                raise ValueError(
                    f"set_options got an unknown option {name!r}; the options are "
                    f"{sorted(_OPTIONS)}"
                )
            checked[name] = _check(name, value)
        self._previous = {name: _OPTIONS[name] for name in checked}
        _OPTIONS.update(checked)

    def __enter__(self) -> set_options:
        return self

    def __exit__(self, *exc: object) -> None:
        _OPTIONS.update(self._previous)


def get_option(name: str) -> Any:
    """The current value of option ``name`` (see :class:`set_options`).

    Examples
    --------
    >>> import xbatcher_tab as xt
    >>> xt.get_option("engine") in ("auto", "numba", "numpy")
    True
    """
    if name not in _OPTIONS:
        raise ValueError(
            f"get_option got an unknown option {name!r}; the options are {sorted(_OPTIONS)}"
        )
    if _OPTIONS[name] is _UNSET:  # the environment's engine, read once, at first use
        _OPTIONS[name] = _default_engine()
    return _OPTIONS[name]
