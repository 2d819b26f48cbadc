"""Batches of a window table: an epoch's batches (:mod:`~xbatcher_tab._table.epochs`)
gathered slab by slab as they are asked for, augmented, prefetched. Public face:
:mod:`xbatcher_tab.batching`."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

import numpy as np
import xarray as xr

from .._core.batch_options import BatchOptions
from .._core.seeds import drawn_seed, epoch_seed
from .._engine.runtime import Runtime
from .._fit.layout import Layout
from .epochs import Epoch, Shard, rebatch
from .prefetch import prefetched
from .sampling import Sampled
from .slabs import SlabSource
from .table import Tabular

__all__ = ["Shard", "augmented", "iter_batches", "rebatch"]


def iter_batches(
    layout: Layout,
    data: xr.Dataset | xr.DataArray,
    options: BatchOptions,
    shard: Shard | None = None,
    runtime: Runtime | None = None,
    counts: Sequence[int] | None = None,
) -> Iterator[Tabular]:
    """Yield the table of ``data`` in batches; see :meth:`WindowTabularizer.iter_batches`.

    The source is planned now (metadata only); batches are read and gathered only as
    they are asked for. With a ``shard``, only that share of the epoch's batches (see
    :mod:`~xbatcher_tab._table.epochs`), and ``options.start`` counts the share's
    batches. ``runtime``: how rows are gathered (default: the options in force now, on
    one thread). ``counts``: the samples each slab keeps, if known (a shard counts
    them, reading every slab under ``dropna`` or ``where``, unless given).
    """
    shuffle = options.shuffle
    keep = 2 * options.shuffle_buffer if shuffle else 2  # the groups in flight
    load = shuffle == "full"
    source = SlabSource(layout, data, load=load, keep=keep, runtime=runtime)
    base = drawn_seed(options.random_state, options.random)  # drawn here if not given
    seed = epoch_seed(base, options.epoch)  # the epoch's shuffle and augmentation
    if counts is not None and load:  # counted slab by slab, loaded as one
        counts = [int(np.sum(counts))]
    if options.sample is not None:  # the same subset in every epoch: of the base seed
        source, counts = Sampled(source, options.sample, base, counts), None
    epoch = Epoch(source, seed if shuffle else None, options.shuffle_buffer, counts)
    batches = epoch.batches(options.batch_size, options.drop_last, shard, skip=options.start)
    if shuffle and options.row_order == "storage":  # a random set, gathered in order
        batches = ((j, np.sort(ids)) for j, ids in batches)
    if options.augment is None:
        rows = (source.rows(ids) for _, ids in batches)
    else:
        rows = augmented(((j, source.rows(ids)) for j, ids in batches), options.augment, seed)
    return prefetched(rows, options.prefetch)


def augmented(batches: Iterable[tuple[int, Tabular]], augment, seed) -> Iterator[Tabular]:
    """Apply ``augment(X, y, coords, rng)`` to each of ``(j, batch)``, batch ``j`` of
    the epoch; its generator is seeded by ``seed`` and ``j``, so an epoch repeats, a
    resumed epoch gives the batches the full one gives, and a batch is augmented alike
    whichever worker or rank cuts it (no two batches alike)."""
    entropy = np.random.SeedSequence(seed).entropy
    for j, batch in batches:
        rng = np.random.default_rng([entropy, j])
        yield Tabular(*augment(batch.X, batch.y, batch.coords, rng))
