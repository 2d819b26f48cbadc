"""xgboost adapters: a ``DataIter`` over window-table batches.

Importing this module imports xgboost (the ``xgboost`` extra); ``xbatcher_tab`` itself
does not.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import xarray as xr

from ._core.batch_options import BatchOptions, with_batch_options
from ._core.optional import require
from ._core.seeds import drawn_seed
from .tabularizer import fitted_with_target

xgboost = require("xgboost", "xgboost", "xbatcher_tab.WindowDataIter")

__all__ = ["WindowDataIter"]


@with_batch_options(4)
class WindowDataIter(xgboost.DataIter):
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
        self._batches = None

    def next(self, input_data) -> bool:
        if self._batches is None:
            self._batches = iter(self.tab.iter_batches(self.data, **self.options.as_kwargs()))
        batch = next(self._batches, None)
        if batch is None:
            return False
        weight = {}
        if self.tab.layout_.weight is not None:
            weight["weight"] = self.tab.sample_weight(batch.coords)
        input_data(data=batch.X, label=batch.y, feature_names=self.feature_names, **weight)
        return True

    def reset(self) -> None:
        close = getattr(self._batches, "close", None)
        if close is not None:  # stop a pass left unfinished (and its prefetch thread)
            close()
        self._batches = None
