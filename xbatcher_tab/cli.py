"""The ``xbatcher-tab`` command: ``demo``, ``export`` and ``plan``.

Bad arguments and unreadable inputs give a one-line error and exit code 2.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

from ._spec import Target

__all__ = ["main"]


class CLIError(Exception):
    """A user error: printed as one line, exit code 2."""


def _dims_arg(text: str, flag: str) -> dict[str, int]:
    """``lat=9,lon=9,time=9`` -> ``{"lat": 9, ...}``."""
    out: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, value = part.partition("=")
        if not sep or not name or not value.strip().lstrip("-").isdigit():
            raise CLIError(f"{flag} expects dim=integer pairs such as lat=9,time=9, got {text!r}")
        out[name.strip()] = int(value)
    if not out:
        raise CLIError(f"{flag} expects dim=integer pairs such as lat=9,time=9, got {text!r}")
    return out


def _target_arg(text: str | None):
    """``VAR`` or ``VAR:time+1`` (several leads: ``VAR:time+1,lat+0``)."""
    if text is None:
        return None
    var, _, leads = text.partition(":")
    lead = {}
    for part in filter(None, leads.split(",")):
        for sign in "+-":
            if sign in part:
                dim, _, n = part.partition(sign)
                if not n.isdigit():
                    break
                lead[dim] = int(n) if sign == "+" else -int(n)
                break
        else:
            raise CLIError(
                f"--target expects VAR or VAR:dim+lead such as tasmax:time+1, got {text!r}"
            )
        if dim not in lead:
            raise CLIError(
                f"--target expects VAR or VAR:dim+lead such as tasmax:time+1, got {text!r}"
            )
    return Target(var, lead=lead or None)


def _open(path: str):
    """Open zarr (a directory or ``.zarr``) or netCDF lazily."""
    import xarray as xr

    p = Path(path)
    if not p.exists():
        raise CLIError(f"cannot read {path!r}: no such file or directory")
    try:
        if p.is_dir() or p.suffix == ".zarr":
            with warnings.catch_warnings():  # stores without consolidated metadata are fine
                warnings.simplefilter("ignore", RuntimeWarning)
                return xr.open_zarr(p, consolidated=None)
        return xr.open_dataset(p, chunks={})
    except Exception as err:  # any reader failure is the user's input, not our bug
        raise CLIError(f"cannot read {path!r} as zarr or netCDF: {err}") from err


def _tabularizer(args, ds):
    from .tabularizer import WindowTabularizer

    variables = args.variables.split(",") if args.variables else None
    tab = WindowTabularizer(
        input_dims=_dims_arg(args.input_dims, "--input-dims"),
        input_overlap=_dims_arg(args.overlap, "--overlap") if args.overlap else None,
        variables=variables,
        target=_target_arg(args.target),
        dropna=args.dropna,
    )
    return tab.fit(ds)


def _add_window_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("input", help="zarr store (directory) or netCDF file")
    p.add_argument(
        "--input-dims",
        required=True,
        metavar="DIM=N,...",
        help="window size per dim, in feature order, e.g. lat=9,lon=9,time=9",
    )
    p.add_argument(
        "--overlap",
        metavar="DIM=N,...",
        help="overlap per windowed dim (stride = size - overlap), e.g. time=8",
    )
    p.add_argument(
        "--target",
        metavar="VAR[:DIM+LEAD]",
        help="label variable, optionally ahead of the window, e.g. tasmax:time+1",
    )
    p.add_argument("--variables", metavar="VAR,...", help="feature variables (default: all)")
    p.add_argument("--dropna", action="store_true", help="drop samples with NaN")


def cmd_plan(args) -> None:
    ds = _open(args.input)
    tab = _tabularizer(args, ds)
    row_bytes = tab.n_features_out_ * tab.layout_.dtype.itemsize
    n = tab.count_samples(ds)
    sizes = {d: int(ds.sizes[d]) for d in tab.dims_}
    budget = int(args.memory * 2**30)
    batch = max(1, budget // (3 * row_bytes))  # two batches in flight plus their copy
    batch = 1 << (batch.bit_length() - 1)
    print(f"dims           {sizes}")
    print(f"samples        {n:,}" + (" (before dropna)" if tab.dropna else ""))
    print(f"features       {tab.n_features_out_:,} ({', '.join(map(str, tab.variables_))})")
    print(f"table          {n * row_bytes / 1e9:,.2f} GB as {tab.layout_.dtype}")
    print(
        f"batch size     {batch:,} samples ({batch * row_bytes / 1e6:,.0f} MB) "
        f"for a {args.memory:g} GiB memory budget"
    )


def cmd_export(args) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    ds = _open(args.input)
    tab = _tabularizer(args, ds)
    names = [str(n) for n in tab.get_feature_names_out()]
    total = None if tab.dropna else tab.count_samples(ds)
    bar = None
    if not args.quiet:
        try:
            from tqdm.auto import tqdm

            bar = tqdm(total=total, unit="samples", unit_scale=True, desc="export")
        except ImportError:
            bar = None
    writer = None
    n = 0
    try:
        for X, y, coords in tab.iter_batches(ds, batch_size=args.batch_size):
            columns = {name: X[:, i] for i, name in enumerate(names)}
            if y is not None:
                columns["label"] = y
            for d in coords.columns:
                columns[str(d)] = coords[d].to_numpy()
            columns["sample"] = coords.index.to_numpy()
            table = pa.table(columns)
            if writer is None:
                writer = pq.ParquetWriter(args.out, table.schema)
            writer.write_table(table)
            n += len(X)
            if bar is not None:
                bar.update(len(X))
    finally:
        if writer is not None:
            writer.close()
        if bar is not None:
            bar.close()
    if writer is None:
        raise CLIError("the data has no complete window: nothing to export")
    if not args.quiet:
        print(f"wrote {n:,} samples x {len(names)} features to {args.out}")


def cmd_demo(args) -> None:
    from .demo import run_demo

    run_demo(size=args.size, out=Path(args.out), rounds=args.rounds, quiet=False)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="xbatcher-tab",
        description="Sliding windows of gridded xarray data as tables for machine learning.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = sub.add_parser(
        "demo",
        help="train xgboost on built-in synthetic data, write maps",
        description="Tabularize 9x9x9 windows of synthetic notebook-shaped "
        "tasmax with a next-day label, train xgboost on the first two "
        "thirds (streamed through WindowDataIter), score the rest against "
        "persistence and climatology, and write PNG maps.",
    )
    demo.add_argument(
        "--size", type=float, default=1.0, help="scale the number of days (1 = the notebook's 60)"
    )
    demo.add_argument("--rounds", type=int, default=40, help="boosting rounds (default 40)")
    demo.add_argument("--out", default="demo_output", help="folder for the PNG maps")
    demo.set_defaults(func=cmd_demo)

    export = sub.add_parser(
        "export",
        help="stream the window table of a dataset to Parquet",
        description="Read zarr or netCDF lazily and write the window "
        "table (features, label, coordinate columns) to Parquet batch by "
        "batch, never holding the table in memory.",
    )
    _add_window_args(export)
    export.add_argument("--out", required=True, help="output Parquet file")
    export.add_argument("--batch-size", type=int, default=65536)
    export.add_argument("--quiet", action="store_true", help="no progress bar")
    export.set_defaults(func=cmd_export)

    plan = sub.add_parser(
        "plan",
        help="sizes of the window table, without reading values",
        description="Sample and feature counts, table bytes and a batch "
        "size for a memory budget, from the dataset's metadata only.",
    )
    _add_window_args(plan)
    plan.add_argument("--memory", type=float, default=1.0, help="memory budget in GiB")
    plan.set_defaults(func=cmd_plan)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)  # argparse prints usage and exits 2 on bad syntax
    if getattr(args, "batch_size", 1) < 1:
        parser.error(f"--batch-size must be a positive integer, got {args.batch_size}")
    if args.command == "demo" and (args.size <= 0 or args.rounds < 1):
        parser.error("--size must be > 0 and --rounds >= 1")
    start = time.perf_counter()
    try:
        args.func(args)
    except (CLIError, ValueError, TypeError, KeyError, OSError) as err:
        message = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        print(f"xbatcher-tab {args.command}: error: {message}", file=sys.stderr)
        return 2
    if args.command == "demo":
        print(f"done in {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
