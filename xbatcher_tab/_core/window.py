"""The window and its label: :class:`WindowSpec`, the one window arithmetic, and its checks.

Nothing here touches data. :class:`WindowSpec` holds, per dim, the window's size,
stride, the label's lead, the anchor, the cells a sample reads and the margins a
boundary adds; :func:`window_count` is the one count of windows that fit, which the
kernels use too. :func:`make_window_spec` checks ``input_dims``, ``input_overlap``,
``boundary`` and a target's ``lead`` against the data's dim lengths.
"""

from __future__ import annotations

import numbers
from collections.abc import Hashable, Mapping
from dataclasses import dataclass

from .checks import check_choice, check_int_mapping, describe

__all__ = [
    "BOUNDARIES",
    "Target",
    "boundary_periods",
    "check_period",
    "WindowSpec",
    "check_boundary",
    "check_dims_mapping",
    "check_lead",
    "check_overlap",
    "make_window_spec",
    "window_count",
]


def window_count(length: int, size: int, stride: int) -> int:
    """Number of windows of ``size`` at ``stride`` that fit in ``length`` cells.

    Examples
    --------
    >>> window_count(60, 10, 1)
    51
    >>> window_count(60, 31, 31)
    1
    >>> window_count(5, 6, 1)
    0
    """
    if length < size:
        return 0
    return (length - size) // stride + 1


@dataclass(frozen=True)
class WindowSpec:
    """Window sizes, overlaps and label leads per dim: all the window arithmetic.

    A pure value: it holds no data and no dim lengths, so one spec applies to data of
    any size with the same dims. Along every dim a sample reads a window of
    :meth:`size` cells starting every :meth:`stride` cells (a dim that is not windowed
    is a window of one cell at stride one). Its *anchor*, the cell its coordinates and
    label refer to, lies :meth:`anchor` cells after the window's start: the center
    (``size // 2``), or along a lead dim the label cell ``size - 1 + lead``.

    Examples
    --------
    >>> spec = WindowSpec(("lat", "time"), (3, 4), (2, 0), leads=(("time", 1),))
    >>> spec.strides
    (1, 4)
    >>> spec.counts({"lat": 10, "time": 12})
    (8, 2)
    >>> spec.anchor("lat"), spec.anchor("time"), spec.span("time")
    (1, 4, (-4, 0))
    """

    dims: tuple[Hashable, ...]
    sizes: tuple[int, ...]
    overlaps: tuple[int, ...]
    leads: tuple[tuple[Hashable, int], ...] = ()
    boundaries: tuple[tuple[Hashable, str], ...] = ()

    @property
    def strides(self) -> tuple[int, ...]:
        """Distance between consecutive window starts along each windowed dim."""
        return tuple(self.stride(d) for d in self.dims)

    @property
    def as_dict(self) -> dict[Hashable, int]:
        """``{dim: size}`` of the windowed dims, in feature order."""
        return dict(zip(self.dims, self.sizes, strict=True))

    @property
    def lead_dict(self) -> dict[Hashable, int]:
        """``{dim: lead}`` of the dims along which the label lies ahead of the window."""
        return dict(self.leads)

    def size(self, dim: Hashable) -> int:
        """Cells of the window along ``dim`` (1 for a dim that is not windowed)."""
        return self.sizes[self.dims.index(dim)] if dim in self.dims else 1

    def stride(self, dim: Hashable) -> int:
        """Cells between consecutive window starts along ``dim``: ``size - overlap``."""
        if dim not in self.dims:
            return 1
        i = self.dims.index(dim)
        return self.sizes[i] - self.overlaps[i]

    def lead(self, dim: Hashable) -> int:
        """Cells between the window's last cell and the label along ``dim`` (0: none)."""
        return self.lead_dict.get(dim, 0)

    def anchor(self, dim: Hashable) -> int:
        """Offset of the anchor from the window's first cell along ``dim``."""
        size = self.size(dim)
        return size - 1 + self.lead(dim) if self.lead(dim) else size // 2

    def boundary(self, dim: Hashable) -> str | None:
        """How windows meet the data's edges along ``dim``: None (they must fit),
        "periodic" (they wrap around) or "pad" (they hang over; missing cells NaN)."""
        return dict(self.boundaries).get(dim)

    def margins(self, dim: Hashable) -> tuple[int, int]:
        """Cells a window may reach before the data's first cell and after its last
        along ``dim``: ``(0, 0)`` without a boundary; with one, enough for every cell to
        anchor a window (the anchor offset before, the rest of the window after); along
        a lead dim (``"pad"`` only) a window may start ``size - 1`` cells early but never
        reach past the end (no label is invented)."""
        if self.boundary(dim) is None:
            return 0, 0
        if self.lead(dim):
            return self.size(dim) - 1, 0
        return self.anchor(dim), self.size(dim) - 1 - self.anchor(dim)

    def first_cell(self, dim: Hashable, position):
        """Cell of the first cell of the window at ``position`` along ``dim`` (negative
        when it starts in the margin before the data)."""
        return position * self.stride(dim) - self.margins(dim)[0]

    def anchor_cell(self, dim: Hashable, position):
        """Cell of the anchor of the window at ``position`` along ``dim`` (an int or an
        integer array; past the data's end for forecasts)."""
        return self.first_cell(dim, position) + self.anchor(dim)

    def nearest_cell(self, dim: Hashable) -> int:
        """The window's own cell nearest its anchor along ``dim``: the anchor, or along
        a lead dim (the anchor lies past the window) its last cell."""
        return min(self.anchor(dim), self.size(dim) - 1)

    def reach(self, dim: Hashable, labelled: bool = True) -> int:
        """Cells a sample reads from its window's first cell along ``dim``: through the
        label when ``labelled``, else the window only."""
        return self.size(dim) + (self.lead(dim) if labelled else 0)

    def span(self, dim: Hashable) -> tuple[int, int]:
        """First and last cell a sample reads along ``dim`` (window and label), as
        offsets from its anchor."""
        first = -self.anchor(dim)
        return first, first + self.reach(dim) - 1

    def count(self, dim: Hashable, length: int, labelled: bool = True) -> int:
        """Samples along ``dim`` in data of ``length`` cells: windows that fit, and
        whose label fits too when ``labelled`` (else labels may lie past the end:
        forecasts)."""
        if self.boundary(dim) == "periodic" and length < self.size(dim):
            return 0  # a window would wrap around more than once
        ahead = self.lead(dim) if labelled else 0
        cells = length + sum(self.margins(dim)) - ahead
        return window_count(cells, self.size(dim), self.stride(dim))

    def counts(self, dim_sizes: Mapping[Hashable, int]) -> tuple[int, ...]:
        """Number of windows that fit along each windowed dim (remainders dropped)."""
        return tuple(self.count(d, dim_sizes[d]) for d in self.dims)


def make_window_spec(
    input_dims: object,
    input_overlap: object,
    dim_sizes: Mapping[Hashable, int],
    lead: Mapping[Hashable, int] | None = None,
    boundary: object = None,
) -> WindowSpec:
    """Validate ``input_dims``, ``input_overlap`` and ``boundary`` against the data and
    build a spec.

    ``lead`` (already validated by :func:`check_lead`) is kept in the spec; the window
    plus the lead must fit in the data.

    Examples
    --------
    >>> make_window_spec({"lat": 3}, {"lat": 1}, {"lat": 5, "lon": 4})
    WindowSpec(dims=('lat',), sizes=(3,), overlaps=(1,), leads=(), boundaries=())
    >>> make_window_spec({"lat": 3}, {"lon": 1}, {"lat": 5, "lon": 4})
    Traceback (most recent call last):
    ...
    ValueError: input_overlap names dimension 'lon', which is not in input_dims ['lat']; \
overlap applies only to windowed dims
    """
    dims = check_dims_mapping("input_dims", input_dims, dim_sizes, allow_empty=False)
    overlap = check_overlap(input_overlap, dims)
    lead = dict(lead or {})
    boundaries = check_boundary(boundary, dims, lead)
    for d, ahead in lead.items():
        if d in dims and d not in boundaries and dims[d] + ahead > dim_sizes[d]:
            raise ValueError(
                f"input_dims[{d!r}]={dims[d]} plus the target's lead of {ahead} is larger than "
                f"the data's {d!r} dimension (length {dim_sizes[d]}): no sample has its label "
                "inside the data"
            )
        if (d not in dims or d in boundaries) and ahead >= dim_sizes[d]:
            raise ValueError(
                f"the target's lead[{d!r}]={ahead} leaves no sample along {d!r} "
                f"(length {dim_sizes[d]})"
            )
    return WindowSpec(
        dims=tuple(dims),
        sizes=tuple(dims.values()),
        overlaps=tuple(overlap.get(d, 0) for d in dims),
        leads=tuple(lead.items()),
        boundaries=tuple(boundaries.items()),
    )


def check_dims_mapping(
    name: str,
    value: object,
    dim_sizes: Mapping[Hashable, int],
    *,
    allow_empty: bool = True,
) -> dict[Hashable, int]:
    """Validate a ``{dim: size}`` mapping against the data's dims.

    Each dim must exist in ``dim_sizes`` and each size must be an integer between 1
    and the dim's length.

    Examples
    --------
    >>> check_dims_mapping("input_dims", {"time": 3}, {"time": 10, "lat": 4})
    {'time': 3}
    >>> check_dims_mapping("input_dims", {"time": 11}, {"time": 10})
    Traceback (most recent call last):
    ...
    ValueError: input_dims['time']=11 is larger than the data's 'time' dimension (length 10); \
expected a size between 1 and 10
    """
    items = check_int_mapping(
        name,
        value,
        "size",
        "{'time': 10}",
        list(dim_sizes),
        f"which the data does not have; valid dims are {list(dim_sizes)}",
    )
    if not items and not allow_empty:
        raise ValueError(
            f"{name} must name at least one dimension; the data has dims {list(dim_sizes)}"
        )
    out: dict[Hashable, int] = {}
    for dim, size in items:
        if size < 1:
            raise ValueError(f"{name}[{dim!r}] must be at least 1, got {size}")
        length = dim_sizes[dim]
        if size > length:
            raise ValueError(
                f"{name}[{dim!r}]={size} is larger than the data's {dim!r} dimension "
                f"(length {length}); expected a size between 1 and {length}"
            )
        out[dim] = size
    return out


def check_overlap(
    value: object, input_dims: Mapping[Hashable, int], name: str = "input_overlap"
) -> dict[Hashable, int]:
    """Validate ``input_overlap`` against already validated ``input_dims``.

    Examples
    --------
    >>> check_overlap({"time": 9}, {"time": 10})
    {'time': 9}
    >>> check_overlap({"time": 10}, {"time": 10})
    Traceback (most recent call last):
    ...
    ValueError: input_overlap['time']=10 must be smaller than input_dims['time']=10; \
expected an overlap between 0 and 9
    """
    out: dict[Hashable, int] = {}
    items = check_int_mapping(
        name,
        value,
        "overlap",
        "{'time': 9}",
        list(input_dims),
        f"which is not in input_dims {list(input_dims)}; overlap applies only to windowed dims",
    )
    for dim, overlap in items:
        size = input_dims[dim]
        if overlap < 0:
            raise ValueError(
                f"{name}[{dim!r}] must not be negative, got {overlap}; "
                f"expected an overlap between 0 and {size - 1}"
            )
        if overlap >= size:
            raise ValueError(
                f"{name}[{dim!r}]={overlap} must be smaller than input_dims[{dim!r}]={size}; "
                f"expected an overlap between 0 and {size - 1}"
            )
        out[dim] = overlap
    return out


def check_lead(lead: object, dim_sizes: Mapping[Hashable, int]) -> dict[Hashable, int]:
    """Validate a target's ``lead`` (cells ahead of the window, per dim).

    Examples
    --------
    >>> check_lead({"time": 1}, {"time": 10})
    {'time': 1}
    >>> check_lead({"time": 0}, {"time": 10})
    Traceback (most recent call last):
    ...
    ValueError: Target lead['time'] must be at least 1 (the label must lie after the \
window, not inside its own features), got 0
    """
    out: dict[Hashable, int] = {}
    items = check_int_mapping(
        "Target lead",
        lead,
        "cells ahead",
        "{'time': 1}",
        list(dim_sizes),
        f"which the data does not have; valid dims are {list(dim_sizes)}",
    )
    for dim, ahead in items:
        if ahead < 1:
            raise ValueError(
                f"Target lead[{dim!r}] must be at least 1 (the label must lie after the "
                f"window, not inside its own features), got {ahead}"
            )
        out[dim] = ahead
    return out


BOUNDARIES = ("periodic", "pad")


def check_boundary(
    value: object, input_dims: Mapping[Hashable, int], lead: Mapping[Hashable, int]
) -> dict[Hashable, str]:
    """Validate ``boundary``: ``{dim: "periodic" | "pad"}`` over windowed dims, or
    ``("periodic", period)`` to say the period a periodic coordinate spans (longitudes
    span 360 without saying so); a lead dim may only be padded (a periodic one would
    take labels from the other end).

    Examples
    --------
    >>> check_boundary({"lon": "periodic"}, {"lat": 3, "lon": 3}, {})
    {'lon': 'periodic'}
    >>> check_boundary({"time": "periodic"}, {"time": 3}, {"time": 1})
    Traceback (most recent call last):
    ...
    ValueError: boundary['time']='periodic' is not possible along the target's lead dim \
'time' (labels would wrap around); use 'pad'
    """
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise TypeError(
            "boundary must be a mapping of dimension name to 'periodic' or 'pad' such as "
            f"{{'lon': 'periodic'}}, got {describe(value)}"
        )
    out: dict[Hashable, str] = {}
    for dim, kind in value.items():
        if dim not in input_dims:
            raise ValueError(
                f"boundary names dimension {dim!r}, which is not in input_dims "
                f"{list(input_dims)}; only windowed dims have a boundary"
            )
        if _periodic_with_period(kind):
            check_period(dim, kind[1])
            kind = "periodic"
        kind = check_choice(f"boundary[{dim!r}]", kind, BOUNDARIES)
        if kind == "periodic" and dim in lead:
            raise ValueError(
                f"boundary[{dim!r}]='periodic' is not possible along the target's lead dim "
                f"{dim!r} (labels would wrap around); use 'pad'"
            )
        out[dim] = kind
    return out


def check_period(dim: Hashable, period: object) -> float:
    """The period of a periodic dim, in its coordinate's units: a positive number."""
    if isinstance(period, bool) or not isinstance(period, numbers.Real):
        raise TypeError(
            f"boundary[{dim!r}]=('periodic', period) needs a positive period (the span "
            f"of the coordinate's circle, e.g. 360), got {describe(period)}"
        )
    if not period > 0:
        raise ValueError(
            f"boundary[{dim!r}]=('periodic', period) needs a positive period (the span "
            f"of the coordinate's circle, e.g. 360), got {period!r}"
        )
    return float(period)


def boundary_periods(value: object) -> dict[Hashable, float]:
    """The periods given in a checked ``boundary`` as ``("periodic", period)``."""
    if not isinstance(value, Mapping):
        return {}
    return {d: float(kind[1]) for d, kind in value.items() if _periodic_with_period(kind)}


def _periodic_with_period(kind: object) -> bool:
    """Whether a boundary ``kind`` is ``("periodic", period)``."""
    return isinstance(kind, tuple) and len(kind) == 2 and kind[0] == "periodic"


@dataclass(frozen=True)
class Target:
    """The label of each sample: ``variable`` at the sample's anchor.

    Parameters
    ----------
    variable : str
        Data variable holding the label.
    lead : dict, optional
        Cells ahead of the window per dim, e.g. ``{"time": 1}`` for the day after the
        window's last day. Along such a dim the anchor (and so the label) is the cell
        ``lead`` steps after the window's end; elsewhere it is the window's center.

    Examples
    --------
    >>> Target("tasmax", lead={"time": 1})
    Target(variable='tasmax', lead={'time': 1})
    """

    variable: Hashable
    lead: Mapping[Hashable, int] | None = None
