"""Coordinates: sample ids <-> anchor cells <-> coordinate labels, and the map.

One home for everything that turns positions into labels and back:

* ids -> anchor cells -> the coordinate frame (:func:`anchor_cells`,
  :func:`anchor_frame`, :func:`sample_frame`), for tables, slabs and dask blocks;
* cells -> labels, extrapolated past the coordinate's end by its regular step for
  forecasts (:func:`coordinate_labels`, :func:`extended`);
* labels -> cells (:func:`label_positions`), for ``to_grid``, splits and weights;
* the anchors' coordinates as features (:func:`coordinate_features`: raw labels or
  calendar fields, optionally cyclic);
* the map predictions land on (:class:`MapLayout`), for ``to_grid`` and ``predict``.

Direction and calendar (cftime) handling belong here too.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from ._plan import SampleGrid

__all__ = [
    "CALENDAR",
    "PERIODS",
    "MapLayout",
    "anchor_cells",
    "anchor_frame",
    "coordinate_features",
    "coordinate_labels",
    "coordinate_values",
    "extended",
    "label_positions",
    "regular_step",
    "sample_frame",
    "sample_positions",
]

CALENDAR = ("year", "month", "day", "dayofyear", "dayofweek", "hour", "minute")
# periods of the fields that have one, for the cyclic (sin, cos) encoding
PERIODS = {"month": 12, "dayofweek": 7, "hour": 24, "minute": 60, "lon": 360.0, "longitude": 360.0}
# pandas' names of the calendar fields that xarray spells without underscores
PANDAS_FIELDS = {"dayofyear": "day_of_year", "dayofweek": "day_of_week"}


# -- labels of cells, and cells of labels ---------------------------------------------------


def coordinate_values(ds: xr.Dataset, dims: Iterable[Hashable]) -> dict:
    """Each dim's 1-D index coordinate values, or None for dims without one."""
    return {
        d: (np.asarray(ds[d].values) if d in ds.coords and ds[d].dims == (d,) else None)
        for d in dims
    }


def coordinate_labels(values: np.ndarray | None, cells: np.ndarray, dim: Hashable) -> np.ndarray:
    """Labels of ``cells`` (integer positions) on a dim's coordinate ``values``.

    Cells past the coordinate's end (the anchors of forecasts) are labelled by
    extrapolating its regular step: ``values[-1] + k * step``, for numeric and datetime
    coordinates. A dim without a coordinate (``values`` None) is labelled by position.

    Examples
    --------
    >>> days = np.array(["2000-01-01", "2000-01-02"], dtype="datetime64[D]")
    >>> coordinate_labels(days, np.array([0, 1, 2]), "time").tolist()
    [datetime.date(2000, 1, 1), datetime.date(2000, 1, 2), datetime.date(2000, 1, 3)]
    >>> coordinate_labels(None, np.array([3, 4]), "x").tolist()
    [3, 4]
    """
    cells = np.asarray(cells, dtype=np.int64)
    if values is None:
        return cells
    n = len(values)
    if not cells.size or cells.max() < n:
        return values[cells]
    step = regular_step(values, dim)
    inside = np.minimum(cells, n - 1)
    ahead = cells - inside  # 0 inside the coordinate, k cells past its end
    return values[inside] + ahead * step


def extended(values: np.ndarray | None, length: int, dim: Hashable) -> np.ndarray | None:
    """A coordinate's labels for ``length`` cells: its own, then extrapolated past its
    end by its regular step (None stays None: a dim without a coordinate).

    Examples
    --------
    >>> extended(np.array([0.0, 2.5]), 4, "x").tolist()
    [0.0, 2.5, 5.0, 7.5]
    """
    if values is None:
        return None
    return coordinate_labels(values, np.arange(length), dim)


def regular_step(values: np.ndarray, dim: Hashable):
    """The constant step of a coordinate, or a clear error if it has none."""
    kind = np.asarray(values).dtype.kind
    if len(values) < 2 or kind not in "iufmM":
        raise ValueError(
            f"cannot label forecasts past the end of {dim!r}: its coordinate needs a regular "
            f"numeric or datetime step to extrapolate, got {len(values)} value(s) of dtype "
            f"{np.asarray(values).dtype}"
        )
    steps = np.diff(values)
    step = steps[0]
    regular = np.all(steps == step) if kind in "iumM" else np.allclose(steps, step, rtol=1e-9)
    if not regular:
        raise ValueError(
            f"cannot label forecasts past the end of {dim!r}: its coordinate is irregular "
            f"(steps from {steps.min()} to {steps.max()}); forecasts need a regular step"
        )
    return step


def label_positions(values, labels, dim: Hashable, owner: str, hint: str = "") -> np.ndarray:
    """Position of each of ``labels`` on the axis ``values``; a ``ValueError`` naming
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
    found = pd.Index(np.asarray(values)).get_indexer(labels)
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
    >>> from xbatcher_tab._plan import sample_grid
    >>> from xbatcher_tab._window import WindowSpec
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
    columns = {d: coordinate_labels(values[d], idx, d) for d, idx in cells.items()}
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

    ``specs`` are ``(source, encoding)`` pairs: a source is a dim (its coordinate label,
    or the anchor's position for a dim without a coordinate) or ``dim.field``, a
    calendar field of a datetime coordinate (``time.hour``); "cyclic" gives its sine
    and cosine over the field's period (a day of year over its year's length).

    Examples
    --------
    >>> hours = np.array(["2000-01-01T06", "2000-01-01T18"], dtype="datetime64[h]")
    >>> coordinate_features({"time": hours}, {"time": np.array([0, 1])},
    ...                     [("time.hour", "raw"), ("time.hour", "cyclic")]).round(6).tolist()
    [[6.0, 1.0, 0.0], [18.0, -1.0, -0.0]]
    """
    columns = []
    for source, encoding in specs:
        dim, _, field_ = source.partition(".")
        labels = coordinate_labels(values[dim], cells[dim], dim)
        if field_:
            if np.asarray(labels).dtype.kind != "M":
                raise ValueError(
                    f"coord_features {source!r} needs a datetime coordinate along {dim!r}, "
                    f"got dtype {np.asarray(labels).dtype}"
                )
            index = pd.DatetimeIndex(labels)
            attribute = PANDAS_FIELDS.get(field_, field_)
            raw = np.asarray(getattr(index, attribute), dtype=np.float64)
        else:
            raw = np.asarray(labels, dtype=np.float64)
        if encoding != "cyclic":
            columns.append(raw)
            continue
        if field_ == "dayofyear":
            phase = (raw - 1) / np.where(index.is_leap_year, 366.0, 365.0)
        elif field_ in ("month",):
            phase = (raw - 1) / PERIODS[field_]
        else:
            phase = raw / PERIODS[field_ or dim]
        columns += [np.sin(2 * np.pi * phase), np.cos(2 * np.pi * phase)]
    n = len(next(iter(cells.values()))) if cells else 0
    return np.stack(columns, axis=1).astype(dtype) if columns else np.empty((n, 0), dtype)


# -- the map ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class MapLayout:
    """The grid values land on: its dims, and per dim the labels of its cells.

    ``axes`` holds each dim's labels (its coordinate, extended past the data's end
    where anchors lie there, or the cell numbers of a dim without a coordinate);
    ``labelled`` the dims whose axis is a coordinate (the others get none on the map).
    """

    dims: tuple[Hashable, ...]
    axes: dict
    labelled: frozenset

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(self.axes[d]) for d in self.dims)

    @property
    def coords(self) -> dict:
        """The map's coordinates: the labelled dims' axes."""
        return {d: self.axes[d] for d in self.dims if d in self.labelled}

    @classmethod
    def of_anchors(
        cls, dims: Sequence[Hashable], grid: SampleGrid, sizes: Mapping, values: Mapping
    ) -> MapLayout:
        """The data's grid over ``dims`` (an order of ``grid``'s dims), extended past
        its end to the last anchor of ``grid`` (forecasts along lead dims); ``sizes``
        and ``values`` are the data's dim lengths and coordinate values."""
        axes = {}
        for d in dims:
            count = grid.counts[grid.dims.index(d)]
            last = grid.spec.anchor_cell(d, count - 1)
            length = max(int(sizes[d]), last + 1 if count else 0)
            axes[d] = np.arange(length) if values[d] is None else extended(values[d], length, d)
        return cls(tuple(dims), axes, frozenset(d for d in dims if values[d] is not None))

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
        axes, labelled = {}, set()
        for d in dims:
            labels = frame[d].to_numpy()
            if like is None:
                axes[d] = np.sort(pd.unique(labels))
                labelled.add(d)
                continue
            if d not in like.dims:
                raise ValueError(f"like has no dimension {d!r}; its dims are {list(like.dims)}")
            if d in like.coords:
                labelled.add(d)
                axes[d] = _extended_to(np.asarray(like[d].values), labels, d, leads.get(d, 0))
            else:
                axes[d] = _extended_to(np.arange(like.sizes[d]), labels, d, leads.get(d, 0))
        return cls(tuple(dims), axes, frozenset(labelled))

    def positions(self, frame: pd.DataFrame) -> tuple[np.ndarray, ...]:
        """Where each row of a coordinate frame lands: its cell along every dim."""
        return tuple(
            label_positions(self.axes[d], frame[d].to_numpy(), d, "the grid") for d in self.dims
        )


def _extended_to(values: np.ndarray, labels: np.ndarray, dim: Hashable, most: int) -> np.ndarray:
    """``values`` (a grid axis, increasing) extended by its regular step, by at most
    ``most`` cells, to hold the labels past its end (the anchors of forecasts)."""
    if not most or not len(values) or not len(labels) or not labels.max() > values[-1]:
        return values
    if np.asarray(values).dtype.kind not in "iufmM":
        return values
    step = regular_step(values, dim)
    extra = min(most, int(np.ceil((labels.max() - values[-1]) / step)))
    return extended(values, len(values) + extra, dim)
