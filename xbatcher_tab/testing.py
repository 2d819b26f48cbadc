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

__all__ = ["reference_table"]


def reference_table(
    ds: xr.Dataset,
    input_dims: Mapping[Hashable, int],
    input_overlap: Mapping[Hashable, int] | None = None,
    variables: Sequence[Hashable] | None = None,
    target: Hashable | None = None,
    lead: Mapping[Hashable, int] | None = None,
    dropna: bool = False,
    dtype: str = "float32",
) -> tuple[np.ndarray, np.ndarray | None, pd.DataFrame]:
    """X, y and the coordinate frame by looping over every window position.

    Features are the variables in order (default: every data variable, sorted by
    name). Samples run in C order over the dims of the variable with the most dims
    (then new dims of the other variables and the target, then the data's other dims
    by name); along each input dim windows start every
    ``size - overlap`` cells and must fit, and along a ``lead`` dim their label cell
    (``lead`` after the window's last cell) must fit too. The anchor is that label cell
    along lead dims and the window's centre elsewhere.

    Examples
    --------
    >>> ds = xr.Dataset({"v": ("t", np.arange(5.0))})
    >>> X, y, coords = reference_table(ds, {"t": 2}, {"t": 1}, target="v", lead={"t": 1})
    >>> X.tolist(), y.tolist(), coords["t"].tolist()
    ([[0.0, 1.0], [1.0, 2.0], [2.0, 3.0]], [2.0, 3.0, 4.0], [2, 3, 4])
    """
    input_overlap = dict(input_overlap or {})
    lead = dict(lead or {})
    names = sorted(ds.data_vars, key=str) if variables is None else list(variables)
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
    dims += sorted((d for d in ds.sizes if d not in dims), key=str)

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

    rows, labels, anchors_list, ids = [], [], [], []
    for sample_id, combo in enumerate(itertools.product(*per_dim)):
        starts = {d: s for d, (s, _) in zip(dims, combo, strict=True)}
        anchors = {d: a for d, (_, a) in zip(dims, combo, strict=True)}
        features = []
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
            features.extend(np.asarray(window.transpose(*order).values).ravel().tolist())
        label = None
        if target is not None:
            tvar = ds[target]
            label = tvar.isel({d: anchors[d] for d in tvar.dims}).values.item()
        if dropna:
            values = np.asarray(features, dtype=float)
            if np.isnan(values).any() or (label is not None and np.isnan(float(label))):
                continue
        rows.append(features)
        labels.append(label)
        anchors_list.append(anchors)
        ids.append(sample_id)

    n_features = sum(
        int(np.prod([input_dims[d] for d in ds[v].dims if d in input_dims])) for v in names
    )
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
