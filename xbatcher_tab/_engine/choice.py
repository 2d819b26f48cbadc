"""Which kernels copy the rows: the ``engine`` option resolved, once per process.

``"numpy"`` is the reference and always works. ``"numba"`` is the compiled kernel of
:mod:`~xbatcher_tab._engine.numba_kernels` (the ``fast`` extra); asking for it without a
working numba is an error. ``"auto"`` (the default) takes numba when it imports, is
recent enough and passes a one-gather self test, and numpy otherwise: silently when
numba is not installed, with one warning when it is but cannot run. The engine
decides speed, never the rows.
"""

from __future__ import annotations

import functools
import warnings
from types import ModuleType

from .._core.optional import installed

__all__ = ["ENGINES", "MIN_NUMBA", "compiled_kernels", "resolve"]

ENGINES = ("auto", "numba", "numpy")
MIN_NUMBA = (0, 60)  # the first numba for numpy 2


@functools.cache
def _load() -> tuple[ModuleType | None, str | None]:
    """The compiled kernels, or None and why not (None: numba is not installed)."""
    numba = installed("numba")
    if numba is None:
        return None, None
    try:
        version = tuple(int(p) for p in numba.__version__.split(".")[:2])
        if version < MIN_NUMBA:
            raise RuntimeError(
                f"numba {numba.__version__} is older than {'.'.join(map(str, MIN_NUMBA))}"
            )
        from . import numba_kernels

        numba_kernels.self_test()
    except Exception as err:  # any failure to import, compile or run: numpy instead
        return None, f"{type(err).__name__}: {err}"
    return numba_kernels, None


@functools.cache
def _warn_once(reason: str) -> None:
    warnings.warn(
        f"the numba engine cannot run here ({reason}); the numpy engine copies the "
        "rows instead (the same rows, slower). Set xt.set_options(engine='numpy') to "
        "silence this.",
        RuntimeWarning,
        stacklevel=4,
    )


def resolve(engine: str) -> str:
    """``"numba"`` or ``"numpy"``: the engine that runs for the option ``engine``.

    Examples
    --------
    >>> resolve("numpy")
    'numpy'
    >>> resolve("fast")
    Traceback (most recent call last):
    ...
    ValueError: engine must be one of 'auto', 'numba' or 'numpy', not 'fast'
    """
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of 'auto', 'numba' or 'numpy', not {engine!r}")
    if engine == "numpy":
        return "numpy"
    kernels, reason = _load()
    if kernels is not None:
        return "numba"
    if engine == "numba":
        raise ImportError(
            "engine='numba' needs a working numba >= 0.60: pip install 'xbatcher-tab[fast]'"
            + (f" ({reason})" if reason else " (numba is not installed)")
        )
    if reason:
        _warn_once(reason)
    return "numpy"


def compiled_kernels(engine: str) -> ModuleType | None:
    """The compiled kernels' module when ``engine`` resolves to numba, else None."""
    return _load()[0] if resolve(engine) == "numba" else None
