"""Brute-force reference implementations, used by the tests as oracles.

Plain Python loops over window positions with xarray ``isel``: slow and obviously
right, sharing no code with the fast paths they check.
"""

from __future__ import annotations

import itertools
from collections.abc import Hashable, Mapping, Sequence

import numpy as np
import pandas as pd
import xarray as xr

from ._core.deprecation import keyword_only

__all__ = ["reference_table"]


@keyword_only(
    2,
    [
        "input_overlap",
        "variables",
        "target",
        "lead",
        "dropna",
        "dtype",
        "center",
        "scaling",
        "stats",
        "coord_features",
        "where",
    ],
)
def reference_table(
    ds: xr.Dataset,
    input_dims: Mapping[Hashable, int],
    *,
    input_overlap: Mapping[Hashable, int] | None = None,
    variables: Sequence[Hashable] | None = None,
    target: Hashable | None = None,
    lead: Mapping[Hashable, int] | None = None,
    dropna: bool | str = False,
    dtype: str = "float32",
    center: str | Mapping | None = None,
    scaling: Mapping[Hashable, tuple[float, float]] | None = None,
    stats: Sequence[str] = (),
    coord_features: Sequence[tuple[str, str]] = (),
    where: xr.DataArray | None = None,
) -> tuple[np.ndarray, np.ndarray | None, pd.DataFrame]:
    """X, y and the coordinate frame by looping over every window position.

    Features are the variables in order (default: every data variable, sorted by
    name). Samples run in C order over the dims of the variable with the most dims
    (then new dims of the other variables and the target); along each input dim
    windows start every
    ``size - overlap`` cells and must fit, and along a ``lead`` dim their label cell
    (``lead`` after the window's last cell) must fit too. The anchor is that label cell
    along lead dims and the window's center elsewhere.

    The options of the tabularizer's preprocessing, by hand: ``scaling`` (each
    variable's ``(mean, std)``), ``center`` ("anchor": the cell nearest the anchor,
    the last along a lead dim; "mean": the window's NaN-aware mean; the cells minus it,
    then it), ``stats`` (NaN-aware summaries of the scaled cells, after them; the mean
    once), ``coord_features`` (the anchors' coordinates and calendar fields, raw or
    sine and cosine), ``where`` (a boolean DataArray on the data's grid, at the
    anchor) and ``dropna="target"`` (NaN labels only).

    Examples
    --------
    >>> ds = xr.Dataset({"v": ("t", np.arange(5.0))})
    >>> X, y, coords = reference_table(
    ...     ds, {"t": 2}, input_overlap={"t": 1}, target="v", lead={"t": 1}
    ... )
    >>> X.tolist(), y.tolist(), coords["t"].tolist()
    ([[0.0, 1.0], [1.0, 2.0], [2.0, 3.0]], [2.0, 3.0, 4.0], [2, 3, 4])
    """
    input_overlap = dict(input_overlap or {})
    lead = dict(lead or {})
    if variables is None:  # the fields: not CF bounds (over a bnds dim), numeric
        names = [
            v
            for v in sorted(ds.data_vars, key=str)
            if "bnds" not in ds[v].dims and ds[v].dtype.kind in "biuf"
        ]
    else:
        names = list(variables)
    needed = []
    for v in [*names, *([target] if target is not None else [])]:
        if v not in needed:
            needed.append(v)
    most = max(len(ds[v].dims) for v in needed)
    widest = [v for v in needed if len(ds[v].dims) == most][0]
    dims = list(ds[widest].dims)  # the widest variable's dims, then the others' new ones
    for v in needed:
        for d in ds[v].dims:
            if d not in dims:
                dims.append(d)

    per_dim = []  # (start, anchor) pairs per dim
    for d in dims:
        length = ds.sizes[d]
        size = input_dims.get(d, 1)
        stride = size - input_overlap.get(d, 0)
        pairs = []
        for start in range(0, length, stride):
            if start + size > length:
                continue
            if d in lead:
                anchor = start + size - 1 + lead[d]
                if anchor >= length:
                    continue
            else:
                anchor = start + size // 2
            pairs.append((start, anchor))
        per_dim.append(pairs)

    centers = dict(center) if isinstance(center, Mapping) else dict.fromkeys(names, center)
    rows, labels, anchors_list, ids = [], [], [], []
    for sample_id, combo in enumerate(itertools.product(*per_dim)):
        starts = {d: s for d, (s, _) in zip(dims, combo, strict=True)}
        anchors = {d: a for d, (_, a) in zip(dims, combo, strict=True)}
        features, raw = [], []
        for v in names:
            var = ds[v]
            sel = {}
            for d in var.dims:
                if d in input_dims:
                    sel[d] = slice(starts[d], starts[d] + input_dims[d])
                else:
                    sel[d] = starts[d]
            window = var.isel(sel)
            order = [d for d in input_dims if d in window.dims]
            cells = np.asarray(window.transpose(*order).values, dtype=np.float64)
            raw.extend(cells.ravel().tolist())
            if scaling is not None:
                mean, std = scaling[v]
                cells = (cells - mean) / std
            # the cell nearest the anchor: the center, or along a lead dim the last cell
            nearest = tuple(input_dims[d] - 1 if d in lead else input_dims[d] // 2 for d in order)
            kind = centers.get(v)
            values = cells.ravel().tolist()
            summaries = []
            for stat in stats:
                if stat == "mean" and kind == "mean":
                    continue  # the mean is the centering reference
                finite = [x for x in values if not np.isnan(x)]
                if not finite:
                    summaries.append(np.nan)
                    continue
                mean = sum(finite) / len(finite)
                summaries.append(
                    {
                        "mean": mean,
                        "std": (sum((x - mean) ** 2 for x in finite) / len(finite)) ** 0.5,
                        "min": min(finite),
                        "max": max(finite),
                    }[stat]
                )
            if kind is None:
                features.extend(values)
            else:
                if kind == "anchor":
                    ref = float(cells[nearest])
                else:
                    finite = [x for x in values if not np.isnan(x)]
                    ref = sum(finite) / len(finite) if finite else np.nan
                features.extend([x - ref for x in values] + [ref])
            features.extend(summaries)
        for source, encoding in coord_features:
            features.extend(_coordinate_feature(ds, source, encoding, anchors))
        label = None
        if target is not None:
            tvar = ds[target]
            label = tvar.isel({d: anchors[d] for d in tvar.dims}).values.item()
        if dropna is True and np.isnan(np.asarray(raw, dtype=float)).any():
            continue
        if dropna and label is not None and np.isnan(float(label)):
            continue
        if where is not None and not bool(where.isel({d: anchors[d] for d in where.dims}).values):
            continue
        rows.append(features)
        labels.append(label)
        anchors_list.append(anchors)
        ids.append(sample_id)

    n_features = 0
    for v in names:
        n_features += int(np.prod([input_dims[d] for d in ds[v].dims if d in input_dims]))
        kind = centers.get(v)
        n_features += (kind is not None) + sum(
            1 for stat in stats if not (stat == "mean" and kind == "mean")
        )
    n_features += sum(2 if enc == "cyclic" else 1 for _, enc in coord_features)
    X = np.asarray(rows, dtype=dtype).reshape(len(rows), n_features)
    y = np.asarray(labels) if target is not None else None
    columns = {}
    for d in dims:
        idx = [a[d] for a in anchors_list]
        if d in ds.coords and ds[d].dims == (d,):
            columns[d] = ds[d].values[idx] if idx else ds[d].values[:0]
        else:
            columns[d] = np.asarray(idx, dtype=np.int64)
    coords = pd.DataFrame(columns, index=pd.Index(np.asarray(ids, dtype=np.int64), name="sample"))
    return X, y, coords


def _coordinate_feature(ds: xr.Dataset, source: str, encoding: str, anchors: Mapping) -> list:
    """One coordinate feature of one sample, by hand (anchors inside the data): a time
    label as days since 1970-01-01 in its calendar, calendar fields from the label."""
    dim, _, field = source.partition(".")
    if dim in ds.coords and ds[dim].dims == (dim,):
        label = ds[dim].values[anchors[dim]]
    else:
        label = anchors[dim]
    cftime_label = type(label).__module__.startswith("cftime")
    if field:
        if cftime_label:
            names = {"dayofyear": "dayofyr", "dayofweek": "dayofwk"}
            value = float(getattr(label, names.get(field, field)))
        else:
            stamp = pd.Timestamp(label)
            value = float(getattr(stamp, {"dayofyear": "day_of_year"}.get(field, field)))
    elif cftime_label:
        epoch = type(label)(1970, 1, 1, calendar=label.calendar)
        value = (label - epoch).total_seconds() / 86400
    elif isinstance(label, np.datetime64):
        value = float((label - np.datetime64("1970-01-01")) / np.timedelta64(1, "D"))
    else:
        value = float(label)
    if encoding != "cyclic":
        return [value]
    if field == "dayofyear":
        turn = (value - 1) / _year_length(label)
    elif field == "month":
        turn = (value - 1) / 12
    else:
        turn = value / {"dayofweek": 7, "hour": 24, "minute": 60}.get(field, 360.0)
    return [float(np.sin(2 * np.pi * turn)), float(np.cos(2 * np.pi * turn))]


def _year_length(label) -> int:
    """Days in the label's year, in its calendar."""
    if not type(label).__module__.startswith("cftime"):
        return 366 if pd.Timestamp(label).is_leap_year else 365
    fixed = {"360_day": 360, "noleap": 365, "365_day": 365, "all_leap": 366, "366_day": 366}
    if label.calendar in fixed:
        return fixed[label.calendar]
    start = type(label)(label.year, 1, 1, calendar=label.calendar)
    return (type(label)(label.year + 1, 1, 1, calendar=label.calendar) - start).days
