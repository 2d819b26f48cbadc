"""What ``fit`` learns: the layout every table of the tabularizer follows.

:class:`Layout` fixes the feature variables and their dims, the window and the label
(a :class:`~xbatcher_tab._window.WindowSpec` with its leads), the order samples are
enumerated in, the dtype and the NaN rule. Every consumer (eager tables, batches, dask
blocks, splits, feature names) asks it, so they cannot disagree.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import xarray as xr

from ._columns import (
    RowColumns,
    VariableColumns,
    check_center,
    check_coord_features,
    check_stats,
)
from ._copy import CopyBudget
from ._plan import SampleGrid, sample_grid
from ._selection import check_dropna, check_where
from ._window import Target, WindowSpec, check_lead, make_window_spec
from .weights import check_weight

__all__ = [
    "Layout",
    "check_dtype",
    "check_labels",
    "check_layout",
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
        reference value, which is kept as a feature of its own.
    scaling : per feature variable, ``(mean, std)`` learnt at fit, or None (no scaling).
    stats : summaries of each variable's window appended after its cells.
    coord_features : ``(source, encoding)`` pairs: anchors' coordinates as features.
    where : a boolean DataArray or a callable selecting samples by their anchor.
    weight : each sample's weight, by its anchor: None, a
        :class:`~xbatcher_tab.weights.CosLat` or a DataArray over some sample dims.
    n_jobs : threads that gather rows (not part of the table: the rows are the same).
    budget : how the copy engine stages its copies (nor is this: see
        :class:`~xbatcher_tab._copy.CopyBudget`).
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
    n_jobs: int = field(default=1, compare=False)
    budget: CopyBudget = field(default=CopyBudget(), compare=False)

    @property
    def needed(self) -> list:
        """The variables a table reads: the features, then the target if not one."""
        extra = [self.target] if self.target is not None else []
        return list(dict.fromkeys([*self.variables, *extra]))

    @property
    def selects(self) -> bool:
        """Whether the samples kept depend on the data's values (dropna, where)."""
        return bool(self.dropna) or self.where is not None

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
) -> Layout:
    """Validate the tabularizer's parameters against ``ds`` and learn the layout.

    ``scaling``: each feature variable's ``(mean, std)`` (learnt from the data by the
    caller), or None.
    """
    sizes = dict(ds.sizes)
    dropna = check_dropna(dropna)
    where = check_where(where)
    names = check_variables(variables, ds)
    np_dtype = check_dtype(dtype)
    target = check_target(target, ds)
    target_name = target.variable if target is not None else None
    lead = check_lead(target.lead, sizes) if target is not None else {}
    target_dims = tuple(ds[target_name].dims) if target is not None else None
    target_attrs = dict(ds[target_name].attrs) if target is not None else {}
    window = make_window_spec(input_dims, input_overlap, sizes, lead, boundary)
    check_pad_dtype(window, np_dtype)
    dims = sample_order(ds, names, target_name)
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
            [d for d in sizes if d in ds.coords and ds[d].dtype.kind == "M"],
        ),
        where=where,
        weight=check_weight(weight, ds, dims),
    )


def sample_order(ds: xr.Dataset, variables: Sequence, target: Hashable | None) -> tuple:
    """The dims samples are enumerated over, outermost first, whatever order a store
    lists its variables or dims in: the dims of the variable with the most dims (the
    first such among the feature variables, in order, then the target) in that
    variable's own order, then new dims of the other variables in turn, then the
    data's other dims sorted by name. A variable keeps its dim order wherever the data
    comes from (memory, netCDF, zarr); a Dataset's dims do not."""
    needed = list(dict.fromkeys([*variables, *([target] if target is not None else [])]))
    widest = max(needed, key=lambda v: len(ds[v].dims))  # the first of the widest
    order: list = list(ds[widest].dims)
    for v in needed:
        order += [d for d in ds[v].dims if d not in order]
    order += sorted((d for d in ds.sizes if d not in order), key=str)
    return tuple(order)


def check_variables(variables: object, ds: xr.Dataset) -> list:
    """The feature variables: ``variables`` checked against ``ds``, or by default every
    data variable sorted by name (a store may list them in any order)."""
    if variables is None:
        names = sorted(ds.data_vars, key=str)
        if not names:
            raise ValueError("the data has no data variables to use as features")
        return names
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


def check_layout(layout: Layout, ds: xr.Dataset, labelled: bool | None = None) -> None:
    """Raise a clear error if ``ds`` does not have the layout learnt at fit.

    The feature variables are needed; the target variable is optional (without it the
    data gives forecasts). ``labelled`` (default: whether ``ds`` holds the target)
    decides whether the label must fit along lead dims.
    """
    if set(ds.dims) != set(layout.dims):
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
    if labelled is None:
        labelled = has_target
    window = layout.window
    for d in window.dims:
        if window.boundary(d) == "periodic" and ds.sizes[d] < window.size(d):
            raise ValueError(
                f"the data's {d!r} dimension (length {ds.sizes[d]}) is shorter than the "
                f"periodic window of {window.size(d)}"
            )
        if not window.count(d, ds.sizes[d], labelled):
            raise ValueError(
                f"the data's {d!r} dimension (length {ds.sizes[d]}) is shorter than the "
                f"window of {window.size(d)}"
                + (f" plus the lead of {window.lead(d)}" if labelled and window.lead(d) else "")
            )
