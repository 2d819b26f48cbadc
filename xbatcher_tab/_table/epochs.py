"""An epoch of a window table planned whole before it is shared: its order, its
batches, and each share's batches.

An epoch is every sample kept, once, in *epoch order*: slab by slab, or (shuffled) the
slabs in a random order ``buffer`` at a time, the samples of each such group
permuted. Its batches are planned over the whole epoch from the number of samples alone
(:func:`batch_sizes`) and then dealt out: rank ``r`` of ``R`` takes a run of
``len(batches) // R`` of them (so every rank gets as many batches), and worker ``w`` of
the rank's ``W`` a run of ``len(range(w, K, W))`` of the rank's ``K`` (so a loader taking
batches from its workers in turn sees them in that order, and ``start`` resumes it).
Runs of the epoch keep each share near its own slabs.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from .._core.batch_options import BatchOptions
from .._core.seeds import group_rng
from .sampling import sample_size
from .slabs import SlabSource

__all__ = ["Epoch", "Shard", "batch_sizes", "batches_per_rank"]


@dataclass(frozen=True)
class Shard:
    """Worker ``worker`` of ``workers`` (a data loader's) in rank ``rank`` of ``ranks``
    (processes of a distributed run): one share of an epoch."""

    rank: int = 0
    ranks: int = 1
    worker: int = 0
    workers: int = 1

    def __post_init__(self) -> None:
        for name, n in (("rank", self.ranks), ("worker", self.workers)):
            if not 0 <= getattr(self, name) < n:
                raise ValueError(f"a shard's {name} must be in [0, {n}), got {getattr(self, name)}")

    @property
    def index(self) -> int:
        """Its position among all shares (rank-major)."""
        return self.rank * self.workers + self.worker

    @property
    def count(self) -> int:
        return self.ranks * self.workers

    def batches(self, n_batches: int) -> range:
        """Which of an epoch's ``n_batches`` batches (a multiple of ``ranks``) it takes."""
        per_rank = n_batches // self.ranks
        first = self.rank * per_rank
        before = sum(len(range(w, per_rank, self.workers)) for w in range(self.worker))
        own = len(range(self.worker, per_rank, self.workers))
        return range(first + before, first + before + own)


def batch_sizes(n: int, size: int, drop_last: bool = False, ranks: int = 1) -> np.ndarray:
    """The sizes of an epoch's batches, in order: ``n`` samples in batches of ``size``,
    as many batches for each of ``ranks`` processes.

    One rank: full batches and a shorter last one, unless ``drop_last``. Several ranks:
    with ``drop_last``, the full batches that share out evenly (the rest of the epoch,
    fewer than ``ranks * size`` samples, is dropped); without, every sample, the last
    batches cut smaller (none empty) until their number is a multiple of ``ranks``.

    Examples
    --------
    >>> batch_sizes(10, 4).tolist(), batch_sizes(10, 4, drop_last=True).tolist()
    ([4, 4, 2], [4, 4])
    >>> batch_sizes(10, 4, ranks=2).tolist()
    [4, 4, 1, 1]
    >>> batch_sizes(13, 4, drop_last=True, ranks=2).tolist()
    [4, 4]
    """
    if drop_last:
        return np.full(n // size // ranks * ranks, size, dtype=np.int64)
    n_batches = -(-n // size)
    total = -(-n_batches // ranks) * ranks
    if total == n_batches:
        sizes = np.full(n_batches, size, dtype=np.int64)
        if n_batches:
            sizes[-1] = n - (n_batches - 1) * size
        return sizes
    if n < total:
        raise ValueError(
            f"an epoch of {n} samples cannot give each of {ranks} ranks a batch "
            "(distributed training needs as many batches on every rank): use fewer "
            "ranks, more data, or drop_last=True"
        )
    # as many full batches as leave one sample at least for each of the others
    full = min(n // size, (n - total) // (size - 1))
    rest, short = n - full * size, total - full
    sizes = np.full(total, size, dtype=np.int64)
    sizes[full:] = rest // short
    sizes[full : full + rest % short] += 1
    return sizes


def batches_per_rank(n: int, options: BatchOptions, ranks: int = 1) -> int:
    """The batches each of ``ranks`` takes in an epoch of ``n`` samples kept, under the
    batch ``options`` (of the samples, those ``sample`` draws).

    Examples
    --------
    >>> batches_per_rank(325, BatchOptions(batch_size=27), ranks=2)
    7
    """
    if options.sample is not None:
        n = sample_size(options.sample, n)
    return batch_sizes(n, options.batch_size, options.drop_last, ranks).size // ranks


class Epoch:
    """The samples of one epoch of ``source``, in epoch order (see the module).

    ``seed``: the shuffle's (None: sequential). ``counts``: the samples each slab keeps,
    if known (else counted on first need: under ``dropna`` or ``where``, each slab is
    read). Group ``g``'s permutation is drawn from its own generator, seeded by
    ``seed`` and ``g``, so any share can cut any run of the epoch alone.
    """

    def __init__(
        self,
        source: SlabSource,
        seed: int | None,
        buffer: int = 1,
        counts: np.ndarray | None = None,
    ) -> None:
        self.source = source
        self.shuffle = seed is not None
        slabs = np.arange(len(source.slabs))
        self._seed = seed
        if self.shuffle and len(slabs) > 1:
            slabs = np.random.default_rng(np.random.SeedSequence(seed).entropy).permutation(slabs)
        step = buffer if self.shuffle else 1
        self.groups = [slabs[g : g + step] for g in range(0, len(slabs), step)]
        self._counts = None if counts is None else np.asarray(counts, dtype=np.int64)
        self._ends: np.ndarray | None = None
        self._held: tuple[int, np.ndarray] | None = None

    @property
    def counts(self) -> np.ndarray:
        """Samples kept by each slab, in slab order."""
        if self._counts is None:
            self._counts = self.source.counts()
        return self._counts

    @property
    def n_samples(self) -> int:
        return int(self.counts.sum())

    def group(self, g: int) -> np.ndarray:
        """Global ids of group ``g``, in epoch order."""
        if self._held is not None and self._held[0] == g:
            return self._held[1]
        ids = np.concatenate([self.source.ids(int(k)) for k in self.groups[g]])
        if self.shuffle:
            ids = group_rng(self._seed, g).permutation(ids)
        self._held = (g, ids)
        return ids

    def stream(self) -> Iterator[np.ndarray]:
        """The whole epoch's ids, a group at a time (counting nothing ahead)."""
        for g in range(len(self.groups)):
            yield self.group(g)

    def take(self, lo: int, hi: int) -> np.ndarray:
        """The ids at epoch positions ``[lo, hi)`` (positions asked in increasing order
        read each group once)."""
        if self._ends is None:  # where each group ends in the epoch
            self._ends = np.cumsum([self.counts[k].sum() for k in self.groups], dtype=np.int64)
        ends = self._ends
        pieces = []
        for g in range(int(np.searchsorted(ends, lo, side="right")), len(self.groups)):
            start = int(ends[g - 1]) if g else 0
            if start >= hi:
                break
            pieces.append(self.group(g)[max(lo - start, 0) : hi - start])
        return np.concatenate(pieces) if pieces else np.empty(0, dtype=np.int64)

    def batches(
        self, size: int, drop_last: bool = False, shard: Shard | None = None, skip: int = 0
    ) -> Iterator[tuple[int, np.ndarray]]:
        """``(j, ids)`` of each of ``shard``'s batches (see :class:`Shard`), ``j`` its
        index in the epoch, the share's first ``skip`` left out."""
        shard = shard or Shard()
        if shard.count == 1:  # the epoch as it comes: nothing counted ahead
            yield from enumerate(rebatch(self.stream(), size, drop_last, skip * size), skip)
            return
        sizes = batch_sizes(self.n_samples, size, drop_last, shard.ranks)
        ends = np.cumsum(sizes)
        for j in shard.batches(len(sizes))[skip:]:
            yield j, self.take(int(ends[j] - sizes[j]), int(ends[j]))


def rebatch(pieces, size: int, drop_last: bool = False, skip: int = 0) -> Iterator[np.ndarray]:
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
