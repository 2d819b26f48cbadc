"""Coordinates: sample ids <-> anchor cells <-> coordinate labels, and the map.

One home for everything that turns positions into labels and back:

* a dim's labels (:class:`Labels`): cells -> labels, extended past the coordinate's
  end for forecasts (by a given step, the coordinate's regular step, or its calendar
  frequency: :mod:`~xbatcher_tab._core.time`), with the coordinate's attributes;
* the direction of a coordinate (:func:`direction`) and data put in a layout's order
  (:func:`in_order`), so windows are never mirrored;
* ids -> anchor cells -> the coordinate frame (:func:`anchor_cells`,
  :func:`anchor_frame`, :func:`sample_frame`), for tables, slabs and dask blocks;
* labels -> cells (:func:`label_positions`), for ``to_grid``, splits and weights;
* the anchors' coordinates as features (:func:`coordinate_features`: days since an
  epoch or numbers, calendar fields, optionally cyclic);
* the map predictions land on (:class:`MapLayout`), for ``to_grid`` and ``predict``.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import xarray as xr

from .plan import SampleGrid
from .time import (
    EPOCH,
    calendar_field,
    days_in_year,
    days_since_epoch,
    describe_steps,
    infer_frequency,
    label_kind,
    labels_after,
    regular_step,
)

__all__ = [
    "CALENDAR",
    "PERIODS",
    "Labels",
    "MapLayout",
    "anchor_cells",
    "anchor_frame",
    "check_frame",
    "coordinate_features",
    "coordinate_values",
    "direction",
    "in_order",
    "label_positions",
    "matching_positions",
    "map_dtype",
    "sample_frame",
    "sample_positions",
]

CALENDAR = ("year", "month", "day", "dayofyear", "dayofweek", "hour", "minute")
# periods of the fields that have one, for the cyclic (sin, cos) encoding
PERIODS = {"month": 12, "dayofweek": 7, "hour": 24, "minute": 60, "lon": 360.0, "longitude": 360.0}


# -- a dim's labels -------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Labels:
    """A dim's coordinate labels, and how to label cells past their end.

    ``step`` is how forecasts past the end are labelled: None (the coordinate's own
    regular step, or its calendar frequency for months or years) or one given (a
    number, a time delta or a frequency string such as ``"MS"``); ``attrs`` and
    ``encoding`` are the coordinate's, kept on maps.

    Examples
    --------
    >>> days = xr.date_range("2001-02-27", periods=2, calendar="noleap", use_cftime=True)
    >>> [str(d)[:10] for d in Labels("time", days.values).at(np.array([0, 2]))]
    ['2001-02-27', '2001-03-01']
    """

    dim: Hashable
    values: np.ndarray
    step: object = None
    attrs: dict = field(default_factory=dict)
    encoding: dict = field(default_factory=dict)

    @classmethod
    def of(cls, ds: xr.Dataset | xr.DataArray, dim: Hashable, step: object = None):
        """The labels of ``dim`` in ``ds`` (its 1-D index coordinate), or None."""
        if dim not in ds.coords or ds[dim].dims != (dim,):
            return None
        coord = ds[dim]
        return cls(dim, np.asarray(coord.values), step, dict(coord.attrs), dict(coord.encoding))

    def __len__(self) -> int:
        return len(self.values)

    @property
    def kind(self) -> str:
        return label_kind(self.values)

    def past_end(self) -> object:
        """The step that labels cells past the end: the one given, else the regular
        step, else the calendar frequency; an error saying how to give one if none."""
        if self.step is not None:
            return self.step
        step = regular_step(self.values)
        if step is not None:
            return step
        freq = infer_frequency(self.values)
        if freq is not None:
            return freq
        raise ValueError(
            f"cannot label forecasts past the end of {self.dim!r}: its coordinate has no "
            f"regular step ({describe_steps(self.values, self.dim)}) and no calendar "
            "frequency; give forecast_step= (e.g. 'MS', a number or a time delta) or "
            "forecast=False to predict inside the data only"
        )

    def can_extend(self) -> bool:
        """Whether cells past the end can be labelled (see :meth:`past_end`)."""
        try:
            self.past_end()
        except ValueError:
            return False
        return True

    def at(self, cells) -> np.ndarray:
        """Labels of ``cells`` (positions; past the end for forecasts)."""
        cells = np.asarray(cells, dtype=np.int64)
        n = len(self.values)
        if not cells.size or cells.max() < n:
            return self.values[cells]
        after = labels_after(self.values, int(cells.max()) - n + 1, self.past_end())
        inside = cells < n
        out = np.empty(cells.shape, dtype=after.dtype if after.dtype != object else object)
        out[inside] = self.values[cells[inside]]
        out[~inside] = after[cells[~inside] - n]
        return out

    def extended(self, length: int) -> np.ndarray:
        """The labels of cells ``0 .. length - 1`` (past the end as :meth:`at`)."""
        return self.at(np.arange(length))


def coordinate_values(
    ds: xr.Dataset, dims: Iterable[Hashable], steps: Mapping | None = None
) -> dict:
    """Each dim's :class:`Labels`, or None for dims without a coordinate; ``steps``:
    the step past the end of some dims (see :class:`Labels`)."""
    steps = steps or {}
    return {d: Labels.of(ds, d, steps.get(d)) for d in dims}


def direction(values) -> int:
    """1 for labels that strictly increase, -1 for strictly decreasing, 0 otherwise
    (repeated or unordered labels, or fewer than two).

    Examples
    --------
    >>> direction([1, 2, 3]), direction([90.0, 0.0, -90.0]), direction([1, 3, 2])
    (1, -1, 0)
    """
    index = pd.Index(np.asarray(values))
    if len(index) < 2 or not index.is_unique:
        return 0
    if index.is_monotonic_increasing:
        return 1
    return -1 if index.is_monotonic_decreasing else 0


def in_order(ds: xr.Dataset, directions: Mapping[Hashable, int]) -> xr.Dataset:
    """``ds`` with each dim of ``directions`` in that direction (1 increasing, -1
    decreasing): reversed where it runs the other way, sorted where its labels are
    unordered (lazy for dask-backed data). Dims without a coordinate or a direction
    are left as they are."""
    order = {}
    for d, wanted in directions.items():
        labels = Labels.of(ds, d)
        if not wanted or labels is None or len(labels) < 2:
            continue
        have = direction(labels.values)
        if have == wanted:
            continue
        if have == -wanted:
            order[d] = slice(None, None, -1)
        else:
            ranks = np.argsort(labels.values, kind="stable")
            order[d] = ranks if wanted > 0 else ranks[::-1]
    return ds.isel(order) if order else ds


def matching_positions(values, labels) -> np.ndarray:
    """Position of each of ``labels`` on the axis ``values``, -1 where it is not there.
    Float labels match within float32 rounding (a coordinate read from another file,
    or stored as float32): within a few float32 steps of the value, and never more
    than a quarter of the gap to the value's nearer neighbour, so no label matches a
    neighbour, on an uneven axis too.

    Examples
    --------
    >>> lat = np.array([-0.625, 0.625, 1.875])
    >>> matching_positions(lat, lat.astype(np.float32) + 1e-7).tolist()
    [0, 1, 2]
    >>> matching_positions(lat, [0.0, 1.875]).tolist()
    [-1, 2]
    >>> matching_positions([0.0, 1e-6, 100.0, 200.0], [5e-6, 1.2e-6]).tolist()  # uneven
    [-1, 1]
    """
    values, labels = np.asarray(values), np.asarray(labels)
    found = pd.Index(values).get_indexer(labels)
    floats = values.dtype.kind == "f" or labels.dtype.kind == "f"
    missing = found < 0
    if not (floats and missing.any() and values.size and labels.dtype.kind in "iuf"):
        return found.astype(np.int64)
    axis = values.astype(np.float64)
    order = np.argsort(axis)
    ordered = axis[order]
    rounding = 8 * float(np.finfo(np.float32).eps) * float(np.max(np.abs(ordered)))
    wanted = labels[missing].astype(np.float64)
    at = np.clip(np.searchsorted(ordered, wanted), 1, max(ordered.size - 1, 1))
    left, right = ordered[at - 1], ordered[np.minimum(at, ordered.size - 1)]
    nearest = np.where(np.abs(wanted - left) <= np.abs(right - wanted), at - 1, at)
    nearest = np.minimum(nearest, ordered.size - 1)
    tolerance = np.full(wanted.shape, rounding)
    if ordered.size > 1:  # the step at the value matched: the gap to its nearer neighbour
        gaps = np.diff(ordered)
        step = np.minimum(
            np.concatenate([[np.inf], gaps])[nearest], np.concatenate([gaps, [np.inf]])[nearest]
        )
        tolerance = np.minimum(step / 4, rounding + 1e-4 * step)
    close = np.abs(ordered[nearest] - wanted) <= tolerance
    found[missing] = np.where(close, order[nearest], -1)
    return found.astype(np.int64)


def label_positions(values, labels, dim: Hashable, owner: str, hint: str = "") -> np.ndarray:
    """Position of each of ``labels`` on the axis ``values`` (float labels within
    float32 rounding, see :func:`matching_positions`); a ``ValueError`` naming
    ``owner`` (what the axis belongs to) for labels that are not on it.

    Examples
    --------
    >>> label_positions([10.0, 20.0, 30.0], [30.0, 10.0], "lat", "the grid").tolist()
    [2, 0]
    >>> label_positions([10.0, 20.0], [15.0], "lat", "the grid")
    Traceback (most recent call last):
    ...
    ValueError: labels [15.0] along 'lat' are not on the grid
    """
    labels = np.asarray(labels)
    found = matching_positions(values, labels)
    if (found < 0).any():
        bad = labels[found < 0][:3].tolist()
        raise ValueError(f"labels {bad} along {dim!r} are not on {owner}{hint}")
    return found.astype(np.int64)


# -- sample ids -> anchors -> the coordinate frame ------------------------------------------


def sample_positions(grid: SampleGrid, ids, first_id: int = 0) -> dict[Hashable, np.ndarray]:
    """Position along each dim of ``grid`` of each sample id (``first_id``: the id of
    the grid's first sample, for the grid of a slab).

    Examples
    --------
    >>> from xbatcher_tab._core.plan import sample_grid
    >>> from xbatcher_tab._core.window import WindowSpec
    >>> grid = sample_grid(WindowSpec(("x",), (2,), (1,)), {"t": 2, "x": 4})
    >>> {d: p.tolist() for d, p in sample_positions(grid, [1, 5]).items()}
    {'t': [0, 1], 'x': [1, 2]}
    """
    local = np.asarray(ids, dtype=np.int64) - first_id
    return dict(zip(grid.dims, grid.positions(local), strict=True))


def anchor_cells(grid: SampleGrid, positions, offset: int = 0) -> dict[Hashable, np.ndarray]:
    """Cell of each sample's anchor along every dim of ``grid``, from its positions
    (past the data's end for forecasts); ``offset`` cells are added along the
    outermost dim (a slab's positions start that far into the whole data)."""
    cells = dict(zip(grid.dims, grid.anchors(positions), strict=True))
    if offset and grid.dims:
        cells[grid.dims[0]] = cells[grid.dims[0]] + offset
    return cells


def anchor_frame(values: Mapping, cells: Mapping, ids) -> pd.DataFrame:
    """The coordinate frame: per dim, the label of each sample's anchor ``cells`` on
    the coordinate ``values`` (extrapolated past its end; the cell itself for a dim
    without a coordinate), indexed by sample id."""
    columns = {d: idx if values[d] is None else values[d].at(idx) for d, idx in cells.items()}
    return pd.DataFrame(columns, index=pd.Index(np.asarray(ids, dtype=np.int64), name="sample"))


def sample_frame(values: Mapping, grid: SampleGrid, ids) -> pd.DataFrame:
    """The coordinate frame of global sample ``ids`` of the whole ``grid``: anchors
    depend on the ids alone, so no data is read."""
    ids = np.asarray(ids, dtype=np.int64)
    return anchor_frame(values, anchor_cells(grid, grid.positions(ids)), ids)


# -- the anchors' coordinates as features ---------------------------------------------------


def coordinate_features(
    values: dict, cells: dict, specs: Sequence[tuple[str, str]], dtype=np.float64
) -> np.ndarray:
    """Columns of the anchors' coordinate features, ``(n_samples, n_columns)``.

    ``specs`` are ``(source, encoding)`` pairs: a source is a dim (its coordinate label:
    for time labels, days since 1970-01-01 in their calendar, so the unit does not
    depend on the datetime64 resolution; the anchor's position for a dim without a
    coordinate) or ``dim.field``, a calendar field of a time coordinate
    (``time.hour``), in its calendar; "cyclic" gives its sine and cosine over the
    field's period (a day of year over its year's length in its calendar).

    Examples
    --------
    >>> hours = np.array(["2000-01-01T06", "2000-01-01T18"], dtype="datetime64[h]")
    >>> time = {"time": Labels("time", hours)}
    >>> coordinate_features(time, {"time": np.array([0, 1])},
    ...                     [("time.hour", "raw"), ("time.hour", "cyclic")]).round(6).tolist()
    [[6.0, 1.0, 0.0], [18.0, -1.0, -0.0]]
    """
    columns = []
    for source, encoding in specs:
        dim, _, field_ = source.partition(".")
        labels = cells[dim] if values[dim] is None else values[dim].at(cells[dim])
        kind = label_kind(labels)
        if field_:
            if kind not in ("datetime", "cftime"):
                raise ValueError(
                    f"coord_features {source!r} needs a time coordinate along {dim!r}, "
                    f"got dtype {np.asarray(labels).dtype}"
                )
            raw = calendar_field(labels, field_)
        elif kind in ("datetime", "cftime"):
            raw = days_since_epoch(labels)  # days since EPOCH, in the labels' calendar
        else:
            raw = np.asarray(labels, dtype=np.float64)
        if encoding != "cyclic":
            columns.append(raw)
            continue
        if field_ == "dayofyear":
            phase = (raw - 1) / days_in_year(labels)
        elif field_ in ("month",):
            phase = (raw - 1) / PERIODS[field_]
        else:
            phase = raw / PERIODS[field_ or dim]
        columns += [np.sin(2 * np.pi * phase), np.cos(2 * np.pi * phase)]
    n = len(next(iter(cells.values()))) if cells else 0
    return np.stack(columns, axis=1).astype(dtype) if columns else np.empty((n, 0), dtype)


assert EPOCH == "1970-01-01"  # the unit coordinate_features documents


# -- the map ----------------------------------------------------------------------------------


def map_dtype(dtype) -> np.dtype:
    """The dtype of a map of values of ``dtype`` with missing cells: a float type for
    numbers and booleans (NaN where missing), ``object`` for anything else, such as
    string class labels (NaN where missing, as pandas marks it)."""
    dtype = np.dtype(dtype)
    if dtype.kind in "biuf":
        return np.result_type(dtype, np.float32)
    return dtype if dtype.kind == "c" else np.dtype(object)


@dataclass(frozen=True)
class MapLayout:
    """The grid values land on: its dims, and per dim the labels of its cells.

    ``axes`` holds each dim's labels (its coordinate, extended past the data's end
    where anchors lie there, or the cell numbers of a dim without a coordinate);
    ``labels`` each dim's :class:`Labels` (None without a coordinate: such dims get no
    coordinate on the map), whose attributes and encoding the map's coordinates keep.
    """

    dims: tuple[Hashable, ...]
    axes: dict
    labels: dict

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(self.axes[d]) for d in self.dims)

    @property
    def coords(self) -> dict:
        """The map's coordinates, with their attributes and encoding (a time axis keeps
        its units and calendar, a latitude its ``standard_name``)."""
        out = {}
        for d in self.dims:
            if self.labels.get(d) is not None:
                labels = self.labels[d]
                var = xr.Variable((d,), self.axes[d], dict(labels.attrs))
                var.encoding = {k: v for k, v in labels.encoding.items() if k in KEPT_ENCODING}
                out[d] = var
        return out

    def empty(self, dtype, extra: tuple = ()) -> np.ndarray:
        """A map of ``dtype`` values (see :func:`map_dtype`), every cell missing."""
        dtype = map_dtype(dtype)
        return np.full(self.shape + tuple(extra), np.nan, dtype=dtype)

    @classmethod
    def of_anchors(
        cls, dims: Sequence[Hashable], grid: SampleGrid, sizes: Mapping, values: Mapping
    ) -> MapLayout:
        """The data's grid over ``dims`` (an order of ``grid``'s dims), extended past
        its end to the last anchor of ``grid`` (forecasts along lead dims); ``sizes``
        and ``values`` are the data's dim lengths and :class:`Labels`."""
        axes = {}
        for d in dims:
            count = grid.counts[grid.dims.index(d)]
            last = grid.spec.anchor_cell(d, count - 1)
            length = max(int(sizes[d]), last + 1 if count else 0)
            axes[d] = np.arange(length) if values[d] is None else values[d].extended(length)
        return cls(tuple(dims), axes, {d: values[d] for d in dims})

    @classmethod
    def of_frame(
        cls,
        dims: Sequence[Hashable],
        frame: pd.DataFrame,
        like: xr.Dataset | xr.DataArray | None,
        leads: Mapping[Hashable, int],
    ) -> MapLayout:
        """The grid of a coordinate ``frame``: ``like``'s (extended along lead dims by
        at most the lead, to hold forecasts' anchors past its end) or, without
        ``like``, the sorted labels the frame holds."""
        axes, labels = {}, {}
        for d in dims:
            in_frame = frame[d].to_numpy()
            if like is None:
                axes[d] = np.sort(pd.unique(in_frame))
                labels[d] = Labels(d, axes[d])
                continue
            if d not in like.dims:
                raise ValueError(f"like has no dimension {d!r}; its dims are {list(like.dims)}")
            labels[d] = Labels.of(like, d)
            own = labels[d] or Labels(d, np.arange(like.sizes[d]))
            axes[d] = _extended_to(own, in_frame, leads.get(d, 0))
        return cls(tuple(dims), axes, labels)

    def positions(self, frame: pd.DataFrame) -> tuple[np.ndarray, ...]:
        """Where each row of a coordinate frame lands: its cell along every dim."""
        return tuple(
            label_positions(self.axes[d], frame[d].to_numpy(), d, "the grid") for d in self.dims
        )


# what maps keep of a coordinate's encoding (how it is written to files)
KEPT_ENCODING = ("units", "calendar", "dtype")


def _extended_to(labels: Labels, in_frame: np.ndarray, most: int) -> np.ndarray:
    """``labels``' values extended past their end by at most ``most`` cells, as far as
    needed to hold the frame's labels that lie past it (the anchors of forecasts)."""
    values = labels.values
    n = len(values)
    if not most or not n or not len(in_frame) or not labels.can_extend():
        return values
    try:
        beyond = in_frame.max() > values[-1]
    except TypeError:  # labels that do not compare
        return values
    if not beyond:
        return values
    ahead = labels.at(np.arange(n, n + most))
    needed = int(np.searchsorted(ahead, in_frame.max(), side="right"))
    return labels.extended(n + needed)


def check_frame(coords: object, dims: Sequence[Hashable], caller: str) -> pd.DataFrame:
    """``coords``, a coordinate frame with a column per dim of ``dims`` (what
    ``tabularize``, batches and ``sample_coords`` give), not the data or an array.

    Examples
    --------
    >>> check_frame(np.zeros(3), ["lat"], "sample_weight")
    Traceback (most recent call last):
    ...
    TypeError: sample_weight takes the samples' coordinate frame (the coords of tabularize, \
a batch or sample_coords), got ndarray
    """
    if not isinstance(coords, pd.DataFrame):
        raise TypeError(
            f"{caller} takes the samples' coordinate frame (the coords of tabularize, a "
            f"batch or sample_coords), got {type(coords).__name__}"
        )
    missing = [d for d in dims if d not in coords.columns]
    if missing:
        raise ValueError(
            f"coords lacks the columns {missing}; pass the coords of tabularize, a batch or "
            "sample_coords(...)"
        )
    return coords
