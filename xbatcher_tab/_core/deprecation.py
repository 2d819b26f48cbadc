"""Deprecations, each warned once per call with the release that removes it.

The API speaks one grammar: the model, then the tabularizer, then the data, positional;
options keyword-only; ``random_state`` for every seed; ``progress`` for every bar.
Calls in the older forms keep working until :data:`REMOVED`, with a ``FutureWarning``
that says what to write instead.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["DEPRECATED", "REMOVED", "keyword_only", "renamed", "warn_deprecated"]

DEPRECATED = "0.2.0"  # the release that deprecates what this module warns about
REMOVED = "0.3.0"  # the release that removes it


def warn_deprecated(what: str, instead: str, stacklevel: int = 3) -> None:
    """A ``FutureWarning``: ``what`` is deprecated, write ``instead``.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as w:
    ...     warnings.simplefilter("always")
    ...     warn_deprecated("f(seed=)", "f(random_state=)")
    >>> print(w[0].message)  # doctest: +NORMALIZE_WHITESPACE
    f(seed=) is deprecated since xbatcher-tab 0.2.0 and will be removed in 0.3.0:
    write f(random_state=)
    """
    warnings.warn(
        f"{what} is deprecated since xbatcher-tab {DEPRECATED} and will be removed in "
        f"{REMOVED}: write {instead}",
        FutureWarning,
        stacklevel=stacklevel,
    )


def keyword_only(positional: int, old_order: Sequence[str]) -> Callable:
    """A decorator for a function whose options became keyword-only after its first
    ``positional`` parameters: a call that still passes them by position (in
    ``old_order``) works, with a FutureWarning naming them.

    Examples
    --------
    >>> import warnings
    >>> @keyword_only(1, ["n"])
    ... def head(data, *, n=5):
    ...     return data[:n]
    >>> with warnings.catch_warnings(record=True) as w:
    ...     warnings.simplefilter("always")
    ...     head([1, 2, 3], 2)
    [1, 2]
    >>> "head(..., n=...)" in str(w[0].message)
    True
    """

    def decorate(func: Callable) -> Callable:
        caller = func.__qualname__.removesuffix(".__init__")

        @functools.wraps(func)
        def call(*args: Any, **kwargs: Any) -> Any:
            if len(args) > positional:
                extra = args[positional:]
                if len(extra) > len(old_order):
                    raise TypeError(
                        f"{caller} takes {positional} positional arguments "
                        f"but {len(args)} were given"
                    )
                names = list(old_order[: len(extra)])
                clash = [n for n in names if n in kwargs]
                if clash:
                    raise TypeError(f"{caller} got multiple values for {clash[0]!r}")
                given = ", ".join(f"{n}=..." for n in names)
                warn_deprecated(
                    f"passing {', '.join(names)} to {caller} by position",
                    f"{caller}(..., {given})",
                )
                kwargs.update(zip(names, extra, strict=True))
                args = args[:positional]
            return func(*args, **kwargs)

        return call

    return decorate


def renamed(old: str, new: str, caller: str, kwargs: dict, stacklevel: int = 4) -> None:
    """Move ``kwargs[old]`` to ``kwargs[new]`` with a FutureWarning (an error if both
    are given); ``stacklevel`` points the warning at the caller's line."""
    if old not in kwargs:
        return
    if new in kwargs:
        raise TypeError(f"{caller} takes {new} (or the deprecated {old}), not both")
    warn_deprecated(f"{caller}({old}=...)", f"{caller}({new}=...)", stacklevel=stacklevel)
    kwargs[new] = kwargs.pop(old)
