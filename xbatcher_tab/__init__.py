"""xbatcher-tab: sliding windows over gridded xarray data as tables for classical ML.

Examples
--------
>>> import xbatcher_tab as xt
>>> ds = xt.datasets.tasmax(time=12, lat=10, lon=12)
>>> bgen = xt.BatchGenerator(ds, input_dims={"time": 4})
>>> len(bgen)
3
"""

from . import augment, datasets, metrics, model_selection, weights
from ._batch_options import BatchOptions
from ._options import get_option, set_options
from ._table import Tabular
from ._version import __version__
from ._window import Target, WindowSpec
from .generator import BatchGenerator
from .model_selection import WindowBlockSplit, WindowData
from .prediction import WindowModel, predict
from .tabularizer import WindowTabularizer
from .training import partial_fit


def __getattr__(name: str):
    # optional dependencies are imported only when their adapters are asked for
    if name == "WindowDataIter":
        from .xgboost import WindowDataIter

        return WindowDataIter
    if name in ("torch", "keras"):
        import importlib

        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'xbatcher_tab' has no attribute {name!r}")


__all__ = [
    "BatchGenerator",
    "BatchOptions",
    "Tabular",
    "Target",
    "WindowSpec",
    "WindowBlockSplit",
    "WindowData",
    "WindowDataIter",
    "WindowModel",
    "WindowTabularizer",
    "__version__",
    "augment",
    "datasets",
    "get_option",
    "metrics",
    "model_selection",
    "partial_fit",
    "predict",
    "set_options",
    "weights",
]
