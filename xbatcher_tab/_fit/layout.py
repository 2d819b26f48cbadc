"""What ``fit`` learns: the layout every table of the tabularizer follows.

:class:`Layout` fixes the feature variables and their dims, the window and the label
(a :class:`~xbatcher_tab._core.window.WindowSpec` with its leads), the order samples are
enumerated in, the dtype and the NaN rule. Every consumer (eager tables, batches, dask
blocks, splits, feature names) asks it, so they cannot disagree.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import xarray as xr

from .._core.checks import check_bool, check_choice
from .._core.columns import (
    RowColumns,
    VariableColumns,
    check_center,
    check_coord_features,
    check_stats,
)
from .._core.coords import Labels, direction, in_order
from .._core.geo import is_longitude
from .._core.plan import SampleGrid, sample_grid
from .._core.time import skipped_steps
from .._core.window import Target, WindowSpec, boundary_periods, check_lead, make_window_spec
from .outliers import ACTIONS, check_outliers
from .selection import check_dropna, check_where
from .weights import check_weight

logger = logging.getLogger("xbatcher_tab")

TIMES = ("datetime", "cftime")  # label kinds with calendar fields
# dims of CF bounds variables (time_bnds(time, bnds), lat_bnds(lat, bnds), vertices, ...)
BOUNDS_DIMS = {"bnds", "bnd", "nbnd", "nbnds", "nv", "bounds", "vertices", "nvertex"}

__all__ = [
    "Layout",
    "check_coordinates",
    "check_periodic",
    "field_variables",
    "in_layout_order",
    "check_dtype",
    "check_labels",
    "check_layout",
    "check_lengths",
    "check_target",
    "check_variables",
    "learn_layout",
    "sample_order",
    "select_needed",
]


@dataclass(frozen=True)
class Layout:
    """What ``fit`` learns: everything needed to cut the same table from other data.

    Attributes
    ----------
    dims : the data's dims, in the order samples are enumerated (outermost first).
    window : window sizes, overlaps and label leads.
    variables : the feature variables, in feature order.
    var_dims : each feature variable's dims at fit.
    target, target_dims, target_attrs : the label variable, its dims and attributes
        (None, None, {} without a target).
    dtype : dtype of the feature rows.
    dropna : False, True (samples with NaN in a feature or the label are dropped) or
        "target" (samples whose label is NaN).
    center : per feature variable, None, "anchor" or "mean": its cells minus that
        reference value, which is kept as a feature of its own unless
        ``center_reference`` is False.
    scaling : per feature variable, ``(mean, std)`` learnt at fit, or None (no scaling).
    stats : summaries of each variable's window appended after its cells.
    coord_features : ``(source, encoding)`` pairs: anchors' coordinates as features.
    where : a boolean DataArray or a callable selecting samples by their anchor.
    weight : each sample's weight, by its anchor: None, a
        :class:`~xbatcher_tab.weights.CosLat` or a DataArray over some sample dims.
    center_reference : whether a centered variable's reference is a feature.
    outliers : per variable with an outlier rule, its bounds ``(lo, hi)`` (learnt by
        ``fit`` from the rule; empty until then).
    outlier_action : "nan", "clip" or "drop": what an outlier cell becomes.
    directions : per dim with a coordinate, the direction of its labels at fit (1
        increasing, -1 decreasing, 0 unordered): later data is put in this order.
    periods : per periodic dim whose period is known (longitude: 360), that period.
    skipped : data variables left out of the default features, with the reason (CF
        bounds, non-numeric variables).
    """

    dims: tuple[Hashable, ...]
    window: WindowSpec
    variables: tuple[Hashable, ...]
    var_dims: dict
    target: Hashable | None
    target_dims: tuple[Hashable, ...] | None
    dtype: np.dtype
    dropna: bool | str = False
    target_attrs: dict = field(default_factory=dict)
    center: dict = field(default_factory=dict)
    scaling: dict | None = None
    stats: tuple[str, ...] = ()
    coord_features: tuple[tuple[str, str], ...] = ()
    where: object = field(default=None, compare=False)
    weight: object = field(default=None, compare=False)
    center_reference: bool = True
    outliers: dict = field(default_factory=dict)
    outlier_action: str = "nan"
    directions: dict = field(default_factory=dict)
    periods: dict = field(default_factory=dict)
    skipped: dict = field(default_factory=dict, compare=False)

    @property
    def needed(self) -> list:
        """The variables a table reads: the features, then the target if not one."""
        extra = [self.target] if self.target is not None else []
        return list(dict.fromkeys([*self.variables, *extra]))

    @property
    def selects(self) -> bool:
        """Whether the samples kept depend on the data's values (dropna, where,
        dropped outliers)."""
        drops = self.outlier_action == "drop" and bool(self.outliers)
        return bool(self.dropna) or self.where is not None or drops

    def window_dims(self, variable: Hashable) -> tuple[Hashable, ...]:
        """The windowed dims ``variable`` has, in feature (``input_dims``) order."""
        return tuple(d for d in self.window.dims if d in self.var_dims[variable])

    @property
    def columns(self) -> RowColumns:
        """What a row holds: each variable's window cells, references and summaries,
        then the coordinate features."""
        return RowColumns(
            self.window,
            self.variables,
            {v: self.window_dims(v) for v in self.variables},
            self.center,
            self.stats,
            self.coord_features,
            self.center_reference,
            {
                v: tuple(
                    (d, -ahead)
                    for d, ahead in self.window.leads
                    if d not in self.window.dims and d in self.var_dims[v]
                )
                for v in self.variables
            },
        )

    def column_plan(self) -> tuple[list[VariableColumns], slice]:
        """Where each variable's features sit in a row, and the coordinate features."""
        return self.columns.plan()

    @property
    def n_features(self) -> int:
        return self.columns.n_features

    def labelled(self, ds: xr.Dataset) -> bool:
        """Whether ``ds`` holds the labels: then only windows whose label lies inside
        the data are samples; otherwise every window whose features lie inside it,
        including those whose label lies past the data's end (forecasts)."""
        return self.target is not None and self.target in ds.data_vars

    def grid(self, dim_sizes: Mapping[Hashable, int], labelled: bool = True) -> SampleGrid:
        """The sample grid of data with these dim lengths (metadata only)."""
        return sample_grid(self.window, {d: int(dim_sizes[d]) for d in self.dims}, labelled)

    def feature_names(self) -> list[str]:
        """The features' names, in order (see :meth:`RowColumns.names`)."""
        return self.columns.names()


def learn_layout(
    ds: xr.Dataset,
    input_dims: object,
    input_overlap: object,
    variables: Sequence[Hashable] | None,
    target: object,
    dtype: object,
    dropna: object = False,
    *,
    center: object = None,
    stats: object = (),
    coord_features: object = None,
    where: object = None,
    scaling: dict | None = None,
    boundary: object = None,
    weight: object = None,
    center_reference: object = True,
    outliers: object = None,
    outlier_action: object = "nan",
) -> Layout:
    """Validate the tabularizer's parameters against ``ds`` and learn the layout.

    ``scaling``: each feature variable's ``(mean, std)`` (learnt from the data by the
    caller), or None. ``outliers`` (the rules) is checked here; the bounds the layout
    holds are learnt by the caller (see :class:`~xbatcher_tab._fit.outliers.OutlierStats`).
    """
    sizes = dict(ds.sizes)
    dropna = check_dropna(dropna)
    where = check_where(where)
    if variables is None:  # the fields; CF bounds and other non-fields are left out
        names, skipped = field_variables(ds)
    else:
        names, skipped = check_variables(variables, ds), {}
    np_dtype = check_dtype(dtype)
    target = check_target(target, ds)
    target_name = target.variable if target is not None else None
    lead = check_lead(target.lead, sizes) if target is not None else {}
    target_dims = tuple(ds[target_name].dims) if target is not None else None
    target_attrs = dict(ds[target_name].attrs) if target is not None else {}
    window = make_window_spec(input_dims, input_overlap, sizes, lead, boundary)
    check_pad_dtype(window, np_dtype)
    rules = check_outliers(outliers, names, target_name)
    outlier_action = check_choice("outlier_action", outlier_action, ACTIONS)
    if outlier_action == "nan" and outliers and np_dtype.kind != "f":
        raise ValueError(
            f"outlier_action='nan' makes outliers NaN, which dtype {np_dtype} cannot hold; "
            "use a float dtype, or outlier_action='clip' or 'drop'"
        )
    labels = ds[target_name].dtype if target_name in rules else None
    if outlier_action == "nan" and labels is not None and labels.kind != "f":
        raise ValueError(  # labels keep the target's dtype whatever the action
            f"outlier_action='nan' would make outlier labels NaN, which the target "
            f"{target_name!r} ({labels}) cannot hold; use outlier_action='clip' or 'drop', "
            "or a float target (ds[target].astype('float32'))"
        )
    periods = {**boundary_periods(boundary)}
    dims = sample_order(ds, names, target_name)
    check_windowed_dims(window, dims, [*names, *([target_name] if target_name else [])])
    directions = check_coordinates(ds, dims, window)
    periods = check_periodic(ds, window, periods)
    return Layout(
        dims=dims,
        window=window,
        variables=tuple(names),
        var_dims={v: tuple(ds[v].dims) for v in names},
        target=target_name,
        target_dims=target_dims,
        dtype=np_dtype,
        dropna=dropna,
        target_attrs=target_attrs,
        center=check_center(center, names),
        scaling=scaling,
        stats=check_stats(stats),
        coord_features=check_coord_features(
            coord_features,
            list(sizes),
            [d for d in sizes if (lab := Labels.of(ds, d)) is not None and lab.kind in TIMES],
        ),
        where=where,
        weight=check_weight(weight, ds, dims),
        directions=directions,
        periods=periods,
        skipped=skipped,
        center_reference=check_bool("center_reference", center_reference),
        outlier_action=outlier_action,
    )


def sample_order(ds: xr.Dataset, variables: Sequence, target: Hashable | None) -> tuple:
    """The dims samples are enumerated over, outermost first, whatever order a store
    lists its variables or dims in: the dims of the variable with the most dims (the
    first such among the feature variables, in order, then the target) in that
    variable's own order, then new dims of the other variables in turn. Dims no such
    variable has (a CF ``bnds``) are not sample dims. A variable keeps its dim order
    wherever the data comes from (memory, netCDF, zarr); a Dataset's dims do not."""
    needed = list(dict.fromkeys([*variables, *([target] if target is not None else [])]))
    widest = max(needed, key=lambda v: len(ds[v].dims))  # the first of the widest
    order: list = list(ds[widest].dims)
    for v in needed:
        order += [d for d in ds[v].dims if d not in order]
    return tuple(order)


def check_windowed_dims(window: WindowSpec, dims: Sequence, variables: Sequence) -> None:
    """Every dim a window spans must be a dim of some feature variable or the target."""
    outside = [d for d in window.dims if d not in dims]
    if outside:
        raise ValueError(
            f"input_dims names {outside}, which none of the variables {list(variables)} "
            f"has (their dims: {list(dims)}); window only their dims, or choose "
            "variables that have these"
        )


def field_variables(ds: xr.Dataset) -> tuple[list, dict]:
    """The default feature variables: every data variable that is a field, sorted by
    name (a store may list them in any order), and those left out with the reason: CF
    bounds (named by a coordinate's ``bounds`` attribute, or over a bounds dim such as
    ``bnds``) and non-numeric variables. Logs what it leaves out."""
    bounds = {v.attrs["bounds"] for v in ds.variables.values() if "bounds" in v.attrs}
    names, skipped = [], {}
    for name in sorted(ds.data_vars, key=str):
        var = ds[name]
        if name in bounds or any(str(d).lower() in BOUNDS_DIMS for d in var.dims):
            skipped[name] = "CF bounds"
        elif var.dtype.kind not in "biuf":
            skipped[name] = f"not numeric ({var.dtype})"
        else:
            names.append(name)
    if not names:
        raise ValueError(
            "the data has no numeric field variables to use as features"
            + (f"; left out: {skipped}" if skipped else "")
        )
    if skipped:
        logger.info("features: left out %s", ", ".join(f"{k} ({v})" for k, v in skipped.items()))
    return names, skipped


def check_variables(variables: object, ds: xr.Dataset) -> list:
    """``variables``, the feature variables, checked against ``ds``."""
    if isinstance(variables, str) or not isinstance(variables, Sequence):
        raise TypeError(f"variables must be a list of variable names or None, got {variables!r}")
    names = list(variables)
    if not names:
        raise ValueError("variables must name at least one feature variable, got []")
    unknown = [v for v in names if v not in ds.data_vars]
    if unknown:
        raise ValueError(
            f"variables names {unknown}, which the data does not have as data variables; "
            f"valid variables are {list(ds.data_vars)}"
        )
    if len(set(names)) != len(names):
        raise ValueError(f"variables must not repeat a name, got {names}")
    return names


def check_dtype(dtype: object) -> np.dtype:
    """``dtype`` of the rows: a numeric numpy dtype."""
    try:
        np_dtype = np.dtype(dtype)
    except TypeError as err:
        raise TypeError(f"dtype must be a numpy dtype such as 'float32', got {dtype!r}") from err
    if np_dtype.kind not in "fiu":
        raise ValueError(f"dtype must be a numeric dtype such as 'float32', got {np_dtype}")
    return np_dtype


def check_target(target: object, ds: xr.Dataset) -> Target | None:
    """``target`` as a :class:`Target` of a data variable of ``ds`` (a name means its
    value at the anchor), or None."""
    if isinstance(target, str):
        target = Target(target)
    if target is None:
        return None
    if not isinstance(target, Target):
        raise TypeError(
            "target must be an xbatcher_tab.Target, a variable name or None, got "
            f"{type(target).__name__}"
        )
    if target.variable not in ds.data_vars:
        raise ValueError(
            f"target variable {target.variable!r} is not a data variable; "
            f"valid variables are {list(ds.data_vars)}"
        )
    return target


def check_pad_dtype(window: WindowSpec, dtype: np.dtype) -> None:
    """A ``"pad"`` boundary needs a dtype that holds NaN."""
    if "pad" in dict(window.boundaries).values() and dtype.kind != "f":
        raise ValueError(
            f"boundary 'pad' fills the cells outside the data with NaN, which dtype "
            f"{dtype} cannot hold; use a float dtype such as 'float32'"
        )


def check_labels(layout: Layout, ds: xr.Dataset | None = None) -> None:
    """Labels need a target, and data that holds it (``ds``, when given)."""
    if layout.target is None:
        raise ValueError("the tabularizer has no target: pass target=Target(...)")
    if ds is None or not layout.labelled(ds):
        raise ValueError(f"the data lacks the target variable {layout.target!r}: no labels")


def select_needed(layout: Layout, ds: xr.Dataset) -> xr.Dataset:
    """``ds`` reduced to the variables the layout reads (those it has: the layout
    check names the missing ones)."""
    present = [v for v in layout.needed if v in ds.data_vars]
    return ds[present] if present else ds


def check_layout(
    layout: Layout, ds: xr.Dataset, labelled: bool | None = None, forecasts: bool | None = None
) -> None:
    """Raise a clear error if ``ds`` does not have the layout learnt at fit.

    The feature variables are needed; the target variable is optional (without it the
    data gives forecasts). ``labelled`` (default: whether ``ds`` holds the target) and
    ``forecasts`` (default: not labelled) decide whether the label must fit along lead
    dims. Coordinates are checked as at fit (no repeated labels, windows along sorted
    dims, periodic dims spanning their period); their direction may differ (see
    :func:`in_layout_order`).
    """
    missing_dims = [d for d in layout.dims if d not in ds.dims]
    if missing_dims:
        raise ValueError(
            f"the data has dims {sorted(map(str, ds.dims))} but the tabularizer was fitted "
            f"on dims {sorted(map(str, layout.dims))}; transform needs data with the same "
            "dims (sizes may differ)"
        )
    missing = [v for v in layout.variables if v not in ds.data_vars]
    if missing:
        raise ValueError(
            f"the data lacks variables {missing} that the tabularizer was fitted with as "
            f"features; it has {list(ds.data_vars)}"
        )
    for v in layout.variables:
        if set(ds[v].dims) != set(layout.var_dims[v]):
            raise ValueError(
                f"variable {v!r} has dims {ds[v].dims} but had {layout.var_dims[v]} at fit"
            )
    has_target = layout.labelled(ds)
    if has_target and set(ds[layout.target].dims) != set(layout.target_dims):
        raise ValueError(
            f"target variable {layout.target!r} has dims {ds[layout.target].dims} "
            f"but had {layout.target_dims} at fit"
        )
    check_lengths(layout, ds, has_target if labelled is None else labelled, forecasts)
    check_coordinates(ds, layout.dims, layout.window, fitted=layout.directions)
    check_periodic(ds, layout.window, layout.periods)


def check_lengths(
    layout: Layout, ds: xr.Dataset, labelled: bool, forecasts: bool | None = None
) -> None:
    """Every windowed dim of ``ds`` holds a window (plus the lead when the label must
    lie inside: ``labelled``, or ``forecasts=False``)."""
    fits_label = not ((not labelled) if forecasts is None else forecasts)
    window = layout.window
    for d in window.dims:
        if window.boundary(d) == "periodic" and ds.sizes[d] < window.size(d):
            raise ValueError(
                f"the data's {d!r} dimension (length {ds.sizes[d]}) is shorter than the "
                f"periodic window of {window.size(d)}"
            )
        if not window.count(d, ds.sizes[d], fits_label):
            raise ValueError(
                f"the data's {d!r} dimension (length {ds.sizes[d]}) is shorter than the "
                f"window of {window.size(d)}"
                + (f" plus the lead of {window.lead(d)}" if fits_label and window.lead(d) else "")
            )


def check_coordinates(
    ds: xr.Dataset, dims: Sequence[Hashable], window: WindowSpec, fitted: Mapping | None = None
) -> dict[Hashable, int]:
    """The direction of each dim's coordinate (see :func:`~xbatcher_tab._core.coords.direction`),
    after checking what windows and maps need of it: no repeated label anywhere (cells
    are found by label), sorted labels along windowed and lead dims (a window's cells
    are neighbours), time labels that skip no step there (see
    :func:`~xbatcher_tab._core.time.skipped_steps`), and time running forward along a
    lead dim at fit (the label lies
    after the window; later data in the other direction is reversed, see
    :func:`in_layout_order`). ``fitted``: the directions learnt at fit, when checking
    later data."""
    directions = {}
    for d in dims:
        labels = Labels.of(ds, d)
        if labels is None or len(labels) < 2:
            continue
        index = pd.Index(labels.values)
        if not index.is_unique:
            repeated = index[index.duplicated()].unique()[:3].tolist()
            raise ValueError(
                f"the data's {d!r} coordinate repeats labels {repeated}: every cell needs a "
                "label of its own (windows, maps and splits find cells by label); drop the "
                f"repeats, e.g. ds.drop_duplicates({d!r})"
            )
        way = direction(labels.values)
        windowed = d in window.dims or window.lead(d)
        if way == 0 and windowed:
            raise ValueError(
                f"the data's {d!r} coordinate is not sorted: a window's cells along {d!r} "
                f"must be neighbours; sort the data with ds.sortby({d!r})"
            )
        joins = window.lead(d) or (d in window.dims and window.size(d) > 1)
        gaps = skipped_steps(labels.values) if joins and way != 0 else []
        if gaps:
            first, after = gaps[0]
            raise ValueError(
                f"the data's {d!r} coordinate skips steps ({len(gaps)} gap(s); the first "
                f"after {first}, whose next label is {after}): a window along {d!r} would "
                "join cells that are not neighbours. Put the missing steps in (reindexed "
                "onto every step they are NaN, and dropna=True drops the windows that "
                "touch them), or cut the data at the gaps and give each piece on its own"
            )
        if way < 0 and window.lead(d) and (fitted is None or fitted.get(d, 1) < 0):
            raise ValueError(
                f"the data's {d!r} coordinate runs backwards (decreasing): the label lies "
                f"{window.lead(d)} step(s) after the window, so {d!r} must increase; use "
                f"ds.sortby({d!r})"
            )
        directions[d] = way
    return directions


def check_periodic(ds: xr.Dataset, window: WindowSpec, periods: Mapping) -> dict:
    """The period of each periodic dim whose period is known (given, or 360 for a
    longitude), after checking that the data's coordinate spans it: a regional grid's
    two edges are not neighbours."""
    known = {}
    for d in window.dims:
        if window.boundary(d) != "periodic":
            continue
        labels = Labels.of(ds, d)
        period = periods.get(d) or (360.0 if labels is not None and is_longitude(ds, d) else None)
        if period is None:
            continue
        known[d] = float(period)
        if labels is None or labels.kind != "numeric" or len(labels) < 2:
            continue
        values = np.asarray(labels.values, dtype=np.float64)
        step = float(np.median(np.abs(np.diff(values))))
        span = abs(values[-1] - values[0]) + step  # the circle the labels cover
        if abs(span - period) > step / 2:
            raise ValueError(
                f"boundary[{d!r}]='periodic' joins the two edges of {d!r}, but its labels "
                f"({values[0]:g} to {values[-1]:g} every {step:g}) span {span:g} of the "
                f"period {period:g}, leaving a gap of {period - span:g}: the windows at the "
                "edges would join cells that are not neighbours; use 'pad' for a regional "
                "grid (or give ('periodic', period) for another period)"
            )
    return known


def in_layout_order(layout: Layout, ds: xr.Dataset) -> xr.Dataset:
    """``ds`` in the layout's direction along every dim with a coordinate: reversed
    where it runs the other way (latitude north to south, say, after a fit on south to
    north), sorted along a sample dim whose labels are unordered, so that windows are
    never mirrored and any copy of the data gives the same table."""
    return in_order(ds, layout.directions)
