"""torch datasets over window tables: map-style and iterable, flat rows or windows.

Importing this module imports torch (the ``torch`` extra); ``xbatcher_tab`` itself
does not. Both datasets gather with the package's copy engine, a batch in one call:

* :class:`WindowDataset`, map-style: ``DataLoader(ds, batch_size=256, shuffle=True,
  num_workers=2)`` asks for each batch's indices at once (``__getitems__``);
* :class:`WindowIterableDataset`, iterable: ready batches, each ``DataLoader`` worker
  and each rank its own share of the epoch (disjoint, every sample once), reshuffled
  by :meth:`~WindowIterableDataset.set_epoch`.
"""

from __future__ import annotations

import operator
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import xarray as xr

from ._adapters.samples import SHAPES, Samples, shaped
from ._core.batch_options import BatchOptions, Sample, with_batch_options
from ._core.checks import check_int
from ._core.data import as_dataset, computing_in
from ._core.optional import require
from ._core.params import Options, Seed, validate_params
from ._core.seeds import drawn_seed
from ._table.batches import Shard, iter_batches
from ._table.epochs import batches_per_rank
from ._table.slabs import SlabSource
from .tabularizer import WindowTabularizer, fitted

torch = require("torch", "torch", "xbatcher_tab.torch")
require("torch.utils.data._utils.collate", "torch", "xbatcher_tab.torch")
Dataset = torch.utils.data.Dataset
IterableDataset = torch.utils.data.IterableDataset
default_collate = torch.utils.data.default_collate
get_worker_info = torch.utils.data.get_worker_info
default_collate_fn_map = torch.utils.data._utils.collate.default_collate_fn_map

__all__ = ["WindowDataset", "WindowIterableDataset"]


def as_tensors(parts):
    """numpy arrays (nested in tuples) as torch tensors, sharing memory where numpy
    allows (a read-only or broadcast view is copied)."""
    if isinstance(parts, tuple):
        return tuple(as_tensors(p) for p in parts)
    arr = np.asarray(parts)
    if not arr.flags.writeable:  # torch wants memory it may write
        arr = np.array(arr, order="C")
    return torch.from_numpy(arr)


class WindowDataset(Dataset):
    """A map-style torch dataset of the window table: sample ``i`` is row ``i``.

    Parameters
    ----------
    tab : WindowTabularizer
        Fitted, or fitted here on ``data``.
    data : Dataset or DataArray
        Read whole on first use in each process (dask-backed data computed, only the
        variables the table needs): for a source larger than memory use
        :class:`WindowIterableDataset`.
    shape : "flat" or "window"
        A sample's features as its row (``n_features`` values), or as its window: one
        channel per feature variable (broadcast along window dims it lacks), then the
        window's sizes in ``input_dims`` order. With columns that have no window
        position (a centering reference, summaries, coordinate features), ``x`` is the
        pair ``(window, extras)``.
    sample : float or int, optional
        A seeded subset of the samples: a fraction in (0, 1] or a count, drawn by
        ``random_state`` (the samples ``iter_batches`` and the other loaders draw for
        the same seed and ``sample``).
    random_state : int, optional
        The sample's seed (drawn once here if not given).

    Notes
    -----
    Items are ``(x, y)`` tensors, ``(x, y, w)`` with the tabularizer's ``weight``, or
    ``(x,)`` for data without the target variable (a one-element tuple, so that an
    ``x`` that is itself the pair ``(windows, extras)`` never reads as ``(x, y)``). Its
    length is the number of samples kept (after ``dropna`` and ``where``; of them,
    those drawn by ``sample``). A ``DataLoader`` gathers each batch in one call, through
    ``__getitems__``, not one call per sample; worker processes receive the dataset
    without the data it read, and read it again.

    Examples
    --------
    >>> import xbatcher_tab as xt
    >>> from torch.utils.data import DataLoader
    >>> ds = xt.datasets.tasmax(time=8, lat=6, lon=7)
    >>> tab = xt.WindowTabularizer(input_dims={"time": 3, "lat": 3, "lon": 3},
    ...                            target=xt.Target("tasmax", lead={"time": 1}))
    >>> windows = WindowDataset(tab, ds, shape="window")
    >>> x, y = next(iter(DataLoader(windows, batch_size=4, shuffle=True)))
    >>> tuple(x.shape), tuple(y.shape)
    ((4, 1, 3, 3, 3), (4,))
    """

    @validate_params({"shape": Options(*SHAPES), "sample": Sample(), "random_state": Seed()})
    def __init__(
        self,
        tab: WindowTabularizer,
        data: xr.Dataset | xr.DataArray,
        *,
        shape: str = "flat",
        sample: float | int | None = None,
        random_state: object = None,
    ) -> None:
        data = as_dataset(data, "data")
        self.tab = fitted(tab, data, "WindowDataset")  # no target needed: x alone
        seed = drawn_seed(random_state, sample is not None)  # one subset in every worker
        self.samples = Samples(
            self.tab.get_layout(),
            data,
            shape,
            runtime=self.tab._runtime(),
            sample=sample,
            seed=seed,
        )

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int):
        return _lists(as_tensors(self.samples.batch([_index(index)]).parts()), 0)

    def __getitems__(self, indices) -> _Batch:
        """The samples at ``indices``, gathered in one call (in a worker process, into
        shared memory, so the batch reaches the main process without a copy). The
        default collate function takes the batch whole; any other sees its samples."""
        n = len(indices)
        out = None
        if get_worker_info() is not None:
            layout = self.samples.layout
            dtype = torch.from_numpy(np.empty(0, dtype=layout.dtype)).dtype
            out = torch.empty((n, layout.n_features), dtype=dtype).share_memory_().numpy()
        return _Batch(as_tensors(self.samples.batch(list(indices), out=out).parts()), n)


def _index(index: object) -> int:
    """A sample index: an integer, or anything that is one (a 0-d integer tensor, as a
    sampler may give); the named error otherwise."""
    if not isinstance(index, bool | np.bool_):
        try:
            return operator.index(index)
        except TypeError:
            pass
    return check_int("index", index)


def _lists(parts, i: int | None = None):
    """A batch's (nested) tuple of parts as default_collate gives them (lists), or
    sample ``i`` of it as a dataset's item (tuples)."""
    if isinstance(parts, tuple):
        return [_lists(p, i) for p in parts] if i is None else tuple(_lists(p, i) for p in parts)
    return parts if i is None else parts[i]


class _Batch(Sequence):
    """Samples gathered in one call: a sequence of its samples for any collate
    function, which ``default_collate`` takes whole (no sample split and stacked)."""

    def __init__(self, parts, n: int) -> None:
        self.parts, self.n = parts, n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> _Item:
        if not -self.n <= i < self.n:
            raise IndexError(i)
        return _Item(self, i % self.n)


class _Item(Sequence):
    """Sample ``index`` of a :class:`_Batch`: its parts (``(x, y)``, ...) as a sequence."""

    def __init__(self, batch: _Batch, index: int) -> None:
        self.batch, self.index = batch, index

    def sample(self) -> tuple:
        return _lists(self.batch.parts, self.index)

    def __len__(self) -> int:
        return len(self.batch.parts)

    def __getitem__(self, k):
        return self.sample()[k]


def _collate(items, *, collate_fn_map=None):
    """``default_collate`` of samples from :meth:`WindowDataset.__getitems__`: the
    gathered batch itself when they are its samples in order, else sample by sample."""
    first = items[0].batch
    whole = isinstance(items, _Batch) or (
        len(items) == first.n
        and all(it.batch is first and it.index == k for k, it in enumerate(items))
    )
    if whole:
        return _lists(first.parts)
    return default_collate([it.sample() for it in items])


default_collate_fn_map[_Item] = _collate  # torch's documented way to extend default_collate


@with_batch_options(4)
class WindowIterableDataset(IterableDataset):
    """An iterable torch dataset of ready batches, each worker and rank its own share.

    Use it with ``DataLoader(ds, batch_size=None, num_workers=k)``: each of the ``k``
    workers (and each of ``world_size`` ranks) iterates a disjoint share of the epoch,
    whose union is every sample exactly once (or with ``drop_last``, the full batches
    that share out evenly). The epoch's batches are planned whole, then dealt out: each
    rank a run of as many as every other rank (several ranks: the last batches cut
    smaller until they share out evenly), each worker a run of its rank's, near its own
    chunks of dask-backed data. ``len(ds)`` is the number of batches of this rank.

    Parameters
    ----------
    tab : WindowTabularizer
        Fitted, or fitted here on ``data``.
    data : Dataset or DataArray
        numpy- or dask-backed; read batch by batch (slab by slab) in each worker.
    shape : "flat" or "window"
        As :class:`WindowDataset`.
    rank, world_size : int, optional
        This process's share among several (distributed training); by default read
        from ``torch.distributed`` when it is initialised (when the dataset is made or
        at :meth:`set_epoch`: a ``DataLoader`` worker has no process group of its own),
        else from torchrun's ``RANK`` and ``WORLD_SIZE``, else one process.
    {batch_options}
    **options
        The batch options above, keyword only (``batch_size`` defaults to 256 here,
        a gradient step's batch, rather than the tables' 65,536).
        With ``shuffle`` and no ``random_state`` a seed is drawn once, here, so every
        worker and rank shuffles the same epoch (and so shares it without overlap).
    """

    @validate_params({"shape": Options(*SHAPES)})
    def __init__(
        self,
        tab: WindowTabularizer,
        data: xr.Dataset | xr.DataArray,
        *,
        shape: str = "flat",
        rank: int | None = None,
        world_size: int | None = None,
        **options: Any,
    ) -> None:
        data = as_dataset(data, "data")
        self.tab = fitted(tab, data, "WindowIterableDataset")
        self.data = data
        self.shape = shape
        opts = BatchOptions.from_kwargs("WindowIterableDataset", options, batch_size=256)
        if (rank is None) != (world_size is None):
            raise ValueError("give rank and world_size together, or neither")
        if world_size is not None:
            world_size = check_int("world_size", world_size, 1)
            rank = check_int("rank", rank, 0, f"an integer in [0, {world_size})")
            if rank >= world_size:
                raise ValueError(f"rank must be an integer in [0, {world_size}), got {rank}")
        self.rank, self.world_size = rank, world_size
        self.options = opts.replace(random_state=self._one_seed(opts.random_state, opts.random))
        # the epoch in shared memory: set_epoch reaches persistent workers too
        self._epoch = torch.full((), opts.epoch, dtype=torch.int64).share_memory_()
        # the process group's (rank, world size), seen where it is initialised (here,
        # and at set_epoch): a DataLoader's worker process has no process group
        self._group = torch.zeros(2, dtype=torch.int64).share_memory_()
        self._note_group()
        self._owner = os.getpid()  # a DataLoader's worker is another process
        # every share plans the epoch's batches from the samples each slab keeps: under
        # dropna or where, counted here once (a read of the data), not in every worker
        source = SlabSource(self.tab.get_layout(), data)
        self._counts = source.counts() if source.lazy and source.layout.selects else None

    def _one_seed(self, random_state: object, needed: bool) -> object:
        """The seed every worker and rank shares: given, drawn here for one process, or
        drawn by rank 0 and sent to the others in distributed training (each drawing
        its own would shuffle different epochs, losing and repeating samples)."""
        if random_state is not None or not needed:
            return drawn_seed(random_state, needed)
        dist = torch.distributed
        if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
            seed = [drawn_seed(None, True) if dist.get_rank() == 0 else None]
            dist.broadcast_object_list(seed, src=0)
            return seed[0]
        if self.world_size is not None and self.world_size > 1:
            raise ValueError(
                "shuffle or augment with rank and world_size given needs random_state: "
                "the processes draw no common seed without an initialised "
                "torch.distributed (make the dataset after init_process_group), so each "
                "would shuffle its own epoch (samples lost and repeated); give every rank "
                "the same random_state"
            )
        return drawn_seed(None, True)

    @property
    def epoch(self) -> int:
        return int(self._epoch)

    def __len__(self) -> int:
        """The number of batches this process's loader gives in an epoch (from
        ``start``): the same on every rank."""
        shard = self.shard()
        if self._counts is not None:
            n = int(self._counts.sum())
        else:
            n = int(SlabSource(self.tab.get_layout(), self.data).counts().sum())
        return max(batches_per_rank(n, self.options, shard.ranks) - self.options.start, 0)

    def set_epoch(self, epoch: int) -> None:
        """The epoch to iterate next: its order is derived from ``random_state`` and the
        epoch (as ``DistributedSampler.set_epoch``), the same in every worker and rank."""
        self._epoch.fill_(check_int("epoch", epoch, 0))
        self._note_group()

    def _note_group(self) -> None:
        dist = torch.distributed
        if dist.is_available() and dist.is_initialized():
            self._group[0], self._group[1] = dist.get_rank(), dist.get_world_size()

    def shard(self, worker: int | None = None) -> Shard:
        """This worker's and rank's share of the epoch (``worker``: the share of the
        worker it plays, by default its own)."""
        rank, world = self.rank, self.world_size
        if world is None:
            dist = torch.distributed
            if dist.is_available() and dist.is_initialized():
                rank, world = dist.get_rank(), dist.get_world_size()
            elif int(self._group[1]):  # a worker: the group its parent process saw
                rank, world = int(self._group[0]), int(self._group[1])
            elif "WORLD_SIZE" in os.environ and "RANK" in os.environ:  # torchrun's
                rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
            else:
                rank, world = 0, 1
        info = get_worker_info()
        own, workers = (info.id, info.num_workers) if info is not None else (0, 1)
        return Shard(rank, world, own if worker is None else worker, workers)

    def __iter__(self):
        info = get_worker_info()
        worker, workers = (info.id, info.num_workers) if info is not None else (0, 1)
        # start counts the batches of this process's loader, which takes them from its
        # workers in turn, worker 0 first (worker w's share holds len(range(w, K, W)) of
        # the rank's K batches, so the turns hold to the end): resuming at batch k,
        # worker w plays the share of batch k + w and skips that share's batches before
        # k, so the loader gives batches k, k + 1, ... of the full epoch, in order
        start = self.options.start
        played = (worker + start) % workers
        options = self.options.replace(epoch=self.epoch, start=len(range(played, start, workers)))
        layout = self.tab.get_layout()
        labelled = layout.labelled(self.data)
        runtime = self.tab._runtime()
        with computing_in(self._owner):
            batches = iter_batches(
                layout, self.data, options, self.shard(played), runtime, self._counts
            )
            for batch in batches:
                x = shaped(layout, batch.X, self.shape)
                parts = (x,) if not labelled else (x, batch.y)
                if labelled and layout.weight is not None:
                    parts += (self.tab.sample_weight(batch.coords),)
                yield as_tensors(parts)
