"""``fit_batches``: train scikit-learn estimators batch by batch on a window table.

(``partial_fit``, its former name, is deprecated: ``tab.partial_fit`` is the
tabularizer's own, learning its layout from one more piece of data.)
"""

from __future__ import annotations

import inspect
from typing import Any

import xarray as xr

from ._core.batch_options import BatchOptions, with_batch_options
from ._core.deprecation import warn_deprecated
from ._core.params import Boolean, Integer, validate_params
from ._core.seeds import drawn_seed
from ._table.epochs import batches_per_rank
from ._table.progress import progress_bar
from ._table.sampling import sample_size
from ._table.slabs import SlabSource
from .tabularizer import check_model_first, fitted_with_target

__all__ = ["fit_batches"]


def _steps(estimator) -> list:
    from sklearn.pipeline import Pipeline

    if isinstance(estimator, Pipeline):
        steps = [step for _, step in estimator.steps if step not in (None, "passthrough")]
    else:
        steps = [estimator]
    for step in steps:
        if not hasattr(step, "partial_fit"):
            raise TypeError(
                f"{type(step).__name__} has no partial_fit; every step of the estimator "
                "must support partial_fit (e.g. StandardScaler, SGDRegressor, MiniBatchKMeans)"
            )
    return steps


@with_batch_options(4)
@validate_params({"epochs": Integer(1), "progress": Boolean()})
def fit_batches(
    estimator,
    tab,
    data: xr.Dataset | xr.DataArray,
    *,
    epochs: int = 1,
    progress: bool = False,
    **kwargs: Any,
):
    """Train ``estimator`` on the window table of ``data``, one batch at a time.

    Parameters
    ----------
    estimator : estimator or sklearn Pipeline
        Every step must have ``partial_fit``. A Pipeline's steps are trained in turn:
        each earlier step (a transformer such as ``StandardScaler``) on one full pass
        of the table as the steps before it transform it, then the last step for
        ``epochs`` passes. (scikit-learn's Pipeline has no ``partial_fit`` of its own.)
    tab : WindowTabularizer
        Fitted, or fitted here on ``data``; it needs a ``target``.
    data : Dataset or DataArray
        numpy- or dask-backed; batches are gathered as they are used.
    epochs : int
        Passes over the table for the last step.
    progress : bool
        Show a tqdm bar per pass (if tqdm is installed).
    {batch_options}
    **kwargs
        The batch options above, with two defaults of their own here: ``shuffle`` is
        True and ``prefetch`` 1 (the next batch is gathered while the estimator
        trains). ``random_state`` seeds every epoch: epoch ``e`` of the last step has
        the order of the torch and Keras loaders' epoch ``e`` (epoch 0: the order of
        ``iter_batches`` with that ``random_state``), so the batches of a run repeat
        exactly and each epoch has its own order (the estimator's own randomness, such
        as ``SGDRegressor``'s, needs its own ``random_state`` for the whole run to
        repeat). ``start=k`` resumes an interrupted run after its last step's first
        ``k`` batches, counted over the epochs (``k`` past an epoch's batches resumes
        in a later epoch, in that epoch's order); a Pipeline's earlier steps are then
        trained already and are not passed over again. Any other keyword is passed to
        the last step's ``partial_fit`` (e.g. ``classes=`` for classifiers). With the
        tabularizer's ``weight``, each batch's weights go to every step whose
        ``partial_fit`` takes ``sample_weight`` (the last step must).

    The estimator is trained further, not anew: calling ``fit_batches`` again on the
    same estimator goes on from where it stopped (``partial_fit``'s meaning); pass a
    fresh estimator (``sklearn.base.clone``) to start over.

    Returns
    -------
    The estimator, trained.

    Examples
    --------
    >>> import xbatcher_tab as xt
    >>> from sklearn.linear_model import SGDRegressor
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> ds = xt.datasets.tasmax(time=10, lat=12, lon=16)
    >>> tab = xt.WindowTabularizer(input_dims={{"lat": 3, "lon": 3, "time": 3}},
    ...                            input_overlap={{"lat": 2, "lon": 2, "time": 2}},
    ...                            target=xt.Target("tasmax", lead={{"time": 1}}))
    >>> model = xt.fit_batches(make_pipeline(StandardScaler(), SGDRegressor(random_state=0)),
    ...                        tab, ds, batch_size=512, epochs=2, random_state=0)
    >>> model.predict(tab.transform(ds)).shape
    (980,)
    """
    batch_kwargs = {k: v for k, v in kwargs.items() if k in BatchOptions.names()}
    fit_kwargs = {k: v for k, v in kwargs.items() if k not in batch_kwargs}
    options = BatchOptions.from_kwargs("fit_batches", batch_kwargs, shuffle=True, prefetch=1)
    check_model_first(estimator, tab, "xt.fit_batches")
    tab = fitted_with_target(tab, data, "fit_batches")
    steps = _steps(estimator)
    weighted = tab.layout_.weight is not None
    if weighted and not _takes_weights(steps[-1]):
        raise TypeError(
            f"{type(steps[-1]).__name__}.partial_fit takes no sample_weight, but the "
            "tabularizer has a weight"
        )
    seed = drawn_seed(options.random_state, options.random)
    total = None if tab.get_layout().selects else tab.count_samples(data)
    if total is not None and options.sample is not None:
        total = sample_size(options.sample, total)

    def passes(n_fitted, epoch, start, desc):
        """Epoch ``epoch``'s batches from batch ``start`` on, transformed by the first
        ``n_fitted`` (fitted) steps."""
        bar = progress_bar(progress, total, desc)
        try:
            pass_options = options.replace(
                random_state=seed, epoch=options.epoch + epoch, start=start
            )
            batches = tab.iter_batches(data, **pass_options.as_kwargs())
            for k, batch in enumerate(batches, start=start + 1):
                X = batch.X
                for fitted in steps[:n_fitted]:
                    X = fitted.transform(X)
                yield X, batch.y, (tab.sample_weight(batch.coords) if weighted else None)
                if bar is not None:
                    bar.update(len(batch.y))
                    bar.set_postfix(batches=k, refresh=False)
        finally:
            if bar is not None:
                bar.close()

    def weights(step, w) -> dict:
        return {"sample_weight": w} if w is not None and _takes_weights(step) else {}

    last = len(steps) - 1
    first_epoch, start = 0, options.start
    if start:  # a run resumed: where it stopped, its earlier steps trained already
        _check_trained(steps[:-1])
        per_epoch = _batches_per_epoch(tab, data, options)
        first_epoch, start = divmod(start, per_epoch) if per_epoch else (epochs, 0)
        if first_epoch >= epochs:
            raise ValueError(
                f"start={options.start} is past the run's last batch: {epochs} epoch(s) of "
                f"{per_epoch} batches"
            )
    else:
        for i, step in enumerate(steps[:-1]):
            for X, y, w in passes(i, 0, 0, f"step {i + 1}/{len(steps)}"):
                step.partial_fit(X, y, **weights(step, w))
    for epoch in range(first_epoch, epochs):
        skip = start if epoch == first_epoch else 0
        for X, y, w in passes(last, epoch, skip, f"epoch {epoch + 1}/{epochs}"):
            steps[-1].partial_fit(X, y, **weights(steps[-1], w), **fit_kwargs)
    return estimator


def _check_trained(steps: list) -> None:
    """A resumed run's earlier Pipeline steps must be trained (they are not passed
    over again)."""
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    for step in steps:
        try:
            check_is_fitted(step)
        except NotFittedError:
            raise ValueError(
                f"start resumes a run after its last step's first batches, but the "
                f"Pipeline's {type(step).__name__} is not trained: resume with the "
                "estimator the interrupted run trained, or start=0"
            ) from None


def _batches_per_epoch(tab, data, options: BatchOptions) -> int:
    """The batches of one epoch (under dropna or where, counting the samples kept)."""
    return batches_per_rank(int(SlabSource(tab.get_layout(), data).counts().sum()), options)


def _takes_weights(step) -> bool:
    """Whether a step's ``partial_fit`` takes ``sample_weight``."""
    return "sample_weight" in inspect.signature(step.partial_fit).parameters


def partial_fit(estimator, tab, data: xr.Dataset | xr.DataArray, **kwargs: Any):
    """Deprecated name of :func:`fit_batches` (removed in 0.3.0)."""
    warn_deprecated("xt.partial_fit(estimator, tab, data)", "xt.fit_batches(estimator, tab, data)")
    return fit_batches(estimator, tab, data, **kwargs)
