"""xbatcher-tab: sliding windows over gridded xarray data as tables for classical ML.

Examples
--------
>>> import xbatcher_tab as xt
>>> ds = xt.datasets.tasmax(time=12, lat=10, lon=12)
>>> bgen = xt.BatchGenerator(ds, input_dims={"time": 4})
>>> len(bgen)
3
"""

from . import augment, batching, dask, datasets, metrics, model_selection, weights
from ._core.window import Target
from ._engine.options import get_option, set_options
from ._table.table import Tabular
from ._version import __version__
from .generator import BatchGenerator
from .model_selection import WindowBlockSplit, WindowData
from .prediction import WindowModel, predict
from .tabularizer import WindowTabularizer
from .training import fit_batches
from .training import partial_fit as partial_fit  # deprecated: fit_batches

# names kept for one more release: internal types that no public function takes
_DEPRECATED = {
    "BatchOptions": ("._core.batch_options", "batch options as keyword arguments"),
    "WindowSpec": ("._core.window", "input_dims, input_overlap and boundary"),
}


def __getattr__(name: str):
    # optional dependencies are imported only when their adapters are asked for
    import importlib

    if name == "WindowDataIter":
        return importlib.import_module(".xgboost", __name__).WindowDataIter
    if name in ("torch", "keras", "xgboost"):
        return importlib.import_module(f".{name}", __name__)
    if name in _DEPRECATED:
        from ._core.deprecation import warn_deprecated

        module, instead = _DEPRECATED[name]
        warn_deprecated(f"xt.{name} (an internal type)", instead)
        return getattr(importlib.import_module(module, __name__), name)
    raise AttributeError(f"module 'xbatcher_tab' has no attribute {name!r}")


__all__ = [
    "BatchGenerator",
    "Tabular",
    "Target",
    "WindowBlockSplit",
    "WindowData",
    "WindowModel",
    "WindowTabularizer",
    "__version__",
    "augment",
    "batching",
    "dask",
    "datasets",
    "fit_batches",
    "get_option",
    "metrics",
    "model_selection",
    "predict",
    "set_options",
    "weights",
]
