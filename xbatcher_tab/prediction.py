"""From a trained model back to the map: :func:`predict` and :class:`WindowModel`.

Prediction cuts every window whose features lie inside the data, including the last
windows along lead dims whose label would lie past the data's end (forecasts), predicts
them batch by batch and puts each value at its sample's anchor on the map. Memory holds
a batch and the output grid, never the table; dask-backed data gives a lazy result
whose blocks follow the source's chunks.
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from ._adapters.models import Predictor, is_keras_model
from ._adapters.samples import SHAPES, shaped
from ._adapters.scoring import data_pieces, labelled_rows, labelled_score
from ._core.coords import Labels, MapLayout, map_dtype
from ._core.data import as_dataset, chunk_sizes
from ._core.deprecation import keyword_only, warn_deprecated
from ._core.params import Boolean, Checked, Integer, Options, validate_params
from ._core.time import check_step
from ._fit.layout import Layout
from ._table.prefetch import prefetched
from ._table.progress import progress_bar
from ._table.slabs import SlabSource, map_slabs, prepare
from ._table.table import Table
from .tabularizer import (
    GridInputMixin,
    WindowTabularizer,
    check_model_first,
    fitted_with_target,
)

__all__ = ["WindowModel", "predict"]

CLASS_DIM = "class"


def check_model_and_tab(model: Any, tab: object) -> tuple[Any, WindowTabularizer]:
    """The model and its tabularizer: ``tab``, or without it the first step of a
    Pipeline ``model`` (the model then being the rest)."""
    check_model_first(model, tab, "xt.predict")
    if tab is not None:
        if not isinstance(tab, WindowTabularizer):
            raise TypeError(
                "tab must be the fitted WindowTabularizer that cut the model's rows; "
                f"xt.predict takes (model, tab, data), got tab={type(tab).__name__}"
            )
        if isinstance(model, Pipeline) and isinstance(model[0], WindowTabularizer):
            if model[0] is not tab:
                raise TypeError(
                    "model is a Pipeline that starts with a WindowTabularizer of its own, "
                    "and tab is another: call xt.predict(model, None, data) to use the "
                    "Pipeline's"
                )
            return model[1:], tab
        return model, tab
    if not (isinstance(model, Pipeline) and isinstance(model[0], WindowTabularizer)):
        raise TypeError(
            "tab may be None only when model is a Pipeline whose first step is a "
            f"WindowTabularizer, got {type(model).__name__}"
        )
    return model[1:], model[0]


def _fill(
    values: np.ndarray,
    table: Table,
    predictor: Predictor,
    batch_size: int,
    dims: Sequence[Hashable],
    origin: int,
    bar=None,
    prefetch: int = 0,
) -> np.ndarray:
    """Predict every sample ``table`` keeps, batch by batch, into ``values`` (the map,
    or a block of it starting ``origin`` cells into the outermost sample dim); with
    ``prefetch``, the next batches' rows are gathered while the model predicts."""
    d0 = table.grid.dims[0]
    ids = table.valid_ids()
    parts = (ids[lo : lo + batch_size] for lo in range(0, ids.size, batch_size))
    for part, X in prefetched(((part, table.X(part)) for part in parts), prefetch):
        pred = predictor(X)
        cells = table.anchor_cells(part)
        cells[d0] = cells[d0] - origin
        values[tuple(cells[d] for d in dims)] = pred
        if bar is not None:
            bar.update(part.size)
    return values


def _predict_block(table, predictor, batch_size, dims, dtype, shape, origin):
    """One block of the map from one slab's table (runs in a dask task)."""
    values = np.full(shape, np.nan, dtype=dtype)
    return _fill(values, table, predictor, batch_size, dims, origin)


PREDICT_RULES = {
    "batch_size": Integer(1),
    "method": Options("predict", "predict_proba"),
    "progress": Boolean(),
    "prefetch": Integer(0),
    "forecast": Options(None, True, False),
    "forecast_step": Checked("forecast_plan, against the lead dims and their labels"),
    "shape": Options(*SHAPES),
}


@keyword_only(3, list(PREDICT_RULES))
@validate_params(PREDICT_RULES)
def predict(
    model: Any,
    tab: WindowTabularizer | None,
    data: xr.Dataset | xr.DataArray,
    *,
    batch_size: int = 65536,
    method: str = "predict",
    progress: bool = False,
    prefetch: int = 0,
    forecast: bool | None = None,
    forecast_step: object = None,
    shape: str = "flat",
) -> xr.DataArray:
    """Predict every window of ``data`` and put the predictions on the map.

    Parameters
    ----------
    model : estimator, Pipeline, xgboost model, ``xgboost.Booster``, torch module or Keras model
        Anything with ``predict`` (or ``predict_proba``) that takes the tabularizer's
        rows. A Pipeline whose first step is a ``WindowTabularizer`` is split into
        that tabularizer and the rest (pass ``tab=None``). A ``torch.nn.Module`` is
        called in eval mode without gradients on batches shaped by ``shape`` (the
        shape it was trained on), a Keras model likewise (``predict_on_batch``).
    tab : WindowTabularizer
        Fitted; its layout fixes the features and each sample's anchor. ``data`` needs
        only its feature variables.
    data : Dataset or DataArray
        numpy-backed (predicted now) or dask-backed (a lazy result).
    batch_size : int
        Samples predicted at a time: memory holds one batch of rows.
    method : "predict" or "predict_proba"
        ``predict_proba`` adds a trailing ``class`` dim (labelled by ``classes_``).
    progress : bool
        A tqdm bar over the samples (numpy-backed data; if tqdm is installed).
    prefetch : int
        Batches of rows gathered ahead on a background thread while the model
        predicts (numpy-backed data; memory then holds up to ``prefetch + 2`` batches
        of rows). Rows are gathered by the tabularizer's ``n_jobs`` threads.
    forecast : bool, optional
        Whether the windows whose label lies past the data's end along lead dims (the
        forecasts) are predicted too, the map reaching past the data's end. Their
        labels extend the coordinate by ``forecast_step``, its regular step (days,
        hours, numbers) or its calendar frequency (month or year starts, in any
        calendar). Default (None): forecasts when their labels can be made, otherwise
        none, with a warning saying why; True: forecasts or an error; False: the data's
        own grid only. Cells inside the data are predicted either way.
    forecast_step : number, time delta or frequency string, or dict, optional
        The step of the forecasts' labels along the lead dim (a dict: per lead dim),
        forward and in the labels' terms: a number for numeric labels, a time delta
        or frequency string for time labels (anything else is refused by name), e.g.
        ``"MS"`` for monthly data stamped mid-month: each forecast at the next month's
        start.
    shape : "flat" or "window"
        What the model takes: rows, or each sample's window (channels first for
        torch, last for Keras; ``(windows, extras)`` as two inputs when the rows have
        columns with no window position), as the datasets of
        :mod:`xbatcher_tab.torch` and :mod:`xbatcher_tab.keras` give them.

    Returns
    -------
    xarray.DataArray
        Named after the target variable (``prediction`` without one), with its
        attributes and its dims first; missing where no sample is anchored (NaN; for
        class labels that are not numbers, an object map with NaN). Coordinates keep
        their attributes and encoding (units, calendar). Dims are in the fitted
        direction (data in the other direction is reversed before its windows are cut).

    Examples
    --------
    >>> import xbatcher_tab as xt
    >>> from sklearn.linear_model import Ridge
    >>> ds = xt.datasets.tasmax(time=10, lat=6, lon=8)
    >>> tab = xt.WindowTabularizer(input_dims={"lat": 3, "lon": 3, "time": 3},
    ...                            input_overlap={"lat": 2, "lon": 2, "time": 2},
    ...                            target=xt.Target("tasmax", lead={"time": 1}))
    >>> X, y, _ = tab.tabularize(ds)
    >>> pred = xt.predict(Ridge().fit(X, y), tab, ds)
    >>> pred.name, pred.sizes["time"], str(pred.time.values[-1])[:10]  # one day past
    ('tasmax', 11, '1850-01-11')
    """
    model, tab = check_model_and_tab(model, tab)
    layout = tab.get_layout()
    # the data prepared once: checked against the layout, in its order and direction
    prepared = prepare(layout, as_dataset(data, "data"), labelled=False)
    reshape = None
    if shape != "flat":
        reshape = functools.partial(
            shaped, layout, shape=shape, channels_last=is_keras_model(model)
        )
    names = [str(n) for n in tab.get_feature_names_out()]
    predictor = Predictor(model, method, names, reshape)
    forecasts, steps = forecast_plan(layout, prepared.ds, forecast, forecast_step)
    source = SlabSource(
        layout, prepared, labelled=False, forecasts=forecasts, steps=steps, runtime=tab._runtime()
    )
    first = list(layout.target_dims or ())  # the target's dims first, then the others
    map_dims = first + [d for d in layout.dims if d not in first]
    out = MapLayout.of_anchors(map_dims, source.grid, source.ds.sizes, source.coords)
    # the output's dtype and classes, from one row of zeros (no data is read)
    probe = predictor(np.zeros((1, layout.n_features), dtype=layout.dtype))
    dtype = map_dtype(probe.dtype)  # floats (NaN where missing), or objects for labels
    extra = tuple(probe.shape[1:])
    if method == "predict_proba" and len(extra) != 1:
        raise ValueError(f"predict_proba gave an array of shape {probe.shape}, not (n, classes)")
    dims = out.dims + ((CLASS_DIM,) if extra else ())
    coords = dict(out.coords)
    if extra:
        classes = getattr(model, "classes_", None)
        fits = classes is not None and len(classes) == extra[0]
        coords[CLASS_DIM] = np.asarray(classes) if fits else np.arange(extra[0])
    if source.lazy:
        values = _lazy_map(layout, source, predictor, batch_size, out, extra, dtype)
    else:
        values = out.empty(dtype, extra)
        bar = progress_bar(progress, sum(s.n_samples for s in source.slabs), "predict")
        try:
            for k in range(len(source.slabs)):
                table = source.table(k)
                _fill(values, table, predictor, batch_size, out.dims, 0, bar, prefetch)
        finally:
            if bar is not None:
                bar.close()
    name = layout.target if layout.target is not None else "prediction"
    return xr.DataArray(values, dims=dims, coords=coords, name=name, attrs=layout.target_attrs)


def forecast_plan(
    layout: Layout, ds: xr.Dataset, forecast: object, forecast_step: object
) -> tuple[bool, dict]:
    """Whether ``predict`` forecasts past the end of ``ds`` (prepared: in the layout's
    order), and the steps of the forecasts' labels per lead dim (see :func:`predict`)."""
    leads = [d for d, _ in layout.window.leads]
    if isinstance(forecast_step, Mapping):
        steps = dict(forecast_step)
    elif forecast_step is None:
        steps = {}
    elif len(leads) == 1:
        steps = {leads[0]: forecast_step}
    else:
        raise ValueError(
            f"forecast_step needs a lead dim to step along; the target's lead dims are {leads}"
            + ("" if not leads else ": give a dict {dim: step}")
        )
    unknown = [d for d in steps if d not in leads]
    if unknown:
        raise ValueError(
            f"forecast_step names {unknown}, which are not lead dims; the lead dims are {leads}"
        )
    for d, step in steps.items():
        labels = Labels.of(ds, d)
        if labels is not None:
            name = (
                f"forecast_step[{d!r}]" if isinstance(forecast_step, Mapping) else "forecast_step"
            )
            steps[d] = check_step(name, labels.values, step)
    if forecast is False or not leads:
        return False, steps
    for d in leads:
        labels = Labels.of(ds, d, steps.get(d))
        if labels is None or labels.can_extend():
            continue
        if forecast is True:
            labels.past_end()  # raises, saying why and what to give
        warnings.warn(
            f"xt.predict leaves out the forecasts past the end of {d!r}: its coordinate has "
            "no regular step and no calendar frequency to label them; give forecast_step= "
            "to label them, or forecast=False to ask for none",
            UserWarning,
            stacklevel=3,
        )
        return False, steps
    return True, steps


def _lazy_map(layout, source, predictor, batch_size, out, extra, dtype):
    """The map as a dask array: one block per slab along the outermost sample dim."""
    import dask
    import dask.array as dsa

    d0 = layout.dims[0]
    axis = out.dims.index(d0)
    if not source.slabs:
        return dsa.full(out.shape + extra, np.nan, dtype=dtype)
    # block k holds the anchors of slab k: from its first anchor to the next slab's
    edges = [0] + [layout.window.anchor_cell(d0, s.positions.start) for s in source.slabs[1:]]
    edges.append(out.shape[axis])
    shapes = []
    for k in range(len(source.slabs)):
        shape = list(out.shape) + list(extra)
        shape[axis] = edges[k + 1] - edges[k]
        shapes.append(tuple(shape))
    shared = dask.delayed(predictor, pure=True)
    each = list(zip(shapes, edges[:-1], strict=True))
    tasks = map_slabs(source, _predict_block, shared, batch_size, out.dims, dtype, each=each)
    blocks = [
        dsa.from_delayed(task, shape, dtype=dtype)
        for task, shape in zip(tasks, shapes, strict=True)
    ]
    values = dsa.concatenate(blocks, axis=axis)
    # the blocks start at the slabs' first anchors; cut them as the source is chunked
    # (its first chunk's size per dim), so the map is chunked uniformly (zarr needs it)
    chunks = {}
    for i, d in enumerate(out.dims):
        sizes = chunk_sizes(source.ds, d)
        if sizes:
            chunks[i] = sizes[0]
    return values.rechunk(chunks) if chunks else values


class WindowModel(GridInputMixin, MetaEstimatorMixin, BaseEstimator):
    """An estimator and a tabularizer as one model of gridded data.

    ``fit(data)`` cuts the labelled table and fits the estimator; ``predict(data)`` is
    :func:`xbatcher_tab.predict` (a map); ``score(data)`` scores the labelled samples.
    Parameters of both are reachable as ``tab__input_dims``,
    ``estimator__alpha`` and so on, so ``GridSearchCV`` can tune the window: give it
    the data as :class:`xbatcher_tab.model_selection.WindowData` and
    :class:`~xbatcher_tab.model_selection.WindowBlockSplit` as ``cv``.

    Parameters
    ----------
    estimator : estimator
        Fitted on the table's rows.
    tab : WindowTabularizer
        With a ``target``; cloned and fitted on the data in ``fit``. The model comes
        first, the tabularizer second, as in ``xt.predict(model, tab, data)`` and
        ``xt.fit_batches(model, tab, data)``; the older order
        ``WindowModel(tab, estimator)`` still works until 0.3.0, with a
        ``FutureWarning``.
    tabularizer : WindowTabularizer, deprecated
        The old name of ``tab`` (the name every other function uses), accepted with a
        ``FutureWarning`` until 0.3.0.

    Attributes
    ----------
    tab_, estimator_ : the fitted clones.

    Examples
    --------
    >>> import xbatcher_tab as xt
    >>> from sklearn.linear_model import Ridge
    >>> ds = xt.datasets.tasmax(time=12, lat=6, lon=8)
    >>> model = xt.WindowModel(
    ...     Ridge(alpha=1.0),
    ...     xt.WindowTabularizer(input_dims={"lat": 3, "lon": 3, "time": 2},
    ...                          input_overlap={"lat": 2, "lon": 2, "time": 1},
    ...                          target=xt.Target("tasmax", lead={"time": 1})),
    ... ).fit(ds)
    >>> model.predict(ds).dims, round(model.score(ds), 2) > 0.5
    (('time', 'lat', 'lon'), True)
    """

    def __init__(
        self,
        estimator: Any = None,
        tab: WindowTabularizer | None = None,
        *,
        tabularizer: WindowTabularizer | str = "deprecated",
    ) -> None:
        self.estimator = estimator
        self.tab = tab
        self.tabularizer = tabularizer

    def _given(self) -> tuple[Any, WindowTabularizer]:
        """The estimator and the tabularizer as given: the older order (the tabularizer
        first) and the deprecated ``tabularizer`` with a FutureWarning."""
        estimator, tab = self.estimator, self.tab
        if self._swapped():
            warn_deprecated(
                "WindowModel(tab, estimator), the tabularizer first,",
                "WindowModel(estimator, tab), the model first as in xt.predict(model, tab, data)",
                stacklevel=4,
            )
            estimator, tab = tab, estimator
        if not (isinstance(self.tabularizer, str) and self.tabularizer == "deprecated"):
            warn_deprecated(
                "WindowModel(tabularizer=...)",
                "WindowModel(estimator, tab=...) (and tab__... in parameter grids)",
                stacklevel=4,
            )
            if tab is not None:
                raise TypeError("WindowModel takes tab or the deprecated tabularizer, not both")
            tab = self.tabularizer
        if not isinstance(tab, WindowTabularizer):
            raise TypeError(
                "WindowModel needs the estimator, then tab, a WindowTabularizer with a "
                f"target; got tab={type(tab).__name__}"
            )
        return estimator, tab

    def _swapped(self) -> bool:
        """Whether the parts were given in the older order (the tabularizer first)."""
        return isinstance(self.estimator, WindowTabularizer) and not isinstance(
            self.tab, WindowTabularizer
        )

    def set_params(self, **params: Any) -> WindowModel:
        """scikit-learn's ``set_params``. Given in the older order
        (``WindowModel(tab, estimator)``), ``tab__...`` still reaches the tabularizer and
        ``estimator__...`` the estimator (so parameter grids keep working until 0.3.0)."""
        if self._swapped():
            swap = {"tab": "estimator", "estimator": "tab"}
            params = {
                (swap[k.partition("__")[0]] + k[len(k.partition("__")[0]) :])
                if k.partition("__")[0] in swap
                else k: v
                for k, v in params.items()
            }
        tabularizer_given = not (
            isinstance(self.tabularizer, str) and self.tabularizer == "deprecated"
        )
        if not tabularizer_given and any(k.startswith("tabularizer__") for k in params):
            raise ValueError(
                "tabularizer__... parameters need the deprecated WindowModel(tabularizer=...);"
                " the tabularizer is tab: write tab__..."
            )
        return super().set_params(**params)

    @property
    def tabularizer_(self) -> WindowTabularizer:
        """Deprecated: the fitted tabularizer is ``tab_``."""
        warn_deprecated("WindowModel.tabularizer_", "WindowModel.tab_", stacklevel=3)
        return self.tab_

    def fit(self, X: object, y: object = None, **fit_params: Any) -> WindowModel:
        """Fit the tabularizer and the estimator on the labelled table of ``X``.

        ``X`` is a Dataset/DataArray or a ``WindowData`` selection (whose pieces are
        tabularized one by one, so no window joins steps across a gap); ``y`` is
        ignored (the labels come from the data).
        """
        pieces = data_pieces(X)
        largest = max(range(len(pieces)), key=lambda k: math.prod(pieces[k].sizes.values()))
        estimator, tab = self._given()
        tab = clone(tab)  # the layout from the largest piece, the values from all
        for k in [largest, *(k for k in range(len(pieces)) if k != largest)]:
            tab.partial_fit(pieces[k])
        tab = fitted_with_target(tab, pieces[largest], "WindowModel")
        X_all, y_all, w_all = labelled_rows(tab, pieces)
        self.tab_ = tab
        if w_all is not None:  # the tabularizer's weight, unless the caller gives one
            # a Pipeline takes it for its last step, by the step's name
            key = "sample_weight"
            if isinstance(estimator, Pipeline):
                key = f"{estimator.steps[-1][0]}__sample_weight"
            fit_params = {key: w_all, **fit_params}
        self.estimator_ = clone(estimator).fit(X_all, y_all, **fit_params)
        return self

    def predict(self, X: object) -> xr.DataArray:
        """The map of predictions (see :func:`xbatcher_tab.predict`); for a
        ``WindowData`` selection, its pieces' maps joined along its dim (each piece's
        own steps, the last piece's forecasts past its end)."""
        check_is_fitted(self, "estimator_")
        if isinstance(X, xr.Dataset | xr.DataArray):
            return predict(self.estimator_, self.tab_, X)
        pieces = data_pieces(X)
        # forecasts of a piece would land in the gap after it (or on the next piece):
        # only the last piece forecasts past its end, so the map's steps are unique
        maps = [
            predict(self.estimator_, self.tab_, p, forecast=None if last else False)
            for last, p in zip([False] * (len(pieces) - 1) + [True], pieces, strict=True)
        ]
        return xr.concat(maps, dim=X.dim)

    def score(self, X: object, y: object = None) -> float:
        """The estimator's score (R² for regressors, accuracy for classifiers) on the
        labelled samples of ``X``, weighted by the tabularizer's ``weight`` if any."""
        check_is_fitted(self, "estimator_")
        return labelled_score(self.estimator_, self.tab_, X)
