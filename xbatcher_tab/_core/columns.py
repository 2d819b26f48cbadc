"""What a row holds: the preprocessing options, checked, and the column plan.

Besides its window cells a row may hold, per variable, a centering reference
(``center``: each cell minus the anchor cell or the window's mean, the reference kept
as a feature) and window summaries (``stats``), then the anchors' coordinates as
features (``coord_features``). :class:`RowColumns` places them all in a row, names
them and mirrors windows (the flip permutation).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import xarray as xr

from .checks import describe
from .coords import CALENDAR, PERIODS
from .window import WindowSpec

__all__ = [
    "CENTERS",
    "STATS",
    "RowColumns",
    "VariableColumns",
    "check_center",
    "check_coord_features",
    "check_stats",
]

CENTERS = ("anchor", "mean")
STATS = ("mean", "std", "min", "max")


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
    ``dim.field`` with a calendar field of a time coordinate (datetime64 or cftime).

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
                f"coord_features names {source!r}, but {dim!r} has no time coordinate "
                "(datetime64 or cftime) to take a calendar field from"
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


# -- where each feature sits in a row -------------------------------------------------------


@dataclass(frozen=True)
class VariableColumns:
    """One feature variable's columns: its window ``cells`` (C order over
    ``window_dims``), the column of its centering ``reference`` (or None), and one
    column per summary in ``stats``. ``anchor_cell`` is the cell nearest the anchor
    (the center; along a lead dim the last cell)."""

    variable: Hashable
    window_dims: tuple[Hashable, ...]
    cells: slice
    anchor_cell: int
    center: str | None
    reference: int | None
    stats: dict[str, int]
    stop: int


@dataclass(frozen=True)
class RowColumns:
    """What a row holds, in order: per feature variable its window cells, its
    centering reference and its summaries; then the coordinate features.

    ``window_dims``: each variable's windowed dims in feature (``input_dims``) order;
    ``center``: per variable None, "anchor" or "mean"; ``stats`` and
    ``coord_features`` as checked by :func:`check_stats` and
    :func:`check_coord_features`; ``center_reference``: whether a centered variable's
    reference is a column of its own; ``lead_offsets``: per variable, its cells' fixed
    offset from the anchor along each lead dim that is not windowed (the label lies
    ``lead`` cells past the one cell read there), named like a window's.

    Examples
    --------
    >>> from xbatcher_tab._core.window import WindowSpec
    >>> cols = RowColumns(WindowSpec(("lat",), (3,), (2,)), ("t",), {"t": ("lat",)},
    ...                   {"t": "anchor"}, ("max",), ())
    >>> cols.names()
    ['t(lat-1)-anchor', 't(lat+0)-anchor', 't(lat+1)-anchor', 't@anchor', 't@max']
    >>> cols.flip("lat").tolist()
    [2, 1, 0, 3, 4]
    """

    window: WindowSpec
    variables: tuple[Hashable, ...]
    window_dims: Mapping[Hashable, tuple[Hashable, ...]]
    center: Mapping[Hashable, str | None]
    stats: tuple[str, ...]
    coord_features: tuple[tuple[str, str], ...]
    center_reference: bool = True
    lead_offsets: Mapping[Hashable, tuple[tuple[Hashable, int], ...]] = field(default_factory=dict)

    def stats_of(self, variable: Hashable) -> tuple[str, ...]:
        """The summaries appended for ``variable`` (the mean only once: as the centering
        reference when ``center="mean"`` keeps it)."""
        kept = self.center.get(variable) == "mean" and self.center_reference
        return tuple(s for s in self.stats if not (s == "mean" and kept))

    def window_shape(self, variable: Hashable) -> tuple[int, ...]:
        return tuple(self.window.size(d) for d in self.window_dims[variable])

    def variable(self, variable: Hashable, first: int) -> VariableColumns:
        """``variable``'s columns, starting at column ``first``."""
        wdims = self.window_dims[variable]
        shape = self.window_shape(variable)
        nearest = [self.window.nearest_cell(d) for d in wdims]
        anchor_cell = int(np.ravel_multi_index(nearest, shape)) if shape else 0
        cells = slice(first, first + int(np.prod(shape, dtype=np.int64)))
        center = self.center.get(variable)
        column = cells.stop
        reference = None
        if center and self.center_reference:
            reference, column = column, column + 1
        stats = {}
        for stat in self.stats_of(variable):
            stats[stat], column = column, column + 1
        return VariableColumns(
            variable, wdims, cells, anchor_cell, center, reference, stats, column
        )

    def plan(self) -> tuple[list[VariableColumns], slice]:
        """Where each variable's features sit in a row, and the coordinate features."""
        plans, first = [], 0
        for v in self.variables:
            plans.append(self.variable(v, first))
            first = plans[-1].stop
        n_coords = sum(2 if enc == "cyclic" else 1 for _, enc in self.coord_features)
        return plans, slice(first, first + n_coords)

    @property
    def n_features(self) -> int:
        return self.plan()[1].stop

    def names(self) -> list[str]:
        """The features' names, in order.

        A window cell is ``var(dim±offset;...)``, offsets from the sample's anchor,
        suffixed ``-anchor`` or ``-mean`` when centered; a centering reference is
        ``var@anchor`` or ``var@mean``, a summary ``var@std`` (etc.), a coordinate
        feature ``anchor.lat``, ``anchor.time.hour`` or ``anchor.time.hour.sin``/``.cos``.
        Valid names for xgboost (no ``[``, ``]``, ``<``), LightGBM (no JSON special
        characters ``"``, ``,``, ``:``, ``[``, ``]``, ``{``, ``}``) and Parquet.
        """
        names = []
        for v in self.variables:
            wdims = self.window_dims[v]
            suffix = f"-{self.center[v]}" if self.center.get(v) else ""
            fixed = [f"{d}{offset:+d}" for d, offset in self.lead_offsets.get(v, ())]
            for cell in np.ndindex(*self.window_shape(v)):
                parts = ";".join(
                    [f"{d}{c - self.window.anchor(d):+d}" for d, c in zip(wdims, cell, strict=True)]
                    + fixed
                )
                names.append((f"{v}({parts})" if parts else str(v)) + suffix)
            if self.center.get(v) and self.center_reference:
                names.append(f"{v}@{self.center[v]}")
            names += [f"{v}@{stat}" for stat in self.stats_of(v)]
        for source, encoding in self.coord_features:
            if encoding == "cyclic":
                names += [f"anchor.{source}.sin", f"anchor.{source}.cos"]
            else:
                names.append(f"anchor.{source}")
        return names

    def flip(self, dim: Hashable) -> np.ndarray:
        """Column order of rows whose windows are mirrored along ``dim``: each variable
        with ``dim`` in its window has its cells reversed along it (centered cells too;
        their reference, the summaries and the coordinate features stay)."""
        plans, coord_columns = self.plan()
        order = np.arange(coord_columns.stop)
        for plan in plans:
            if dim not in plan.window_dims:
                continue
            cells = np.arange(plan.cells.start, plan.cells.stop)
            cells = cells.reshape(self.window_shape(plan.variable))
            order[plan.cells] = np.flip(cells, axis=plan.window_dims.index(dim)).ravel()
        return order

    @property
    def sample_window(self) -> tuple[int, ...]:
        """The shape of a sample's window: the window sizes in ``input_dims`` order."""
        return tuple(self.window.size(d) for d in self.window.dims)

    def _on_window(self, plan: VariableColumns) -> tuple[int, ...]:
        """A variable's cells shaped on the sample's window (1 along dims it lacks)."""
        return tuple(self.window.size(d) if d in plan.window_dims else 1 for d in self.window.dims)

    def extra_columns(self) -> np.ndarray:
        """The columns with no window position, in row order: centering references,
        summaries and coordinate features."""
        plans, coord_columns = self.plan()
        cells = np.zeros(coord_columns.stop, dtype=bool)
        for plan in plans:
            cells[plan.cells] = True
        return np.flatnonzero(~cells)

    def to_windows(
        self, X: np.ndarray, channels_last: bool = False
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Rows as windows: ``(windows, extras)``.

        ``windows`` is ``(n, channels, *window)`` (``(n, *window, channels)`` with
        ``channels_last``): one channel per feature variable, its cells laid on the window
        in ``input_dims`` order, broadcast along the window dims it lacks (a static
        ``orog(lat, lon)`` repeated along time). ``extras`` is ``(n, n_extras)``, the
        columns with no window position (:meth:`extra_columns`), or None without any.
        The same numbers as the rows: a view for one variable without extras.

        Examples
        --------
        >>> from xbatcher_tab._core.window import WindowSpec
        >>> cols = RowColumns(WindowSpec(("lat", "time"), (2, 3), (0, 0)), ("t", "z"),
        ...                   {"t": ("lat", "time"), "z": ("lat",)}, {}, ("max",), ())
        >>> X = np.arange(2 * cols.n_features, dtype=float).reshape(2, -1)
        >>> windows, extras = cols.to_windows(X)
        >>> windows.shape, extras.shape, windows[0, 1].tolist()
        ((2, 2, 2, 3), (2, 2), [[7.0, 7.0, 7.0], [8.0, 8.0, 8.0]])
        """
        plans, _ = self.plan()
        n, full = len(X), self.sample_window
        extras = self.extra_columns()
        if len(plans) == 1 and not extras.size and not channels_last:
            shape = [
                self.window.size(d) if d in plans[0].window_dims else 1 for d in self.window.dims
            ]
            cells = X.reshape((n, 1, *shape))
            return np.broadcast_to(cells, (n, 1, *full)) if tuple(shape) != full else cells, None
        out_shape = (n, *full, len(plans)) if channels_last else (n, len(plans), *full)
        out = np.empty(out_shape, dtype=X.dtype)
        for k, plan in enumerate(plans):
            cells = X[:, plan.cells].reshape((n, *self._on_window(plan)))
            if channels_last:
                out[..., k] = cells
            else:
                out[:, k] = cells
        return out, (X[:, extras] if extras.size else None)

    def feature_map(self, values: np.ndarray) -> xr.Dataset:
        """Per-feature ``values`` (``(n_features,)``, or ``(outputs, n_features)``) back
        on the window: one variable per feature variable over offset dims
        (``lat_offset``, ... in ``input_dims`` order, offsets from the anchor as
        coordinates; then, of length one, each lead dim that is not windowed, at the
        offset of the one cell read there), and each column with no window position
        (centering references, summaries, coordinate features) as a variable of its
        own, named by its feature name, without offset dims.

        Examples
        --------
        >>> from xbatcher_tab._core.window import WindowSpec
        >>> cols = RowColumns(WindowSpec(("lat",), (3,), (2,)), ("t",), {"t": ("lat",)},
        ...                   {}, ("max",), ())
        >>> m = cols.feature_map(np.arange(4.0))
        >>> m.t.sel(lat_offset=1).item(), m["t@max"].item()
        (2.0, 3.0)
        """
        values = np.asarray(values, dtype=np.float64)
        lead = ("output",) if values.ndim == 2 else ()
        plans, _ = self.plan()
        names = self.names()
        out = {}
        for plan in plans:
            wdims = plan.window_dims
            fixed = self.lead_offsets.get(plan.variable, ())  # one cell at an offset
            dims = (
                lead + tuple(f"{d}_offset" for d in wdims) + tuple(f"{d}_offset" for d, _ in fixed)
            )
            shape = values.shape[:-1] + self.window_shape(plan.variable) + (1,) * len(fixed)
            coords = {
                f"{d}_offset": np.arange(self.window.size(d)) - self.window.anchor(d) for d in wdims
            }
            coords.update({f"{d}_offset": [offset] for d, offset in fixed})
            cells = values[..., plan.cells].reshape(shape)
            out[plan.variable] = xr.DataArray(cells, dims=dims, coords=coords)
        for column in self.extra_columns():
            out[names[column]] = xr.DataArray(values[..., column], dims=lead)
        return xr.Dataset(out)
