"""Specs and argument checks: every user-facing validation message lives here.

Nothing in this module touches data. It holds

* the one argument checker (:func:`check_int`, :func:`check_bool`, :func:`check_choice`):
  a wrong type is a ``TypeError``, a wrong value a ``ValueError``, numpy integers are
  accepted everywhere, and the message names the argument, the value and what is valid;
* :class:`WindowSpec`, the home of the window arithmetic per dim (size, stride, lead,
  anchor, the cells a sample reads);
* :class:`Target` and :class:`BatchOptions`, the options of every batch iterator,
  declared once.
"""

from __future__ import annotations

import dataclasses
import numbers
import os
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "BATCH_OPTIONS_DOC",
    "BatchOptions",
    "Target",
    "batch_options_doc",
    "WindowSpec",
    "check_bool",
    "check_boundary",
    "check_center",
    "check_choice",
    "check_coord_features",
    "check_dropna",
    "check_stats",
    "check_dims_mapping",
    "check_int",
    "check_n_jobs",
    "make_window_spec",
    "window_count",
]


# -- the argument checker -----------------------------------------------------------------


def describe(value: object) -> str:
    """``value`` with its type, for messages: ``2.5 (float)``."""
    return f"{value!r} ({type(value).__name__})"


def check_int(
    name: str, value: object, minimum: int | None = None, valid: str | None = None
) -> int:
    """``value`` as an ``int``: an integer (numpy integers too, bools not) ``>= minimum``.

    ``valid`` says what is valid in the messages (default from ``minimum``).

    Examples
    --------
    >>> check_int("batch_size", np.int64(4), minimum=1)
    4
    >>> check_int("batch_size", 2.5, minimum=1)
    Traceback (most recent call last):
    ...
    TypeError: batch_size must be a positive integer, got 2.5 (float)
    >>> check_int("start", -1, minimum=0, valid="a batch index >= 0")
    Traceback (most recent call last):
    ...
    ValueError: start must be a batch index >= 0, got -1
    """
    if valid is None:
        named = {None: "an integer", 1: "a positive integer"}
        valid = named.get(minimum, f"an integer >= {minimum}")
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be {valid}, got {describe(value)}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be {valid}, got {value!r}")
    return int(value)


def check_bool(name: str, value: object) -> bool:
    """``value`` as a ``bool`` (numpy bools too).

    Examples
    --------
    >>> check_bool("drop_last", 1)
    Traceback (most recent call last):
    ...
    TypeError: drop_last must be True or False, got 1 (int)
    """
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{name} must be True or False, got {describe(value)}")
    return bool(value)


def check_choice(name: str, value: object, choices: Sequence) -> object:
    """``value`` if it is one of ``choices`` (compared by type and value).

    Examples
    --------
    >>> check_choice("shuffle", "yes", (True, False, "full"))
    Traceback (most recent call last):
    ...
    ValueError: shuffle must be True, False or 'full', got 'yes'
    """
    for choice in choices:
        if type(value) is type(choice) and value == choice:
            return choice
        if isinstance(choice, bool) and isinstance(value, np.bool_) and bool(value) == choice:
            return choice
    *head, last = [repr(c) for c in choices]
    text = f"{', '.join(head)} or {last}" if head else last
    raise ValueError(f"{name} must be {text}, got {value!r}")


def fixed_seed(random_state: object) -> object:
    """A seed that repeats: one draw from a numpy ``Generator``, other seeds as given
    (so every pass over batches seeded by it gives the same order)."""
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(2**63))
    return random_state


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity where the OS tells it)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def check_n_jobs(value: object) -> int:
    """Threads for ``n_jobs`` with scikit-learn's meaning: None is 1, -1 every core,
    -2 all but one, and so on (at least 1).

    Examples
    --------
    >>> check_n_jobs(None), check_n_jobs(2), check_n_jobs(-1) == available_cores()
    (1, 2, True)
    >>> check_n_jobs(0)
    Traceback (most recent call last):
    ...
    ValueError: n_jobs must be None, a positive integer or a negative one (-1: every core), got 0
    """
    if value is None:
        return 1
    valid = "None, a positive integer or a negative one (-1: every core)"
    n = check_int("n_jobs", value, None, valid)
    if n == 0:
        raise ValueError(f"n_jobs must be {valid}, got 0")
    return n if n > 0 else max(1, available_cores() + 1 + n)


def check_random_state(name: str, value: object) -> object:
    """A seed: None, an integer >= 0, a numpy ``Generator`` or ``SeedSequence``."""
    if value is None or isinstance(value, np.random.Generator | np.random.SeedSequence):
        return value
    return check_int(name, value, 0, "None, an integer >= 0 or a numpy Generator")


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
            f"got {describe(value)}"
        )
    items = []
    for dim, number in value.items():
        if dim not in valid:
            raise ValueError(f"{name} names dimension {dim!r}, {unknown}")
        items.append((dim, check_int(f"{name}[{dim!r}]", number)))
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


# -- the window arithmetic -----------------------------------------------------------------


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
    label refer to, lies :meth:`anchor` cells after the window's start: the centre
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


BOUNDARIES = ("periodic", "pad")


def check_boundary(
    value: object, input_dims: Mapping[Hashable, int], lead: Mapping[Hashable, int]
) -> dict[Hashable, str]:
    """Validate ``boundary``: ``{dim: "periodic" | "pad"}`` over windowed dims; a lead
    dim may only be padded (a periodic one would take labels from the other end).

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
        kind = check_choice(f"boundary[{dim!r}]", kind, BOUNDARIES)
        if kind == "periodic" and dim in lead:
            raise ValueError(
                f"boundary[{dim!r}]='periodic' is not possible along the target's lead dim "
                f"{dim!r} (labels would wrap around); use 'pad'"
            )
        out[dim] = kind
    return out


# -- preprocessing inside the window ------------------------------------------------------

CENTERS = ("anchor", "mean")
STATS = ("mean", "std", "min", "max")
CALENDAR = ("year", "month", "day", "dayofyear", "dayofweek", "hour", "minute")
# periods of the fields that have one, for the cyclic (sin, cos) encoding
PERIODS = {"month": 12, "dayofweek": 7, "hour": 24, "minute": 60, "lon": 360.0, "longitude": 360.0}


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


def check_center(value: object, variables: Sequence[Hashable]) -> dict[Hashable, str | None]:
    """``center`` per feature variable: None, "anchor" or "mean" (a dict may name some).

    Examples
    --------
    >>> check_center("anchor", ["a", "b"])
    {'a': 'anchor', 'b': 'anchor'}
    >>> check_center({"b": "mean"}, ["a", "b"])
    {'a': None, 'b': 'mean'}
    """

    def one(name: str, option: object) -> str | None:
        if option is None:
            return None
        if option not in CENTERS:
            raise ValueError(f"{name} must be None, 'anchor' or 'mean', got {option!r}")
        return str(option)

    if isinstance(value, Mapping):
        unknown = [v for v in value if v not in variables]
        if unknown:
            raise ValueError(
                f"center names {unknown}, which are not feature variables; they are "
                f"{list(variables)}"
            )
        return {v: one(f"center[{v!r}]", value.get(v)) for v in variables}
    option = one("center", value)
    return dict.fromkeys(variables, option)


def check_stats(value: object) -> tuple[str, ...]:
    """``stats``: summaries of each variable's window, from :data:`STATS`."""
    if value is None:
        return ()
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise TypeError(f"stats must be a list such as ('mean', 'std'), got {describe(value)}")
    unknown = [v for v in value if v not in STATS]
    if unknown:
        raise ValueError(f"stats names {unknown}; valid summaries are {list(STATS)}")
    if len(set(value)) != len(value):
        raise ValueError(f"stats must not repeat a summary, got {list(value)}")
    return tuple(value)


def check_coord_features(
    value: object, dims: Sequence[Hashable], datetime_dims: Sequence[Hashable] | None = None
) -> tuple[tuple[str, str], ...]:
    """``coord_features``: ``(source, encoding)`` pairs from a list of sources (raw) or a
    dict source -> "raw" | "cyclic". A source is a dim (its coordinate) or
    ``dim.field`` with a calendar field of a datetime coordinate.

    Examples
    --------
    >>> check_coord_features(["lat", "time.hour"], ["time", "lat"])
    (('lat', 'raw'), ('time.hour', 'raw'))
    >>> check_coord_features({"time.month": "cyclic"}, ["time"])
    (('time.month', 'cyclic'),)
    """
    if value is None:
        return ()
    if isinstance(value, Mapping):
        items = list(value.items())
    elif isinstance(value, str) or not isinstance(value, Sequence):
        raise TypeError(
            f"coord_features must be a list such as ['lat', 'time.hour'] or a dict of them "
            f"to 'raw' or 'cyclic', got {describe(value)}"
        )
    else:
        items = [(v, "raw") for v in value]
    out = []
    for source, encoding in items:
        if not isinstance(source, str):
            raise TypeError(f"coord_features entries must be strings, got {describe(source)}")
        dim, _, field_ = source.partition(".")
        if dim not in dims:
            raise ValueError(
                f"coord_features names {source!r}, but {dim!r} is not a dim of the data; "
                f"its dims are {list(dims)}"
            )
        if field_ and field_ not in CALENDAR:
            raise ValueError(
                f"coord_features names {source!r}: {field_!r} is not a calendar field; "
                f"valid fields are {list(CALENDAR)}"
            )
        if field_ and datetime_dims is not None and dim not in datetime_dims:
            raise ValueError(
                f"coord_features names {source!r}, but {dim!r} has no datetime coordinate "
                "to take a calendar field from"
            )
        if encoding not in ("raw", "cyclic"):
            raise ValueError(
                f"coord_features[{source!r}] must be 'raw' or 'cyclic', got {encoding!r}"
            )
        if encoding == "cyclic" and (field_ or dim) not in PERIODS and field_ != "dayofyear":
            raise ValueError(
                f"coord_features[{source!r}] cannot be cyclic: only "
                f"{sorted([*PERIODS, 'dayofyear'])} have a period"
            )
        out.append((source, encoding))
    if len({s for s, _ in out}) != len(out):
        raise ValueError(f"coord_features must not repeat a source, got {[s for s, _ in out]}")
    return tuple(out)


# -- specs of the label and of batch iteration ----------------------------------------------


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
        ``lead`` steps after the window's end; elsewhere it is the window's centre.

    Examples
    --------
    >>> Target("tasmax", lead={"time": 1})
    Target(variable='tasmax', lead={'time': 1})
    """

    variable: Hashable
    lead: Mapping[Hashable, int] | None = None


BATCH_OPTIONS_DOC = """\
batch_size : int, default 65536
    Samples per batch; the last batch is partial unless ``drop_last``.
shuffle : bool or "full", default False
    ``True`` permutes the samples: all of them for numpy-backed data; for dask-backed
    data, the slabs are visited in a random order ``shuffle_buffer`` at a time and the
    samples of those slabs permuted (each chunk read about once per epoch). ``"full"``
    loads the whole source and permutes every sample.
random_state : int or numpy Generator, optional
    Seed of the shuffle: the same seed gives the same epoch.
drop_last : bool, default False
    Drop the last, partial batch.
start : int, default 0
    Index of the first batch to yield, to resume an interrupted epoch (with the same
    ``random_state`` the remaining batches are those the full epoch gives).
shuffle_buffer : int, default 4
    Slabs shuffled together for dask-backed data.
augment : callable, optional
    ``augment(X, y, coords, rng) -> (X, y, coords)``, applied to each batch with a
    numpy Generator seeded from ``random_state`` and the batch's index (the same seed
    gives the same augmented epoch), e.g. :func:`xbatcher_tab.augment.flip`.
prefetch : int, default 0 (1 in ``partial_fit`` and ``WindowDataIter``)
    Batches prepared ahead on a background thread (their slabs read and their rows
    gathered) while the caller works on the current one; memory holds at most
    ``prefetch + 1`` batches besides the caller's. The same batches in the same order;
    an error while preparing one is raised where that batch would come, and stopping
    early (``break``) stops the thread. 0: gathered in the caller's thread."""


def batch_options_doc(indent: int) -> str:
    """:data:`BATCH_OPTIONS_DOC` for a numpydoc Parameters section indented by
    ``indent`` spaces (its first line is not indented: it replaces a placeholder)."""
    return BATCH_OPTIONS_DOC.replace("\n", "\n" + " " * indent)


@dataclass(frozen=True)
class BatchOptions:
    """The options of every batch iterator, declared once and checked on creation.

    :meth:`WindowTabularizer.iter_batches`, :func:`xbatcher_tab.partial_fit` and
    :class:`xbatcher_tab.WindowDataIter` take exactly these, as keyword arguments.

    Examples
    --------
    >>> BatchOptions.from_kwargs("iter_batches", {"batch_size": 20}).batch_size
    20
    >>> BatchOptions.from_kwargs("iter_batches", {"bach_size": 20})
    Traceback (most recent call last):
    ...
    TypeError: iter_batches got an unknown option 'bach_size'; the batch options are \
batch_size, shuffle, random_state, drop_last, start, shuffle_buffer, augment, prefetch
    """

    batch_size: int = 65536
    shuffle: bool | str = False
    random_state: int | np.random.Generator | np.random.SeedSequence | None = None
    drop_last: bool = False
    start: int = 0
    shuffle_buffer: int = 4
    augment: Callable | None = None
    prefetch: int = 0

    def __post_init__(self) -> None:
        if self.augment is not None and not callable(self.augment):
            raise TypeError(
                "augment must be a function (X, y, coords, rng) -> (X, y, coords) or None, "
                f"got {describe(self.augment)}"
            )
        checked = {
            "batch_size": check_int("batch_size", self.batch_size, 1),
            "shuffle": check_choice("shuffle", self.shuffle, (True, False, "full")),
            "random_state": check_random_state("random_state", self.random_state),
            "drop_last": check_bool("drop_last", self.drop_last),
            "start": check_int("start", self.start, 0, "a batch index >= 0"),
            "shuffle_buffer": check_int("shuffle_buffer", self.shuffle_buffer, 1),
            "prefetch": check_int("prefetch", self.prefetch, 0),
        }
        for name, value in checked.items():
            object.__setattr__(self, name, value)

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(cls))

    @classmethod
    def from_kwargs(cls, caller: str, kwargs: Mapping, **defaults: object) -> BatchOptions:
        """Options from keyword arguments (``defaults`` override the class defaults)."""
        unknown = [k for k in kwargs if k not in cls.names()]
        if unknown:
            raise TypeError(
                f"{caller} got an unknown option {unknown[0]!r}; the batch options are "
                + ", ".join(cls.names())
            )
        return cls(**{**defaults, **kwargs})

    def replace(self, **changes: object) -> BatchOptions:
        return dataclasses.replace(self, **changes)

    def as_kwargs(self) -> dict:
        """The options as keyword arguments (values not copied)."""
        return {name: getattr(self, name) for name in self.names()}
