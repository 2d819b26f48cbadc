"""Global options: for the session, or for a block as a context manager.

Options decide *how* the package works, never *what* it gives: the rows are the same
whatever they are set to. They are read when a tabularizer's layout is made (in the
caller's thread), and the layout carries them to every thread that gathers rows.

``copy_budget``
    A :class:`~xbatcher_tab._copy.CopyBudget`: the sizes that decide how the copy
    engine splits and stages its copies (None: the defaults). Tests set tiny ones to
    drive every path of the engine on small data.
"""

from __future__ import annotations

from typing import Any

__all__ = ["get_option", "set_options"]

_OPTIONS: dict[str, Any] = {"copy_budget": None}


def _check(name: str, value: Any) -> Any:
    if name == "copy_budget":
        from ._copy import CopyBudget

        if value is not None and not isinstance(value, CopyBudget):
            raise TypeError(f"copy_budget must be a CopyBudget or None, got {value!r}")
    return value


class set_options:
    """Set options for the session, or for a ``with`` block (restored after it).

    Examples
    --------
    >>> from xbatcher_tab._copy import CopyBudget
    >>> with set_options(copy_budget=CopyBudget(thread_min_bytes=1)):
    ...     get_option("copy_budget").thread_min_bytes
    1
    >>> get_option("copy_budget") is None
    True
    >>> set_options(engine="fast")
    Traceback (most recent call last):
    ...
    ValueError: set_options got an unknown option 'engine'; the options are ['copy_budget']
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
    """The current value of option ``name``."""
    return _OPTIONS[name]
