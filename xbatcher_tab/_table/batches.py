"""Batches of a window table: an epoch's ids (sequential, shuffled, sharded), regrouped
into batches and gathered slab by slab as they are asked for. Public face:
:mod:`xbatcher_tab.batching`."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import xarray as xr

from .._core.batch_options import BatchOptions
from .._core.seeds import fixed_seed
from .._engine.runtime import Runtime
from .._fit.layout import Layout
from .prefetch import prefetched
from .slabs import SlabSource
from .table import Tabular

__all__ = ["Shard", "augmented", "epoch_ids", "iter_batches", "rebatch"]


@dataclass(frozen=True)
class Shard:
    """Share ``index`` of ``count`` disjoint shares of an epoch (one per data-loader
    worker and rank). A lazy source with at least ``count`` slabs is shared by slabs
    (slab ``k`` to share ``k % count``: each share reads only its chunks); otherwise by
    ids, every share seeing the same epoch order and taking every ``count``-th id."""

    index: int = 0
    count: int = 1

    def __post_init__(self) -> None:
        if not 0 <= self.index < self.count:
            raise ValueError(f"a shard's index must be in [0, {self.count}), got {self.index}")

    def by_slabs(self, source: SlabSource) -> bool:
        return source.lazy and len(source.slabs) >= self.count


def iter_batches(
    layout: Layout,
    data: xr.Dataset | xr.DataArray,
    options: BatchOptions,
    shard: Shard | None = None,
    runtime: Runtime | None = None,
) -> Iterator[Tabular]:
    """Yield the table of ``data`` in batches; see :meth:`WindowTabularizer.iter_batches`.

    The source is planned now (metadata only); batches are read and gathered only as
    they are asked for. With a ``shard``, only that share of the epoch (see
    :class:`Shard`), batched on its own. ``runtime``: how rows are gathered
    (default: the options in force now, on one thread).
    """
    shuffle = options.shuffle
    keep = 2 * options.shuffle_buffer if shuffle else 2  # the groups in flight
    source = SlabSource(layout, data, load=shuffle == "full", keep=keep, runtime=runtime)
    seed = fixed_seed(options.random_state)  # shuffle and augment share it
    rng = np.random.default_rng(seed) if shuffle else None
    groups = epoch_ids(source, bool(shuffle), rng, options.shuffle_buffer, shard or Shard())
    batches = rebatch(
        groups, options.batch_size, options.drop_last, skip=options.start * options.batch_size
    )
    rows = (source.rows(ids) for ids in batches)
    if options.augment is not None:
        rows = augmented(rows, options.augment, seed, options.start, shard or Shard())
    return prefetched(rows, options.prefetch)


def augmented(
    batches: Iterable[Tabular], augment, seed, start: int = 0, shard: Shard | None = None
) -> Iterator[Tabular]:
    """Apply ``augment(X, y, coords, rng)`` to each batch; batch ``k``'s generator is
    seeded by ``seed`` and ``k`` (counting from ``start``), so an epoch repeats and a
    resumed epoch gives the batches the full one gives; with a ``shard`` of several,
    by its index too, so that no two shares augment alike."""
    entropy = np.random.SeedSequence(seed).entropy
    own = [shard.index] if shard is not None and shard.count > 1 else []
    for k, batch in enumerate(batches, start=start):
        rng = np.random.default_rng([entropy, *own, k])
        yield Tabular(*augment(batch.X, batch.y, batch.coords, rng))


def epoch_ids(
    source: SlabSource,
    shuffle: bool,
    rng: np.random.Generator | None,
    buffer: int,
    shard: Shard | None = None,
) -> Iterator[np.ndarray]:
    """Global ids of an epoch, in epoch order, a group of slabs at a time.

    Sequential: slab by slab. Shuffled: the slabs in a random order, ``buffer`` at a
    time, the ids of each group permuted (numpy-backed data is one slab, so its whole
    epoch is permuted). With a ``shard``, only its share (see :class:`Shard`).
    """
    shard = shard or Shard()
    slabs = np.arange(len(source.slabs))
    by_slabs = shard.count > 1 and shard.by_slabs(source)
    if by_slabs:
        slabs = slabs[slabs % shard.count == shard.index]
    share = slice(None) if by_slabs or shard.count == 1 else slice(shard.index, None, shard.count)
    if not shuffle:
        for k in slabs:
            yield source.ids(int(k))[share]
        return
    order = rng.permutation(slabs) if len(slabs) > 1 else slabs
    for g in range(0, len(order), buffer):
        group = order[g : g + buffer]
        yield rng.permutation(np.concatenate([source.ids(int(k)) for k in group]))[share]


def rebatch(
    pieces: Iterable[np.ndarray], size: int, drop_last: bool = False, skip: int = 0
) -> Iterator[np.ndarray]:
    """Regroup a stream of id arrays into arrays of ``size`` ids, in the same order.

    The first ``skip`` ids are dropped; the last, shorter array is yielded unless
    ``drop_last``. Pieces are consumed only as far as the next batch needs.

    Examples
    --------
    >>> pieces = [np.arange(0, 3), np.arange(3, 4), np.arange(4, 9)]
    >>> [b.tolist() for b in rebatch(pieces, 4)]
    [[0, 1, 2, 3], [4, 5, 6, 7], [8]]
    >>> [b.tolist() for b in rebatch(pieces, 4, drop_last=True, skip=2)]
    [[2, 3, 4, 5]]
    """
    pending: list[np.ndarray] = []
    n_pending = 0
    for ids in pieces:
        if skip:
            dropped = min(skip, ids.size)
            ids, skip = ids[dropped:], skip - dropped
        if ids.size == 0:
            continue
        pending.append(ids)
        n_pending += ids.size
        if n_pending < size:
            continue
        joined = np.concatenate(pending) if len(pending) > 1 else pending[0]
        whole = n_pending // size * size
        for lo in range(0, whole, size):
            yield joined[lo : lo + size]
        pending = [joined[whole:]] if whole < n_pending else []
        n_pending -= whole
    if n_pending and not drop_last:
        yield np.concatenate(pending) if len(pending) > 1 else pending[0]
