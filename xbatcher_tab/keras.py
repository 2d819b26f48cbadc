"""A Keras 3 ``PyDataset`` over the window table, backend-agnostic.

Importing this module imports keras (the ``keras`` extra). Without ``KERAS_BACKEND``
set and without TensorFlow installed, it selects the torch backend before importing
keras, so ``pip install 'xbatcher-tab[keras]'`` works without TensorFlow.
"""

from __future__ import annotations

import importlib.util
import math
import os

if "KERAS_BACKEND" not in os.environ and importlib.util.find_spec("tensorflow") is None:
    if importlib.util.find_spec("torch") is not None:
        os.environ["KERAS_BACKEND"] = "torch"

import numpy as np
import xarray as xr

from ._adapters.samples import SHAPES, Samples
from ._core.batch_options import BATCH_RULES
from ._core.checks import check_int
from ._core.data import as_dataset
from ._core.optional import require
from ._core.params import Boolean, Options, validate_params
from ._core.seeds import drawn_seed, epoch_seed, group_rng
from .tabularizer import WindowTabularizer, fitted

keras = require("keras", "keras", "xbatcher_tab.keras")

__all__ = ["WindowPyDataset"]


class WindowPyDataset(keras.utils.PyDataset):
    """Batches of the window table for ``model.fit``: ``(x, y)``, ``(x, y, weight)``
    with the tabularizer's ``weight``, or ``(x,)`` for data without the target.

    Parameters
    ----------
    tab : WindowTabularizer
        Fitted, or fitted here on ``data``.
    data : Dataset or DataArray
        Read whole on first use (dask-backed data computed, only what is needed).
    batch_size : int, default 256
        Samples per batch: a gradient step's batch, as the torch loaders' default
        (the tables' iterators default to 65,536 rows, for memory-bound passes).
    shape : "flat" or "window"
        Rows ``(batch, n_features)``, or windows ``(batch, *window, channels)``
        (channels last, Keras's default; one channel per feature variable). With
        columns that have no window position, ``x`` is ``(windows, extras)`` for a
        model with two inputs.
    shuffle : bool, default False
        A new order every epoch, derived from ``random_state`` and the epoch: this
        dataset reads the data whole and permutes every sample, so epoch ``e`` has the
        order the torch loaders and ``fit_batches`` give in epoch ``e`` for data in
        memory, and for dask-backed data when they are given ``shuffle="full"`` (their
        ``shuffle=True`` reads such data slab by slab, in another order); epoch 0 is
        that of ``iter_batches``. Give ``model.fit`` its
        ``shuffle=False``: Keras otherwise reorders the batches with Python's unseeded
        ``random``. With ``workers`` > 1 Keras 3 gathers batches of the next epoch before
        ``on_epoch_end`` changes the order (samples repeated and lost): refused; use
        one worker, or the torch loaders.
    random_state : int, optional
    row_order : "storage" or "random", default "storage"
        A shuffled batch's rows in the order they lie in the data (the batch is still
        a random set of samples, the same set either way) or in the epoch's random
        order; as the batch option of the same name.
    sample : float or int, optional
        A seeded subset of the samples (a fraction in (0, 1] or a count), the same in
        every epoch: those ``iter_batches`` and the torch loaders draw for the same
        ``random_state``.
    **kwargs
        Passed to ``keras.utils.PyDataset`` (``workers``, ``use_multiprocessing``,
        ``max_queue_size``).

    Examples
    --------
    >>> import xbatcher_tab as xt
    >>> ds = xt.datasets.tasmax(time=8, lat=6, lon=7)
    >>> tab = xt.WindowTabularizer(input_dims={"lat": 3, "lon": 3, "time": 3},
    ...                            target=xt.Target("tasmax", lead={"time": 1}))
    >>> batches = WindowPyDataset(tab, ds, batch_size=4, shape="window")
    >>> x, y = batches[0]
    >>> len(batches), x.shape, y.shape
    (2, (4, 3, 3, 3, 1), (4,))
    """

    @validate_params(
        {
            "shape": Options(*SHAPES),
            "shuffle": Boolean(),  # no "full": this dataset reads the data whole
            # the rules of the batch options of the same names
            **{k: BATCH_RULES[k] for k in ("batch_size", "random_state", "sample", "row_order")},
        }
    )
    def __init__(
        self,
        tab: WindowTabularizer,
        data: xr.Dataset | xr.DataArray,
        *,
        batch_size: int = 256,
        shape: str = "flat",
        shuffle: bool = False,
        random_state: int | None = None,
        sample: float | int | None = None,
        row_order: str = "storage",
        **kwargs,
    ) -> None:
        if shuffle and kwargs.get("workers", 1) > 1:
            raise ValueError(
                f"shuffle=True with workers={kwargs['workers']}: Keras 3 gathers batches of "
                "the next epoch before on_epoch_end reshuffles, so an epoch would repeat "
                "some samples and lose others; use workers=1, or "
                "xbatcher_tab.torch.WindowIterableDataset with DataLoader workers"
            )
        super().__init__(**kwargs)
        data = as_dataset(data, "data")
        tab = fitted(tab, data, "WindowPyDataset")
        self.random_state = drawn_seed(random_state, shuffle or sample is not None)
        self.samples = Samples(
            tab.get_layout(),
            data,
            shape,
            channels_last=True,
            runtime=tab._runtime(),
            sample=sample,
            seed=self.random_state,
        )
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.row_order = row_order
        self.epoch = 0
        self._order: np.ndarray | None = None

    def __len__(self) -> int:
        return math.ceil(len(self.samples) / self.batch_size)

    def order(self) -> np.ndarray:
        """This epoch's order of the samples."""
        if self._order is None:
            n = len(self.samples)
            if self.shuffle:
                seed = epoch_seed(self.random_state, self.epoch)
                self._order = group_rng(seed, 0).permutation(n)  # as iter_batches' order
            else:
                self._order = np.arange(n)
        return self._order

    def __getitem__(self, index: int):
        index = check_int("index", index)
        if not 0 <= index < len(self):
            raise IndexError(f"batch index {index} out of range for {len(self)} batches")
        lo = index * self.batch_size
        ids = self.order()[lo : lo + self.batch_size]
        if self.shuffle and self.row_order == "storage":  # a random set, gathered in order
            ids = np.sort(ids)
        return self.samples.batch(ids).parts()

    def on_epoch_end(self) -> None:
        """The next epoch's order (a new one when shuffling)."""
        self.epoch += 1
        self._order = None
