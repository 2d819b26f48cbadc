"""xgboost trained on a share of the window table, where the share is read.

:func:`train_share` runs in each process of a training (a dask worker, or the caller
alone): it cuts its share of the epoch's batches (:class:`~xbatcher_tab._table.epochs.Shard`:
a run of batches, so a run of slabs) from the data, streams them through a
:class:`ShareIter` into xgboost's external-memory matrix (pages in a folder of its own,
removed afterwards) or an in-memory quantile matrix, and trains, joined to the other
shares by xgboost's collective. The table exists nowhere whole. Imported by
:mod:`xbatcher_tab.xgboost` only (it imports xgboost).
"""

from __future__ import annotations

import contextlib
import gc
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import xgboost  # the xgboost extra: imported by xbatcher_tab.xgboost only

from .._core.batch_options import BatchOptions
from .._engine.runtime import Runtime
from .._fit.layout import Layout
from .._fit.weights import sample_weight
from .._table.batches import iter_batches
from .._table.epochs import Shard
from .._table.table import Tabular

__all__ = ["BatchIter", "Job", "Part", "ShareIter", "train_share"]

MODES = ("auto", "external", "memory")


@dataclass(frozen=True)
class Part:
    """Data to cut a share of: training data or an evaluation set, with the samples
    each of its slabs keeps when they had to be counted (``dropna``, ``where``), and
    how many it keeps in all."""

    data: object
    name: str
    counts: np.ndarray | None = None
    n_samples: int = 0  # the samples it keeps


class BatchIter(xgboost.DataIter):
    """xgboost's data iterator over window-table batches: each pass, the batches
    :meth:`passed` makes, handed over with their labels, weights (``weight``: the
    layout's, or None) and feature names (``feature_names``)."""

    feature_names: list[str]
    weight: object = None
    _batches = None

    def passed(self) -> Iterator[Tabular]:  # pragma: no cover - each subclass its own
        raise NotImplementedError

    def next(self, input_data) -> bool:
        if self._batches is None:
            self._batches = self.passed()
        batch = next(self._batches, None)
        if batch is None:
            return False
        extra = {}
        if self.weight is not None:
            extra["weight"] = sample_weight(self.weight, batch.coords)
        input_data(data=batch.X, label=batch.y, feature_names=self.feature_names, **extra)
        return True

    def reset(self) -> None:
        close = getattr(self._batches, "close", None)
        if close is not None:  # stop a pass left unfinished (and its prefetch thread)
            close()
        self._batches = None


class ShareIter(BatchIter):
    """Batches of one share of a part: every pass the same."""

    def __init__(self, layout, part, options, shard, runtime, names, cache_prefix=None):
        super().__init__(cache_prefix=cache_prefix)
        self.args = (layout, part.data, options, shard, runtime, part.counts)
        self.weight, self.feature_names = layout.weight, names

    def passed(self) -> Iterator[Tabular]:
        return iter_batches(*self.args)


@dataclass(frozen=True)
class Job:
    """What every share of one training shares: the layout and how to gather, the
    parts (training data, evaluation sets), the batch options, xgboost's parameters,
    rounds, matrix ``mode`` (``"external"`` or ``"memory"``) and ``xgboost.train``
    keywords."""

    layout: Layout
    runtime: Runtime
    names: tuple[str, ...]
    train: Part
    evals: tuple[Part, ...]
    options: BatchOptions
    params: dict
    num_boost_round: int
    mode: str
    train_kwargs: dict


def train_share(job: Job, shard: Shard, coll_args: dict | None, workdir: str | None) -> dict:
    """Train on this process's share of ``job`` (see the module); returns the booster,
    the evaluation history and the rows this share held. ``coll_args``: xgboost's
    collective arguments (None: one process, no collective). ``workdir``: where the
    external-memory pages go (a fresh folder in it, removed at the end)."""
    import dask

    params = job.params
    worker = _dask_worker()
    if worker is not None:  # its threads, its scratch folder
        params = {**params, "nthread": worker.state.nthreads}
        workdir = workdir or worker.local_directory
    pages = tempfile.mkdtemp(prefix="xbatcher-tab-xgboost-", dir=workdir)
    joined = contextlib.nullcontext()
    if coll_args is not None:
        joined = xgboost.collective.CommunicatorContext(**coll_args)
    # read the share here, on this process's threads: asking the cluster this task runs
    # on for the work would wait on itself
    with dask.config.set(scheduler="synchronous"), joined:
        try:  # the matrices live in _train's frame: gone, their pages closed, before rmtree
            out = _train(job, shard, params, pages)
        finally:
            gc.collect()
            shutil.rmtree(pages, ignore_errors=True)
    return {**out, "pages": pages}


def _train(job: Job, shard: Shard, params: dict, pages: str) -> dict:
    """The matrices of the parts and the booster trained on them."""
    external = job.mode == "external"
    kind = xgboost.ExtMemQuantileDMatrix if external else xgboost.QuantileDMatrix
    matrices = []
    for k, part in enumerate((job.train, *job.evals)):
        ref = matrices[0][0] if matrices else None
        prefix = os.path.join(pages, f"part{k}") if external else None  # any name
        options = job.options if k == 0 else job.options.replace(sample=None)  # evals whole
        it = ShareIter(job.layout, part, options, shard, job.runtime, list(job.names), prefix)
        matrices.append((kind(it, max_bin=params["max_bin"], ref=ref), part.name))
    history: dict = {}
    booster = xgboost.train(
        params,
        matrices[0][0],
        job.num_boost_round,
        evals=matrices[1:] or None,
        evals_result=history,
        **job.train_kwargs,
    )
    return {"booster": booster, "history": history, "rows": matrices[0][0].num_row()}


def _dask_worker():
    """The dask worker running this task, or None."""
    try:
        from distributed import get_worker

        return get_worker()
    except (ImportError, ValueError):
        return None
