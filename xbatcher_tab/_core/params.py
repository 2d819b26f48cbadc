"""Parameter rules declared as data, checked in one place.

Each public function and estimator declares its parameters' rules as a dict (the way
scikit-learn's ``_parameter_constraints`` does): ``{"batch_size": Integer(1), ...}``.
:func:`validate` checks given values against such a table, :func:`validate_params`
does it for a function's arguments before it runs. A wrong *type* is a ``TypeError``, a
wrong *value* a ``ValueError``, and every message names the parameter, the value and
what is valid. Rules whose check needs the data (a window against the data's dims) are
declared as :class:`Checked`: listed here, checked by the function that has the data.

Examples
--------
>>> rules = {"batch_size": Integer(1), "method": Options("predict", "predict_proba")}
>>> validate("predict", rules, {"batch_size": 4, "method": "predict"})
{'batch_size': 4, 'method': 'predict'}
>>> validate("predict", rules, {"method": 1})
Traceback (most recent call last):
...
TypeError: method must be 'predict' or 'predict_proba', got 1 (int)
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from typing import Any

from .checks import (
    check_bool,
    check_choice,
    check_int,
    check_n_jobs,
    check_random_state,
    describe,
)

__all__ = [
    "Boolean",
    "Checked",
    "Function",
    "Instance",
    "Integer",
    "Jobs",
    "Options",
    "Rule",
    "Seed",
    "validate",
    "validate_params",
]


class Rule:
    """A rule for one parameter: :meth:`check` gives the value to use or raises."""

    valid: str = ""

    def check(self, name: str, value: object) -> object:  # pragma: no cover - abstract
        raise NotImplementedError


class Integer(Rule):
    """An integer (numpy integers too, bools not) ``>= minimum``."""

    def __init__(self, minimum: int | None = None, valid: str | None = None) -> None:
        self.minimum, self.valid = minimum, valid or ""

    def check(self, name: str, value: object) -> int:
        return check_int(name, value, self.minimum, self.valid or None)


class Boolean(Rule):
    """True or False (numpy bools too)."""

    valid = "True or False"

    def check(self, name: str, value: object) -> bool:
        return check_bool(name, value)


class Options(Rule):
    """One of some values, compared by type and value: a value of none of their types
    is a TypeError, one of their types but not among them a ValueError."""

    def __init__(self, *choices: object) -> None:
        self.choices = choices

    def check(self, name: str, value: object) -> object:
        return check_choice(name, value, self.choices)


class Instance(Rule):
    """An instance of ``types`` (``valid`` says what, for messages); None too if
    ``none``."""

    def __init__(self, types: type | tuple, valid: str, none: bool = False) -> None:
        self.types, self.valid, self.none = types, valid, none

    def check(self, name: str, value: object) -> object:
        if (value is None and self.none) or isinstance(value, self.types):
            return value
        raise TypeError(f"{name} must be {self.valid}, got {describe(value)}")


class Function(Rule):
    """A callable (``valid`` says which, for messages), or None if ``none``."""

    def __init__(self, valid: str, none: bool = True) -> None:
        self.valid, self.none = valid, none

    def check(self, name: str, value: object) -> object:
        if (value is None and self.none) or callable(value):
            return value
        raise TypeError(f"{name} must be {self.valid}, got {describe(value)}")


class Seed(Rule):
    """``random_state``: None, an integer >= 0, a numpy Generator or SeedSequence."""

    valid = "None, an integer >= 0 or a numpy Generator"

    def check(self, name: str, value: object) -> object:
        return check_random_state(name, value)


class Jobs(Rule):
    """``n_jobs`` with scikit-learn's meaning (None 1, -1 every core); gives threads."""

    valid = "None, a positive integer or a negative one"

    def check(self, name: str, value: object) -> int:
        return check_n_jobs(value)


class Checked(Rule):
    """A rule checked where the data is known, by the function named in ``by`` (a
    window against the data's dims, a variable against its variables): the value
    passes here unchanged."""

    def __init__(self, by: str) -> None:
        self.by = by

    def check(self, name: str, value: object) -> object:
        return value


def validate(
    caller: str, rules: Mapping[str, Rule], values: Mapping[str, object]
) -> dict[str, object]:
    """``values`` checked against ``rules`` (every value needs a rule), as the values to
    use (numpy integers as ``int``, ``n_jobs`` as threads, ...)."""
    unknown = [name for name in values if name not in rules]
    if unknown:
        raise TypeError(
            f"{caller} got an unknown parameter {unknown[0]!r}; its parameters are "
            f"{', '.join(rules)}"
        )
    return {name: rules[name].check(name, value) for name, value in values.items()}


def validate_params(rules: Mapping[str, Rule]) -> Callable:
    """A decorator checking a function's arguments against ``rules`` before it runs
    (arguments without a rule, such as the data, are the function's to check).

    Examples
    --------
    >>> @validate_params({"n": Integer(1)})
    ... def head(data, *, n=5):
    ...     return data[:n]
    >>> head([1, 2, 3], n=2)
    [1, 2]
    >>> head([1, 2, 3], n=0)
    Traceback (most recent call last):
    ...
    ValueError: n must be a positive integer, got 0
    """

    def decorate(func: Callable) -> Callable:
        signature = inspect.signature(func)
        missing = [name for name in rules if name not in signature.parameters]
        if missing:
            raise TypeError(f"rules for parameters {func.__name__} does not have: {missing}")

        caller = func.__qualname__.removesuffix(".__init__")
        options = [n for n, p in signature.parameters.items() if p.kind is p.KEYWORD_ONLY]

        @functools.wraps(func)
        def checked(*args: Any, **kwargs: Any) -> Any:
            try:
                bound = signature.bind(*args, **kwargs)
            except TypeError as err:  # name the function, and say how to pass options
                hint = ""
                if "positional" in str(err) and options:
                    given = ", ".join(f"{n}=..." for n in options[:4])
                    hint = f"; its options are keyword-only: {given}"
                raise TypeError(f"{caller}: {err}{hint}") from None
            for name, rule in rules.items():
                if name in bound.arguments:
                    bound.arguments[name] = rule.check(name, bound.arguments[name])
            return func(*bound.args, **bound.kwargs)

        checked.__parameter_rules__ = dict(rules)  # type: ignore[attr-defined]
        return checked

    return decorate
