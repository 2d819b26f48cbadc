"""xgboost adapters: a ``DataIter`` over window-table batches, and :func:`train`, which
trains on a table never built whole, on one process or every worker of a dask
cluster.

Importing this module imports xgboost (the ``xgboost`` extra); ``xbatcher_tab`` itself
does not.
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import xarray as xr

from ._core.batch_options import BatchOptions, with_batch_options
from ._core.checks import check_choice, check_int
from ._core.data import as_dataset
from ._core.optional import require
from ._core.seeds import drawn_seed
from ._table.epochs import Shard
from ._table.sampling import sample_size
from ._table.slabs import SlabSource
from .tabularizer import fitted_with_target

xgboost = require("xgboost", "xgboost", "xbatcher_tab.WindowDataIter")

from ._adapters.boosting import MODES, BatchIter, Job, Part, train_share  # noqa: E402 (needs xgboost)

__all__ = ["WindowDataIter", "train"]

HEARTBEAT_LOST = 15.0  # seconds without a word from a worker: lost


@with_batch_options(4)
class WindowDataIter(BatchIter):
    """An ``xgboost.DataIter`` that hands xgboost the window table batch by batch.

    xgboost reads the iterator several times (to sketch quantiles, then to build the
    pages): every pass yields the same batches in the same order, shuffled or not.

    Parameters
    ----------
    tab : WindowTabularizer
        Fitted, or fitted here on ``data``; it needs a ``target``.
    data : Dataset or DataArray
        numpy- or dask-backed.
    cache_prefix : str, optional
        Where ``xgboost.ExtMemQuantileDMatrix`` keeps its external-memory pages (files
        named ``{{cache_prefix}}-...``); its folder is created if missing.
    {batch_options}
    **options
        The batch options above, keyword only (``batch_size`` defaults to 262144
        here: each batch is one of xgboost's pages, and fewer, larger pages build its
        quantile sketches and external-memory cache faster; ``prefetch`` to 1, so the
        next page is gathered while xgboost digests this one). With ``shuffle`` or
        ``augment`` and no ``random_state`` a seed is drawn once, so that every pass
        still gives the same batches.

    Examples
    --------
    >>> import xgboost, xbatcher_tab as xt
    >>> ds = xt.datasets.tasmax(time=8, lat=10, lon=12)
    >>> tab = xt.WindowTabularizer(input_dims={{"lat": 3, "lon": 3, "time": 2}},
    ...                            input_overlap={{"lat": 2, "lon": 2, "time": 1}},
    ...                            target=xt.Target("tasmax", lead={{"time": 1}}))
    >>> dtrain = xgboost.QuantileDMatrix(xt.WindowDataIter(tab, ds, batch_size=256), max_bin=32)
    >>> dtrain.num_row(), dtrain.num_col()
    (480, 18)
    """

    def __init__(
        self,
        tab,
        data: xr.Dataset | xr.DataArray,
        *,
        cache_prefix: str | None = None,
        **options: Any,
    ) -> None:
        # xgboost's DataIter.__del__ needs its own state even when a check below fails
        super().__init__(cache_prefix=cache_prefix)
        if cache_prefix is not None:  # xgboost writes its pages there but makes no folder
            Path(cache_prefix).parent.mkdir(parents=True, exist_ok=True)
        opts = BatchOptions.from_kwargs("WindowDataIter", options, batch_size=262144, prefetch=1)
        tab = fitted_with_target(tab, data, "WindowDataIter")
        # every pass must repeat the same batches: one seed, fixed here
        opts = opts.replace(random_state=drawn_seed(opts.random_state, opts.random))
        self.tab = tab
        self.data = data
        self.options = opts
        self.feature_names = [str(n) for n in tab.get_feature_names_out()]
        self.weight = tab.layout_.weight

    def passed(self):
        """This pass's batches (the run-time options read now, as ``iter_batches``)."""
        return iter(self.tab.iter_batches(self.data, **self.options.as_kwargs()))


def train(
    client: Any,
    params: dict,
    tab,
    data: xr.Dataset | xr.DataArray,
    num_boost_round: int = 10,
    *,
    evals: Sequence[tuple[xr.Dataset | xr.DataArray, str]] = (),
    early_stopping_rounds: int | None = None,
    verbose_eval: bool | int = False,
    mode: str = "auto",
    batch_size: int | None = None,
    sample: float | int | None = None,
    random_state: object = None,
    timeout: int = 120,
) -> dict:
    """Train xgboost on the window table of ``data``, which is never built whole: each
    process cuts its own share of the windows and streams it into xgboost.

    Parameters
    ----------
    client : distributed.Client or None
        With a client: one task per worker (pinned to it), each cutting its share of
        the table (a run of the epoch's batches, so of its slabs, balanced by rows)
        and training on it, joined to the others by xgboost's collective (a tracker
        started here, the way ``xgboost.dask`` does). None: the same in this process.
    params : dict
        xgboost's parameters (``max_bin`` defaults to 256 and is the matrices' too).
    tab : WindowTabularizer
        Fitted, or fitted here on ``data``; it needs a ``target``. Every option it
        takes applies (preprocessing, outliers, ``weight`` as xgboost's weights,
        ``where``, ``dropna``).
    data : Dataset or DataArray
        numpy-, dask- or zarr-backed; each worker reads only its share of the slabs
        (with dask's synchronous scheduler inside its task).
    num_boost_round : int
    evals : sequence of (data, name)
        Other data (held-out days, say) cut the same way (whole: ``sample`` is for
        the training data), as xgboost's ``evals``: their metrics in ``history``, and
        ``early_stopping_rounds`` on the last.
    early_stopping_rounds, verbose_eval
        As ``xgboost.train``.
    mode : "auto", "external" or "memory"
        ``"external"``: each share streams into ``xgboost.ExtMemQuantileDMatrix``,
        its pages in a folder of its own in the worker's local directory (removed
        afterwards): memory follows a batch, not the table. ``"memory"``: each share
        into a ``QuantileDMatrix`` (faster, the binned share in memory: about one byte
        per feature and row). ``"auto"``: memory when the binned table per worker is
        under a quarter of the smallest worker's memory limit (of this machine's
        memory without a client), else external.
    batch_size : int, optional
        Rows per batch streamed into xgboost (each an external-memory page). By
        default a batch is a 32nd of the smallest worker's memory limit (of this
        machine's memory without a client), between 4,096 and 262,144 rows: a worker
        holds a few batches at once (the one gathered, the one prefetched, xgboost's
        copies). 65,536 rows of 729 features on workers of 1.5 GB exceeded them.
    sample : float or int, optional
        Train on a seeded subset of the samples (see ``iter_batches``' ``sample``).
    random_state : int, optional
        The sample's seed.
    timeout : int
        Seconds a collective operation may wait for the other workers (then fails,
        rather than hang on a lost worker).

    Returns
    -------
    dict
        ``{"booster": xgboost.Booster, "history": dict}``, as ``xgboost.dask.train``.

    Examples
    --------
    >>> import xbatcher_tab as xt
    >>> ds = xt.datasets.tasmax(time=8, lat=10, lon=12)
    >>> tab = xt.WindowTabularizer(input_dims={"lat": 3, "lon": 3, "time": 2},
    ...                            input_overlap={"lat": 2, "lon": 2, "time": 1},
    ...                            target=xt.Target("tasmax", lead={"time": 1}))
    >>> out = train(None, {"max_depth": 3}, tab, ds, num_boost_round=5)
    >>> out["booster"].num_boosted_rounds()
    5
    """
    tab = fitted_with_target(tab, data, "xt.xgboost.train")
    mode = check_choice("mode", mode, MODES)
    num_boost_round = check_int("num_boost_round", num_boost_round, 1)
    timeout = check_int("timeout", timeout, 1)
    layout, runtime = tab.get_layout(), tab._runtime()
    workers = [None] if client is None else _workers(client)
    if batch_size is None:
        row = layout.n_features * layout.dtype.itemsize + 16
        batch_size = int(min(max(_memory_limit(client, workers) / 32 / row, 4096), 262144))
    options = BatchOptions(
        batch_size=batch_size, sample=sample, random_state=random_state, prefetch=1
    )
    options = options.replace(random_state=drawn_seed(options.random_state, options.random))
    params = {"max_bin": 256, **dict(params)}
    parts = [_part(layout, data, "train")]
    for pair in evals:
        if not (isinstance(pair, tuple | list) and len(pair) == 2 and isinstance(pair[1], str)):
            raise TypeError(f"evals must be a sequence of (data, name) pairs, got {pair!r}")
        parts.append(_part(layout, as_dataset(pair[0], "evals"), pair[1]))
    for part in parts:  # every share needs a batch of each part (evals: whole)
        n = _rows(part, options.sample if part is parts[0] else None)
        if n < len(workers):
            what = "data" if part is parts[0] else f"evals {part.name!r}"
            raise ValueError(
                f"{what} gives {n} sample(s) to train on (after dropna, where and sample), "
                f"fewer than the {len(workers)} process(es) training: each needs one at "
                "least; give more data, a looser where, or fewer dask workers"
            )
    if mode == "auto":
        mode = _auto_mode(layout, parts[0], options, client, workers)
    names = [str(n) for n in tab.get_feature_names_out()]
    train_kwargs = {"verbose_eval": verbose_eval}
    if early_stopping_rounds is not None:
        train_kwargs["early_stopping_rounds"] = early_stopping_rounds
    job = Job(
        layout,
        runtime,
        tuple(names),
        parts[0],
        tuple(parts[1:]),
        options,
        params,
        num_boost_round,
        mode,
        train_kwargs,
    )
    if client is None:
        out = train_share(job, Shard(), None, None)
    else:
        out = _on_workers(client, workers, job, timeout)
    return {"booster": out["booster"], "history": out["history"]}


def _part(layout, data, name: str) -> Part:
    """``data`` to train or evaluate on; its slabs' samples counted now (one read, on
    the cluster) under dropna or where, so that every share plans the same batches."""
    data = as_dataset(data, "data")
    source = SlabSource(layout, data)
    counts = source.counts() if layout.selects else None
    n = int(counts.sum()) if counts is not None else source.grid.n_samples
    return Part(data, name, counts, n)


def _rows(part: Part, sample: float | int | None) -> int:
    """The samples ``part`` gives: those kept, or of them those drawn."""
    n = part.n_samples
    return sample_size(sample, n) if sample is not None and n else n


def _workers(client) -> list[str]:
    workers = sorted(client.scheduler_info()["workers"])
    if not workers:
        raise RuntimeError("the dask cluster has no worker to train on")
    return workers


def _auto_mode(layout, part: Part, options: BatchOptions, client, workers) -> str:
    """ "memory" when the binned table per worker fits a quarter of the smallest worker's
    memory limit (this machine's memory without a client), else "external"."""
    n = _rows(part, options.sample)
    binned = n * (layout.n_features + 8) / len(workers)  # a byte a bin, label, weight
    limit = _memory_limit(client, workers)
    return "memory" if binned <= limit / 4 else "external"


def _memory_limit(client, workers) -> int:
    """The smallest worker's memory limit (this machine's memory without a client, or
    for workers without a limit)."""
    machine = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    if client is None:
        return machine
    info = client.scheduler_info()["workers"]
    limits = [info[w].get("memory_limit") or 0 for w in workers]
    return min(limits) if all(limits) else machine


def _on_workers(client, workers: list[str], job: Job, timeout: int) -> dict:
    """One task per worker, pinned, joined by a tracker started here; an error (or a
    worker lost) cancels every task and is raised."""
    import uuid

    import distributed
    from xgboost.tracker import RabitTracker

    host = distributed.comm.get_address_host(client.scheduler.address).strip("/:")
    tracker = RabitTracker(n_workers=len(workers), host_ip=host, sortby="task", timeout=timeout)
    tracker.start()
    threading.Thread(target=_wait_for, args=(tracker,), daemon=True).start()
    args = {**tracker.worker_args(), "dmlc_timeout": timeout}
    run = uuid.uuid4().hex[:8]
    futures = []
    for rank, worker in enumerate(workers):
        coll = {**args, "DMLC_TASK_ID": f"[xbatcher-tab-{rank:06d}]"}
        shard = Shard(rank=rank, ranks=len(workers))
        futures.append(
            client.submit(
                train_share,
                job,
                shard,
                coll,
                None,
                workers=[worker],
                allow_other_workers=False,
                pure=False,
                key=f"xbatcher-tab-xgboost-train-{run}-{rank}",
            )
        )
    try:
        while True:
            time.sleep(0.25)  # the futures' states come from the client's own thread
            for future in futures:
                if future.status == "error":
                    raise future.exception()
            if all(f.status == "finished" for f in futures):
                return futures[0].result()
            silent = client.run_on_scheduler(_silence)
            lost = sorted(w for w in workers if silent.get(w, math.inf) > HEARTBEAT_LOST)
            if lost:
                raise RuntimeError(
                    f"dask worker(s) {lost} left while xgboost trained (their share of the "
                    "table went with them); nothing is returned: train again, on workers "
                    "with more memory or with mode='external'"
                )
    finally:
        for future in futures:
            future.cancel()


def _wait_for(tracker) -> None:
    """The tracker's wait, on its own thread, then its release: their failure (a worker
    lost before it finished) is the training's, raised by the caller; nothing is left
    to raise here, nor in the tracker's ``__del__`` wherever it is collected."""
    for step in (tracker.wait_for, tracker.free):  # freed here, not by the collector
        try:
            step()
        except xgboost.core.XGBoostError:
            pass


def _silence(dask_scheduler) -> dict[str, float]:
    """Seconds since the scheduler last heard from each worker it knows (run on the
    scheduler: a fresh answer)."""
    now = time.time()
    return {address: now - ws.last_seen for address, ws in dask_scheduler.workers.items()}
