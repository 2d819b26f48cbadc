"""The optional progress bar: a tqdm bar over samples, or nothing without tqdm."""

from __future__ import annotations

from .._core.optional import installed

__all__ = ["progress_bar"]


def progress_bar(enabled: bool, total: int | None, desc: str, leave: bool = False):
    """A tqdm bar counting samples, or None when not ``enabled`` or when tqdm is not
    installed (the bar is a nicety: the work goes on without it)."""
    if not enabled:
        return None
    tqdm = installed("tqdm.auto")
    if tqdm is None:
        return None
    return tqdm.tqdm(total=total, desc=desc, unit="samples", unit_scale=True, leave=leave)
