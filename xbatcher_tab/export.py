"""Writing a window table to Parquet without ever losing or half-writing a file.

The table is streamed batch by batch into a temporary file beside the output, which
is renamed into place only once it is complete: an error or an interrupt at any point
leaves no output (and no temporary file), an existing output is replaced only when
asked, and the data's own files are never written.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import xarray as xr

from ._core.deprecation import keyword_only
from ._core.optional import require
from ._core.params import Boolean, Integer, validate_params
from ._core.time import calendar_of, label_kind
from ._table.progress import progress_bar

__all__ = ["check_output", "export_parquet"]

FORMATS = (".parquet",)


@keyword_only(1, ["inputs", "overwrite"])
def check_output(out: str | Path, *, inputs: Iterable[str | Path] = (), overwrite: bool = False):
    """``out`` as a Path after the checks that protect the user's files.

    Raises a ValueError for an output that is not ``.parquet``, is one of ``inputs`` or
    lies inside one (a zarr store is a folder), is a folder, or lies in a folder that
    does not exist; a FileExistsError for an existing output unless ``overwrite``.

    Examples
    --------
    >>> check_output("table.csv")
    Traceback (most recent call last):
    ...
    ValueError: the output table.csv must end in .parquet: export writes Parquet files
    """
    out = Path(out)
    if out.suffix.lower() not in FORMATS:
        raise ValueError(f"the output {out} must end in .parquet: export writes Parquet files")
    target = out.resolve()
    for given in inputs:
        source = Path(given).resolve()
        if target == source or source in target.parents:
            raise ValueError(
                f"the output {out} is the input {given} or lies inside it: choose another "
                "path (the input is never written)"
            )
    if out.is_dir():
        raise ValueError(f"the output {out} is a folder; give a file name ending in .parquet")
    if not out.parent.is_dir():
        raise ValueError(f"the output's folder {out.parent} does not exist; create it first")
    if out.exists() and not overwrite:
        raise FileExistsError(f"the output {out} exists; pass overwrite=True (--overwrite)")
    return out


def check_columns(features: list[str], layout) -> list[str]:
    """The columns of an export, in order, after checking that no two share a name
    (a variable or a dim named ``label``, ``weight`` or ``sample`` would clash with the
    package's own columns)."""
    own = (["label"] if layout.target is not None else []) + (
        ["weight"] if layout.weight is not None else []
    )
    columns = [*features, *own, *map(str, layout.dims), "sample"]
    seen, clashes = set(), []
    for c in columns:
        if c in seen and c not in clashes:
            clashes.append(c)
        seen.add(c)
    if clashes:
        raise ValueError(
            f"the export would write several columns named {clashes}: the features, the "
            "label, the weight, one column per dim and the sample id each need their own; "
            "rename the variable or dim first (ds.rename(...))"
        )
    return columns


def require_pyarrow():
    """pyarrow (with its Parquet module), or an ImportError saying how to install it."""
    pyarrow = require("pyarrow", "parquet", "writing Parquet")
    require("pyarrow.parquet", "parquet", "writing Parquet")
    return pyarrow


@validate_params({"batch_size": Integer(1), "overwrite": Boolean()})
def export_parquet(
    tab,
    data: xr.Dataset | xr.DataArray,
    out: str | Path,
    *,
    batch_size: int = 65536,
    overwrite: bool = False,
    inputs: Iterable[str | Path] = (),
    progress: bool | Callable[[int], object] = False,
) -> int:
    """Stream the window table of ``data`` into the Parquet file ``out``, atomically.

    Columns: the features (by name), ``label`` (with a target), ``weight`` (with the
    tabularizer's ``weight``), one column per dim with the anchor's coordinate label,
    and ``sample`` (the sample's id); names that clash are an error. cftime labels
    (CF calendars such as ``noleap``) are written as ISO 8601 strings, their calendar
    in the file's metadata (``xbatcher_tab:calendar:<dim>``). The file appears only
    when complete: on any error, or an interrupt, nothing is left behind.

    Parameters
    ----------
    tab : WindowTabularizer
        Fitted.
    data : Dataset or DataArray
        Read batch by batch (dask-backed data slab by slab).
    out : path
        A ``.parquet`` file, checked by :func:`check_output`.
    batch_size : int
        Rows per batch (and per Parquet row group).
    overwrite : bool
        Replace an existing output.
    inputs : paths
        Files or stores the data was read from: the output may not be one of them.
    progress : bool or callable
        True: a tqdm bar over the rows (if tqdm is installed); a callable: called with
        the number of rows of each batch written; False (the default): nothing.

    Returns
    -------
    int
        Rows written.

    Examples
    --------
    >>> import xbatcher_tab as xt, tempfile, pandas as pd
    >>> ds = xt.datasets.tasmax(time=6, lat=3, lon=4)
    >>> tab = xt.WindowTabularizer(input_dims={"time": 2}, input_overlap={"time": 1},
    ...                            target=xt.Target("tasmax", lead={"time": 1})).fit(ds)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     n = export_parquet(tab, ds, f"{tmp}/table.parquet", batch_size=10)
    ...     columns = list(pd.read_parquet(f"{tmp}/table.parquet").columns)
    >>> n, columns[:2], columns[-5:]
    (48, ['tasmax(time-2)', 'tasmax(time-1)'], ['label', 'time', 'lat', 'lon', 'sample'])
    """
    out = check_output(out, inputs=inputs, overwrite=overwrite)
    pa = require_pyarrow()
    names = [str(n) for n in tab.get_feature_names_out()]
    check_columns(names, tab.layout_)
    partial = out.with_name(f".{out.name}.{os.getpid()}.partial")
    bar = None
    if progress is True:
        total = None if tab.get_layout().selects else tab.count_samples(data)
        bar = progress_bar(True, total, "export", leave=True)
        progress = None if bar is None else bar.update
    elif progress is False or progress is None:
        progress = None
    elif not callable(progress):
        raise TypeError(
            f"progress must be True, False or a function of the rows written, got "
            f"{type(progress).__name__}"
        )
    writer = None
    n = 0
    try:
        for X, y, coords in tab.iter_batches(data, batch_size=batch_size):
            columns = {name: X[:, i] for i, name in enumerate(names)}
            if y is not None:
                columns["label"] = y
            if tab.layout_.weight is not None:
                columns["weight"] = tab.sample_weight(coords)
            calendars = {}
            for d in coords.columns:
                values = coords[d].to_numpy()
                if label_kind(values) == "cftime":  # ISO 8601 strings, the calendar aside
                    calendars[str(d)] = calendar_of(values)
                    values = np.array([v.isoformat() for v in values], dtype=object)
                columns[str(d)] = values
            columns["sample"] = coords.index.to_numpy()
            table = pa.table(columns)
            if calendars:
                meta = {f"xbatcher_tab:calendar:{d}": c for d, c in calendars.items()}
                table = table.replace_schema_metadata({**(table.schema.metadata or {}), **meta})
            if writer is None:
                writer = pa.parquet.ParquetWriter(partial, table.schema)
            writer.write_table(table)
            n += len(X)
            if progress is not None:
                progress(len(X))
        if writer is None:
            raise ValueError("the data has no complete window: nothing to export")
        writer.close()
        writer = None
        os.replace(partial, out)  # atomic on one file system: all or nothing
    except BaseException:
        if writer is not None:
            writer.close()
        partial.unlink(missing_ok=True)
        raise
    finally:
        if bar is not None:
            bar.close()
    return n
