"""What ``fit`` learns: the layout every table of the tabularizer follows.

:class:`Layout` fixes the feature variables and their dims, the window and the label
(a :class:`~xbatcher_tab._spec.WindowSpec` with its leads), the order samples are
enumerated in, the dtype and the NaN rule. Every consumer (eager tables, batches, dask
blocks, splits, feature names) asks it, so they cannot disagree.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import xarray as xr

from ._index import SampleGrid, sample_grid
from ._spec import Target, WindowSpec, check_bool, check_lead, make_window_spec

__all__ = ["Layout", "check_layout", "learn_layout", "sample_order", "select_needed"]


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
    dropna : whether samples with NaN in a feature or the label are dropped.
    """

    dims: tuple[Hashable, ...]
    window: WindowSpec
    variables: tuple[Hashable, ...]
    var_dims: dict
    target: Hashable | None
    target_dims: tuple[Hashable, ...] | None
    dtype: np.dtype
    dropna: bool = False
    target_attrs: dict = field(default_factory=dict)

    @property
    def needed(self) -> list:
        """The variables a table reads: the features, then the target if not one."""
        extra = [self.target] if self.target is not None else []
        return list(dict.fromkeys([*self.variables, *extra]))

    def window_dims(self, variable: Hashable) -> tuple[Hashable, ...]:
        """The windowed dims ``variable`` has, in feature (``input_dims``) order."""
        return tuple(d for d in self.window.dims if d in self.var_dims[variable])

    def n_cells(self, variable: Hashable) -> int:
        """Features ``variable`` contributes: the cells of its window."""
        return int(np.prod([self.window.size(d) for d in self.window_dims(variable)]))

    @property
    def n_features(self) -> int:
        return sum(self.n_cells(v) for v in self.variables)

    def labelled(self, ds: xr.Dataset) -> bool:
        """Whether ``ds`` holds the labels: then only windows whose label lies inside
        the data are samples; otherwise every window whose features lie inside it,
        including those whose label lies past the data's end (forecasts)."""
        return self.target is not None and self.target in ds.data_vars

    def grid(self, dim_sizes: Mapping[Hashable, int], labelled: bool = True) -> SampleGrid:
        """The sample grid of data with these dim lengths (metadata only)."""
        return sample_grid(self.window, {d: int(dim_sizes[d]) for d in self.dims}, labelled)

    def feature_names(self) -> list[str]:
        """``var(dim±offset;...)`` per feature, offsets from the sample's anchor.

        Valid feature names for xgboost (no ``[``, ``]``, ``<``), LightGBM (no JSON
        special characters ``"``, ``,``, ``:``, ``[``, ``]``, ``{``, ``}``) and Parquet.
        """
        names = []
        for v in self.variables:
            wdims = self.window_dims(v)
            for cell in np.ndindex(*(self.window.size(d) for d in wdims)):
                parts = ";".join(
                    f"{d}{c - self.window.anchor(d):+d}" for d, c in zip(wdims, cell, strict=True)
                )
                names.append(f"{v}({parts})" if parts else str(v))
        return names


def learn_layout(
    ds: xr.Dataset,
    input_dims: object,
    input_overlap: object,
    variables: Sequence[Hashable] | None,
    target: object,
    dtype: object,
    dropna: object = False,
) -> Layout:
    """Validate the tabularizer's parameters against ``ds`` and learn the layout."""
    sizes = dict(ds.sizes)
    dropna = check_bool("dropna", dropna)
    # by default every data variable, sorted by name: a store may list them in any order
    names = sorted(ds.data_vars, key=str) if variables is None else _check_variables(variables, ds)
    if not names:
        raise ValueError("the data has no data variables to use as features")
    try:
        np_dtype = np.dtype(dtype)
    except TypeError as err:
        raise TypeError(f"dtype must be a numpy dtype such as 'float32', got {dtype!r}") from err
    if np_dtype.kind not in "fiu":
        raise ValueError(f"dtype must be a numeric dtype such as 'float32', got {np_dtype}")
    lead: dict = {}
    target_name = target_dims = None
    target_attrs: dict = {}
    if isinstance(target, str):  # a variable name: its value at the anchor
        target = Target(target)
    if target is not None:
        if not isinstance(target, Target):
            raise TypeError(
                "target must be an xbatcher_tab.Target, a variable name or None, got "
                f"{type(target).__name__}"
            )
        target_name = target.variable
        if target_name not in ds.data_vars:
            raise ValueError(
                f"target variable {target_name!r} is not a data variable; "
                f"valid variables are {list(ds.data_vars)}"
            )
        lead = check_lead(target.lead, sizes)
        target_dims = tuple(ds[target_name].dims)
        target_attrs = dict(ds[target_name].attrs)
    window = make_window_spec(input_dims, input_overlap, sizes, lead)
    return Layout(
        dims=sample_order(ds, names, target_name),
        window=window,
        variables=tuple(names),
        var_dims={v: tuple(ds[v].dims) for v in names},
        target=target_name,
        target_dims=target_dims,
        dtype=np_dtype,
        dropna=dropna,
        target_attrs=target_attrs,
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


def _check_variables(variables: object, ds: xr.Dataset) -> list:
    if isinstance(variables, str) or not isinstance(variables, Sequence):
        raise TypeError(f"variables must be a list of variable names or None, got {variables!r}")
    names = list(variables)
    unknown = [v for v in names if v not in ds.data_vars]
    if unknown:
        raise ValueError(
            f"variables names {unknown}, which the data does not have as data variables; "
            f"valid variables are {list(ds.data_vars)}"
        )
    if len(set(names)) != len(names):
        raise ValueError(f"variables must not repeat a name, got {names}")
    return names


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
        if ds.sizes[d] < window.reach(d, labelled):
            raise ValueError(
                f"the data's {d!r} dimension (length {ds.sizes[d]}) is shorter than the "
                f"window of {window.size(d)}"
                + (f" plus the lead of {window.lead(d)}" if labelled and window.lead(d) else "")
            )
