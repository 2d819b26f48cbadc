"""Which samples a table keeps: the ``dropna`` and ``where`` rules."""

from __future__ import annotations

import numpy as np

from ._checks import describe

__all__ = ["check_dropna"]


def check_dropna(value: object) -> bool | str:
    """``dropna``: False, True (NaN in a feature or the label) or "target" (the label).

    Examples
    --------
    >>> check_dropna("target"), check_dropna(np.bool_(True))
    ('target', True)
    >>> check_dropna("yes")
    Traceback (most recent call last):
    ...
    ValueError: dropna must be True, False or 'target', got 'yes'
    """
    if value == "target":
        return "target"
    if isinstance(value, str):
        raise ValueError(f"dropna must be True, False or 'target', got {value!r}")
    if isinstance(value, bool | np.bool_):
        return bool(value)
    raise TypeError(f"dropna must be True, False or 'target', got {describe(value)}")
