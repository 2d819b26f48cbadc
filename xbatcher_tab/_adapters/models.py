"""Models as functions of feature rows: what ``xt.predict`` calls, whatever the model.

A :class:`Predictor` wraps a fitted scikit-learn estimator or Pipeline, an xgboost
model or ``Booster``, a LightGBM model, a ``torch.nn.Module`` or a Keras model, checks
that it takes the tabularizer's features, gives it the rows in the form it was trained
on (a DataFrame with the feature names, a DMatrix-free booster call, tensors shaped as
windows) and returns one prediction per row as a numpy array.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["Predictor", "check_model", "is_keras_model", "is_torch_module"]


def is_torch_module(model: object) -> bool:
    """Whether ``model`` is a ``torch.nn.Module`` (without importing torch)."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(model, torch.nn.Module)


def is_keras_model(model: object) -> bool:
    """Whether ``model`` is a Keras model (without importing keras)."""
    keras = sys.modules.get("keras")
    return keras is not None and isinstance(model, keras.Model)


def _is_booster(model: object) -> bool:
    return type(model).__module__.startswith("xgboost") and type(model).__name__ == "Booster"


@dataclass
class Predictor:
    """``model`` as a function of feature rows, named for it when it wants names.

    An ``xgboost.Booster`` predicts with ``inplace_predict`` after its feature names are
    checked against the layout's; an estimator fitted on a DataFrame
    (``feature_names_in_``) gets a DataFrame with the layout's feature names; a torch
    module is called in eval mode without gradients, and a Keras model batch by batch,
    on the rows as ``shape`` makes them (``shape(X)``: windows, or ``(windows,
    extras)`` passed as two inputs); a single output column is one value per row.
    """

    model: Any
    method: str
    names: list[str]
    shape: Callable | None = None

    def __post_init__(self) -> None:
        check_model(self.model, self.method, self.names)

    def __call__(self, X: np.ndarray) -> np.ndarray:
        inputs = X if self.shape is None else self.shape(X)
        if is_keras_model(self.model):  # first: under the torch backend it is a Module too
            out = np.asarray(self.model.predict_on_batch(inputs))
        elif is_torch_module(self.model):
            out = _torch_predict(self.model, inputs)
        elif _is_booster(self.model):
            out = np.asarray(self.model.inplace_predict(X))
        else:
            rows = X
            if getattr(self.model, "feature_names_in_", None) is not None:
                rows = pd.DataFrame(X, columns=self.names, copy=False)
            elif self.shape is not None:
                rows = inputs
            out = np.asarray(getattr(self.model, self.method)(rows))
        if out.ndim == 2 and out.shape[1] == 1 and self.method == "predict":
            out = out[:, 0]  # one output per sample
        if out.ndim == 0 or len(out) != len(X):
            raise ValueError(
                f"the model's {self.method} gave {out.shape[0] if out.ndim else 'a scalar'} "
                f"values for {len(X)} rows: it must give one per row"
            )
        return out


def check_model(model: Any, method: str, names: list[str]) -> None:
    """``model`` can give ``method`` of rows with the features ``names`` (the names it
    was trained on, when it knows them)."""
    if _is_booster(model):
        if method != "predict":
            raise ValueError(
                "an xgboost Booster predicts its objective's output: use "
                f"method='predict', got method={method!r}"
            )
        trained = model.feature_names
        if trained is not None and list(trained) != names:
            raise ValueError(
                "the booster was trained on other features than the tabularizer gives: "
                f"{_first_difference(list(trained), names)}"
            )
    elif is_torch_module(model) or is_keras_model(model):
        if method != "predict":
            raise ValueError(
                f"a torch module or Keras model gives its outputs: use method='predict', got "
                f"method={method!r}"
            )
    elif not callable(getattr(model, method, None)):
        raise TypeError(
            f"model must have a {method} method (a fitted scikit-learn estimator or "
            f"Pipeline, an xgboost model) or be a torch module or a Keras model, got "
            f"{type(model).__name__}"
        )
    else:
        trained = getattr(model, "feature_names_in_", None)
        if trained is not None and list(map(str, trained)) != names:
            raise ValueError(
                "the model was fitted on other features than the tabularizer gives: "
                f"{_first_difference(list(map(str, trained)), names)}"
            )


def _first_difference(trained: list, names: list) -> str:
    if len(trained) != len(names):
        return f"{len(trained)} features at training, {len(names)} now"
    i = next(i for i, (a, b) in enumerate(zip(trained, names, strict=True)) if a != b)
    return f"feature {i} was {trained[i]!r} at training and is {names[i]!r} now"


def _torch_predict(module, inputs) -> np.ndarray:
    """``module`` applied to numpy ``inputs`` (an array, or a tuple passed as several
    arguments) in eval mode without gradients, on the module's device."""
    import torch

    params = next(module.parameters(), None)
    device = params.device if params is not None else torch.device("cpu")
    parts = inputs if isinstance(inputs, tuple) else (inputs,)
    tensors = [torch.as_tensor(np.ascontiguousarray(p), device=device) for p in parts]
    if params is not None and params.is_floating_point():  # the rows in the module's dtype
        tensors = [t.to(params.dtype) if t.is_floating_point() else t for t in tensors]
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            out = module(*tensors)
    finally:
        module.train(was_training)
    return out.detach().cpu().numpy()
