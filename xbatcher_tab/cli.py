"""The ``xbatcher-tab`` command: ``demo``, ``export`` and ``plan``.

Bad arguments, unreadable inputs and failures give a one-line error and exit code 2;
Ctrl-C exits with 130. ``export`` never leaves a partial output nor writes the input.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import signal
import sys
import threading
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

from ._core.window import Target
from ._table.progress import progress_bar
from ._version import __version__

__all__ = ["main", "run"]

GRIB_SUFFIXES = (".grib", ".grb", ".grib2", ".grb2")


class CLIError(Exception):
    """A user error: printed as one line, exit code 2."""


def _dims_arg(text: str, flag: str) -> dict[str, int]:
    """``lat=9,lon=9,time=9`` -> ``{"lat": 9, ...}``."""
    out: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, value = part.partition("=")
        if not sep or not name or not value.strip().lstrip("-").isdigit():
            raise CLIError(f"{flag} expects dim=integer pairs such as lat=9,time=9, got {text!r}")
        if name.strip() in out:
            raise CLIError(f"{flag} names {name.strip()!r} twice, in {text!r}")
        out[name.strip()] = int(value)
    if not out:
        raise CLIError(f"{flag} expects dim=integer pairs such as lat=9,time=9, got {text!r}")
    return out


def _boundary_arg(text: str | None) -> dict[str, str] | None:
    """``lon=periodic,lat=pad`` -> ``{"lon": "periodic", "lat": "pad"}`` (kinds are
    checked by the tabularizer, which names the valid ones)."""
    if text is None:
        return None
    out: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, kind = part.partition("=")
        if not sep or not name.strip() or not kind.strip():
            raise CLIError(
                f"--boundary expects dim=periodic|pad pairs such as lon=periodic, got {text!r}"
            )
        out[name.strip()] = kind.strip()
    if not out:
        raise CLIError(
            f"--boundary expects dim=periodic|pad pairs such as lon=periodic, got {text!r}"
        )
    return out


def _target_arg(text: str | None):
    """``VAR`` or ``VAR:time+1`` (several leads: ``VAR:time+1,lat+0``)."""
    if text is None:
        return None
    var, colon, leads = text.partition(":")
    if not var.strip() or (colon and not leads.strip()):
        raise CLIError(f"--target expects VAR or VAR:dim+lead such as tasmax:time+1, got {text!r}")
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


def _positive(kind: type, what: str):
    """An argparse type: a finite number of ``kind`` above zero."""

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            value = None
        if value is None or not value > 0 or not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}")
        return value

    return parse


def _chunks_arg(text: str | None):
    """``auto``, ``native`` or ``dim=N,...`` (``-1``: the whole dim) -> open's chunks."""
    if text is None or text == "auto":
        return "auto"
    if text == "native":
        return {}
    out = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, value = part.partition("=")
        try:
            size = int(value)
        except ValueError:
            size = 0
        if not sep or not name or not (size > 0 or size == -1):
            raise CLIError(
                f"--chunks expects auto, native or dim=size pairs such as time=10,lat=-1, "
                f"got {text!r}"
            )
        out[name.strip()] = size
    return out


def _open(path: str, engine: str | None = None, chunks: str | None = None):
    """Open zarr (a directory or ``.zarr``) or a file (netCDF, GRIB, ...) lazily.

    ``chunks``: None keeps a zarr store's chunks and cuts a file into dask's automatic
    chunks (about 128 MiB), so that a contiguous netCDF or a GRIB file is streamed
    rather than read whole. Chunks naming a dim the data does not have are an error.
    """
    requested = _chunks_arg(chunks)
    ds = _read(path, engine, chunks, requested)
    if isinstance(requested, dict):
        unknown = [d for d in requested if d not in ds.dims]
        if unknown:
            raise CLIError(
                f"--chunks names dims {unknown} that {path!r} does not have; its dims are "
                f"{list(ds.dims)}"
            )
    return ds


def _read(path: str, engine: str | None, chunks: str | None, requested):
    import xarray as xr

    p = Path(path)
    if not p.exists():
        raise CLIError(f"cannot read {path!r}: no such file or directory")
    is_zarr = engine == "zarr" or (engine is None and (p.is_dir() or p.suffix == ".zarr"))
    try:
        if is_zarr:
            with warnings.catch_warnings():  # stores without consolidated metadata are fine
                warnings.simplefilter("ignore", RuntimeWarning)
                zarr_chunks = None if chunks is None or requested == {} else requested
                return xr.open_zarr(p, consolidated=None, chunks=zarr_chunks)
        if engine is None and p.suffix.lower() in GRIB_SUFFIXES:
            engine = "cfgrib"
        # cfgrib would write an index file beside the user's GRIB file: keep it in memory
        extra = {"backend_kwargs": {"indexpath": ""}} if engine == "cfgrib" else {}
        with warnings.catch_warnings():  # unknown chunk dims are named after opening
            warnings.simplefilter("ignore", UserWarning)
            return xr.open_dataset(p, engine=engine, chunks=requested, **extra)
    except CLIError:
        raise
    except Exception as err:  # any reader failure is the user's input, not our bug
        kind = f"with engine {engine!r}" if engine else "as zarr, netCDF or GRIB"
        raise CLIError(f"cannot read {path!r} {kind}: {err}") from err


def _tabularizer(args, ds):
    from .tabularizer import WindowTabularizer

    variables = None
    if args.variables is not None:
        variables = [v.strip() for v in args.variables.split(",")]
        if not all(variables):
            raise CLIError(f"--variables expects VAR,... names, got {args.variables!r}")
    tab = WindowTabularizer(
        input_dims=_dims_arg(args.input_dims, "--input-dims"),
        input_overlap=_dims_arg(args.overlap, "--overlap") if args.overlap else None,
        variables=variables,
        target=_target_arg(args.target),
        dropna=args.dropna,
        boundary=_boundary_arg(args.boundary),
        weight=args.weight,
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
    p.add_argument(
        "--boundary",
        metavar="DIM=KIND,...",
        help="windows at the edges: periodic (wrap around) or pad (NaN outside), e.g. "
        "lon=periodic,lat=pad",
    )
    p.add_argument(
        "--weight",
        choices=["coslat"],
        help="a weight per sample: coslat, the cosine of its latitude (a weight column)",
    )
    p.add_argument(
        "--engine",
        choices=["netcdf4", "h5netcdf", "scipy", "cfgrib", "zarr"],
        help="reader (default: zarr for a folder or .zarr, else xarray's choice)",
    )
    p.add_argument(
        "--chunks",
        metavar="auto|native|DIM=N,...",
        help="dask chunks to read with (default: a zarr store's own; files: auto, "
        "about 128 MiB, so a large file is streamed)",
    )


def cmd_plan(args) -> None:
    ds = _open(args.input, args.engine, args.chunks)
    tab = _tabularizer(args, ds)
    row_bytes = tab.n_features_out_ * tab.layout_.dtype.itemsize
    n = tab.count_samples(ds)
    sizes = {d: int(ds.sizes[d]) for d in tab.dims_}
    budget = int(args.memory * 2**30)
    batch = max(1, budget // (3 * row_bytes))  # two batches in flight plus their copy
    batch = 1 << (batch.bit_length() - 1)
    print(f"dims           {sizes}")
    print(f"samples        {n:,}" + (" (before dropna)" if tab.get_layout().selects else ""))
    print(f"features       {tab.n_features_out_:,} ({', '.join(map(str, tab.variables_))})")
    print(f"table          {n * row_bytes / 1e9:,.2f} GB as {tab.layout_.dtype}")
    print(
        f"batch size     {batch:,} samples ({batch * row_bytes / 1e6:,.0f} MB) "
        f"for a {args.memory:g} GiB memory budget"
    )


def cmd_export(args) -> None:
    from .export import check_output, export_parquet, require_pyarrow

    # the output first: refuse before reading anything
    try:
        out = check_output(args.out, inputs=[args.input], overwrite=args.overwrite)
    except (ValueError, FileExistsError) as err:
        raise CLIError(str(err).replace("overwrite=True (--overwrite)", "--overwrite")) from err
    try:
        require_pyarrow()
    except ImportError as err:
        raise CLIError(str(err)) from err
    ds = _open(args.input, args.engine, args.chunks)
    tab = _tabularizer(args, ds)
    total = None if tab.get_layout().selects else tab.count_samples(ds)
    bar = progress_bar(not args.quiet, total, "export", leave=True)
    try:
        n = export_parquet(
            tab,
            ds,
            out,
            batch_size=args.batch_size,
            overwrite=args.overwrite,
            inputs=[args.input],
            progress=None if bar is None else bar.update,
        )
    except (CLIError, KeyboardInterrupt):
        raise
    except Exception as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise CLIError(f"{first} ({type(err).__name__}); nothing was written to {out}") from err
    finally:
        if bar is not None:
            bar.close()
    if not args.quiet:
        names = tab.n_features_out_
        print(f"wrote {n:,} samples x {names} features to {out}")


def cmd_demo(args) -> None:
    from .demo import run_demo

    run_demo(size=args.size, out=Path(args.out), rounds=args.rounds, progress=True)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="xbatcher-tab",
        description="Sliding windows of gridded xarray data as tables for machine learning.",
    )
    parser.add_argument("--version", action="version", version=f"xbatcher-tab {__version__}")
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
        "--size",
        type=_positive(float, "a number > 0"),
        default=1.0,
        help="scale the number of days (1 = the notebook's 60; at least 0.5)",
    )
    demo.add_argument(
        "--rounds",
        type=_positive(int, "a positive integer"),
        default=40,
        help="boosting rounds (default 40)",
    )
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
    export.add_argument(
        "--out", required=True, help="output Parquet file (.parquet), written when complete"
    )
    export.add_argument("--overwrite", action="store_true", help="replace the output if it exists")
    export.add_argument(
        "--batch-size",
        type=_positive(int, "a positive integer"),
        default=65536,
        help="rows per batch and Parquet row group (default 65536)",
    )
    export.add_argument("--quiet", action="store_true", help="no progress bar")
    export.set_defaults(func=cmd_export)

    plan = sub.add_parser(
        "plan",
        help="sizes of the window table, without reading values",
        description="Sample and feature counts, table bytes and a batch "
        "size for a memory budget, from the dataset's metadata only.",
    )
    _add_window_args(plan)
    plan.add_argument(
        "--memory",
        type=_positive(float, "a number of GiB > 0"),
        default=1.0,
        help="memory budget in GiB",
    )
    plan.set_defaults(func=cmd_plan)
    return parser


class Terminated(BaseException):
    """SIGTERM or SIGHUP arrived: raised where the command is, like KeyboardInterrupt,
    so that whatever it was writing is removed on the way out."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _terminate(signum: int, frame) -> None:
    raise Terminated(signum)


@contextlib.contextmanager
def _stopped_by_signals():
    """SIGTERM and SIGHUP raise :class:`Terminated` while the command runs (in the
    main thread; elsewhere Python cannot set handlers and they are left alone)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    wanted = [signal.SIGTERM] + ([signal.SIGHUP] if hasattr(signal, "SIGHUP") else [])
    previous = {s: signal.signal(s, _terminate) for s in wanted}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)  # argparse prints usage and exits 2 on bad syntax
    start = time.perf_counter()
    done = " nothing was written" if args.command == "export" else " stopped"
    try:
        with _stopped_by_signals():
            args.func(args)
    except KeyboardInterrupt:
        print(f"xbatcher-tab {args.command}: interrupted;{done}", file=sys.stderr)
        return 130
    except Terminated as stop:
        name = signal.Signals(stop.signum).name
        print(f"xbatcher-tab {args.command}: terminated ({name});{done}", file=sys.stderr)
        return 128 + stop.signum
    except Exception as err:  # one line for the user, whatever went wrong
        message = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        print(f"xbatcher-tab {args.command}: error: {message}", file=sys.stderr)
        return 2
    if args.command == "demo":
        print(f"done in {time.perf_counter() - start:.0f} s")
    return 0


def run() -> None:
    """The ``xbatcher-tab`` command: :func:`main`, then exit with its code.

    After an error or an interrupt the process ends at once, once its one-line message
    is flushed (``os._exit``): zarr reads chunks on an event loop, and a failed read
    leaves the reads beside it in flight, which the interpreter's teardown would report
    in many more lines ("Task was destroyed", "Event loop is closed", "coroutine was
    never awaited"). Everything the command writes is closed or removed before
    ``main`` returns, so nothing is lost by skipping the teardown.
    """
    code = main()
    if code:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":  # pragma: no cover
    run()
