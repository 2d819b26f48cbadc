"""The one argument checker: every generic check of a public argument.

A wrong type is a ``TypeError``, a wrong value a ``ValueError``, numpy integers and
bools are accepted everywhere, and the message names the argument, the value and what
is valid. Checks of one rule (a window's overlap, a boundary, ``where``) live beside
that rule and build on these.
"""

from __future__ import annotations

import numbers
import os
from collections.abc import Hashable, Mapping, Sequence

import numpy as np

__all__ = [
    "available_cores",
    "check_bool",
    "check_choice",
    "check_instance",
    "check_int",
    "check_int_mapping",
    "check_n_jobs",
    "check_random_state",
    "describe",
]


def describe(value: object) -> str:
    """``value`` with its type, for messages: ``2.5 (float)``."""
    return f"{value!r} ({type(value).__name__})"


def check_int(
    name: str, value: object, minimum: int | None = None, valid: str | None = None
) -> int:
    """``value`` as an ``int``: an integer (numpy integers too, bools not) ``>= minimum``.

    ``valid`` says what is valid in the messages (default from ``minimum``).

    Examples
    --------
    >>> check_int("batch_size", np.int64(4), minimum=1)
    4
    >>> check_int("batch_size", 2.5, minimum=1)
    Traceback (most recent call last):
    ...
    TypeError: batch_size must be a positive integer, got 2.5 (float)
    >>> check_int("start", -1, minimum=0, valid="a batch index >= 0")
    Traceback (most recent call last):
    ...
    ValueError: start must be a batch index >= 0, got -1
    """
    if valid is None:
        named = {None: "an integer", 1: "a positive integer"}
        valid = named.get(minimum, f"an integer >= {minimum}")
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be {valid}, got {describe(value)}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be {valid}, got {value!r}")
    return int(value)


def check_bool(name: str, value: object) -> bool:
    """``value`` as a ``bool`` (numpy bools too).

    Examples
    --------
    >>> check_bool("drop_last", 1)
    Traceback (most recent call last):
    ...
    TypeError: drop_last must be True or False, got 1 (int)
    """
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{name} must be True or False, got {describe(value)}")
    return bool(value)


def check_choice(name: str, value: object, choices: Sequence) -> object:
    """``value`` if it is one of ``choices`` (compared by type and value): a
    ``TypeError`` for a value of none of their types, else a ``ValueError``.

    Examples
    --------
    >>> check_choice("shuffle", "yes", (True, False, "full"))
    Traceback (most recent call last):
    ...
    ValueError: shuffle must be True, False or 'full', got 'yes'
    >>> check_choice("shuffle", 1.5, (True, False, "full"))
    Traceback (most recent call last):
    ...
    TypeError: shuffle must be True, False or 'full', got 1.5 (float)
    """

    def kind(x: object) -> type:  # numpy bools are bools; bools are not integers
        return bool if isinstance(x, bool | np.bool_) else type(x)

    for choice in choices:
        if isinstance(value, kind(choice)) or kind(value) is kind(choice):
            if kind(value) is bool and kind(choice) is not bool:
                continue
            if value == choice:
                return choice
    *head, last = [repr(c) for c in choices]
    text = f"{', '.join(head)} or {last}" if head else last
    valid_kinds = tuple({kind(c) for c in choices})
    if not (isinstance(value, valid_kinds) or kind(value) in valid_kinds):  # no valid type
        raise TypeError(f"{name} must be {text}, got {describe(value)}")
    if kind(value) is bool and bool not in valid_kinds:
        raise TypeError(f"{name} must be {text}, got {describe(value)}")
    raise ValueError(f"{name} must be {text}, got {value!r}")


def check_instance(name: str, value: object, types: type | tuple, valid: str) -> object:
    """``value`` if it is an instance of ``types``; else a ``TypeError`` saying what is
    ``valid``.

    Examples
    --------
    >>> check_instance("coords", [1], dict, "a coordinate frame (a DataFrame)")
    Traceback (most recent call last):
    ...
    TypeError: coords must be a coordinate frame (a DataFrame), got [1] (list)
    """
    if not isinstance(value, types):
        raise TypeError(f"{name} must be {valid}, got {describe(value)}")
    return value


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity where the OS tells it)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def check_n_jobs(value: object) -> int:
    """Threads for ``n_jobs`` with scikit-learn's meaning: None is 1, -1 every core,
    -2 all but one, and so on (at least 1).

    Examples
    --------
    >>> check_n_jobs(None), check_n_jobs(2), check_n_jobs(-1) == available_cores()
    (1, 2, True)
    >>> check_n_jobs(0)
    Traceback (most recent call last):
    ...
    ValueError: n_jobs must be None, a positive integer or a negative one (-1: every core), got 0
    """
    if value is None:
        return 1
    valid = "None, a positive integer or a negative one (-1: every core)"
    n = check_int("n_jobs", value, None, valid)
    if n == 0:
        raise ValueError(f"n_jobs must be {valid}, got 0")
    return n if n > 0 else max(1, available_cores() + 1 + n)


def check_random_state(name: str, value: object) -> object:
    """A seed: None, an integer >= 0, a numpy ``Generator`` or ``SeedSequence``."""
    if value is None or isinstance(value, np.random.Generator | np.random.SeedSequence):
        return value
    return check_int(name, value, 0, "None, an integer >= 0 or a numpy Generator")


def check_int_mapping(
    name: str, value: object, what: str, example: str, valid: Sequence, unknown: str
) -> list[tuple[Hashable, int]]:
    """Items of a ``{dim: integer}`` argument, checking its type, its dims and its ints.

    ``unknown`` ends the message for a dim not in ``valid``.
    """
    if value is None:
        return []
    if not isinstance(value, Mapping):
        raise TypeError(
            f"{name} must be a mapping of dimension name to {what} such as {example}, "
            f"got {describe(value)}"
        )
    items = []
    for dim, number in value.items():
        if dim not in valid:
            raise ValueError(f"{name} names dimension {dim!r}, {unknown}")
        items.append((dim, check_int(f"{name}[{dim!r}]", number)))
    return items
