"""Argument normalisation and validation: every user-facing error message lives here.

Nothing in this module touches data: it checks sizes given as plain mappings and
returns plain values (:class:`WindowSpec`), so the messages are the same wherever the
arguments come from (generator, transformer, command line).
"""

from __future__ import annotations

import numbers
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass

__all__ = ["WindowSpec", "check_dims_mapping", "make_window_spec"]


def _describe(value: object) -> str:
    return f"{value!r} ({type(value).__name__})"


def _check_int(name: str, key: Hashable, value: object) -> int:
    """Return ``value`` as an int, or raise a TypeError naming ``name[key]``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name}[{key!r}] must be an integer, got {_describe(value)}")
    return int(value)


def _int_items(
    name: str, value: object, what: str, example: str, valid: Sequence, unknown: str
) -> list[tuple[Hashable, int]]:
    """Items of a ``{dim: integer}`` argument, checking its type, its dims and its ints.

    ``unknown`` ends the message for a dim not in ``valid``.
    """
    if value is None:
        return []
    if not isinstance(value, Mapping):
        raise TypeError(
            f"{name} must be a mapping of dimension name to {what} such as {example}, "
            f"got {_describe(value)}"
        )
    items = []
    for dim, number in value.items():
        if dim not in valid:
            raise ValueError(f"{name} names dimension {dim!r}, {unknown}")
        items.append((dim, _check_int(name, dim, number)))
    return items


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
    items = _int_items(
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
    items = _int_items(
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


@dataclass(frozen=True)
class WindowSpec:
    """Window sizes and overlaps per windowed dim, in the order given by the user.

    A pure value: it holds no data and no dim lengths, so one spec applies to data of
    any size with the same dims.

    Examples
    --------
    >>> spec = WindowSpec(("lat", "time"), (3, 4), (2, 0))
    >>> spec.strides
    (1, 4)
    >>> spec.counts({"lat": 10, "time": 12})
    (8, 3)
    """

    dims: tuple[Hashable, ...]
    sizes: tuple[int, ...]
    overlaps: tuple[int, ...]

    @property
    def strides(self) -> tuple[int, ...]:
        """Distance between consecutive window starts: ``size - overlap``."""
        return tuple(s - o for s, o in zip(self.sizes, self.overlaps, strict=True))

    @property
    def as_dict(self) -> dict[Hashable, int]:
        return dict(zip(self.dims, self.sizes, strict=True))

    def counts(self, dim_sizes: Mapping[Hashable, int]) -> tuple[int, ...]:
        """Number of windows that fit along each windowed dim (remainders dropped)."""
        from ._index import window_count

        return tuple(
            window_count(dim_sizes[d], size, stride)
            for d, size, stride in zip(self.dims, self.sizes, self.strides, strict=True)
        )


def make_window_spec(
    input_dims: object,
    input_overlap: object,
    dim_sizes: Mapping[Hashable, int],
) -> WindowSpec:
    """Validate ``input_dims`` and ``input_overlap`` against the data and build a spec.

    Examples
    --------
    >>> make_window_spec({"lat": 3}, {"lat": 1}, {"lat": 5, "lon": 4})
    WindowSpec(dims=('lat',), sizes=(3,), overlaps=(1,))
    >>> make_window_spec({"lat": 3}, {"lon": 1}, {"lat": 5, "lon": 4})
    Traceback (most recent call last):
    ...
    ValueError: input_overlap names dimension 'lon', which is not in input_dims ['lat']; \
overlap applies only to windowed dims
    """
    dims = check_dims_mapping("input_dims", input_dims, dim_sizes, allow_empty=False)
    overlap = check_overlap(input_overlap, dims)
    return WindowSpec(
        dims=tuple(dims),
        sizes=tuple(dims.values()),
        overlaps=tuple(overlap.get(d, 0) for d in dims),
    )


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
    items = _int_items(
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
