"""The rules of which samples a table keeps, as ``fit`` takes them: ``dropna`` and
``where`` checked (applied to values by :mod:`~xbatcher_tab._table.selection`).
"""

from __future__ import annotations

import xarray as xr

from .._core.checks import check_choice

__all__ = ["DROPNA", "check_dropna", "check_where"]

DROPNA = (True, False, "target")


def check_dropna(value: object) -> bool | str:
    """``dropna``: False, True (NaN in a feature or the label) or "target" (the label).

    Examples
    --------
    >>> import numpy as np
    >>> check_dropna("target"), check_dropna(np.bool_(True))
    ('target', True)
    >>> check_dropna("yes")
    Traceback (most recent call last):
    ...
    ValueError: dropna must be True, False or 'target', got 'yes'
    """
    return check_choice("dropna", value, DROPNA)


def check_where(value: object) -> object:
    """``where``: None, a boolean DataArray, or a function of the data giving one."""
    if value is not None and not (isinstance(value, xr.DataArray) or callable(value)):
        raise TypeError(
            "where must be a boolean DataArray over some of the data's dims, or a function "
            f"of the data giving one, got {type(value).__name__}"
        )
    return value
