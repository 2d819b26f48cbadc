"""What a row holds besides its window cells: the preprocessing options, checked.

Centering (``center``: each cell minus a reference, the anchor cell or the window's
mean), window summaries (``stats``) and the anchors' coordinates as features
(``coord_features``). The column plan that places them in a row lives in
:mod:`xbatcher_tab._layout`.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence

from ._checks import describe

__all__ = [
    "CALENDAR",
    "CENTERS",
    "PERIODS",
    "STATS",
    "check_center",
    "check_coord_features",
    "check_stats",
]

CENTERS = ("anchor", "mean")
STATS = ("mean", "std", "min", "max")
CALENDAR = ("year", "month", "day", "dayofyear", "dayofweek", "hour", "minute")
# periods of the fields that have one, for the cyclic (sin, cos) encoding
PERIODS = {"month": 12, "dayofweek": 7, "hour": 24, "minute": 60, "lon": 360.0, "longitude": 360.0}


def check_center(value: object, variables: Sequence[Hashable]) -> dict[Hashable, str | None]:
    """``center`` per feature variable: None, "anchor" or "mean" (a dict may name some).

    Examples
    --------
    >>> check_center("anchor", ["a", "b"])
    {'a': 'anchor', 'b': 'anchor'}
    >>> check_center({"b": "mean"}, ["a", "b"])
    {'a': None, 'b': 'mean'}
    """

    def one(name: str, option: object) -> str | None:
        if option is None:
            return None
        if option not in CENTERS:
            raise ValueError(f"{name} must be None, 'anchor' or 'mean', got {option!r}")
        return str(option)

    if isinstance(value, Mapping):
        unknown = [v for v in value if v not in variables]
        if unknown:
            raise ValueError(
                f"center names {unknown}, which are not feature variables; they are "
                f"{list(variables)}"
            )
        return {v: one(f"center[{v!r}]", value.get(v)) for v in variables}
    option = one("center", value)
    return dict.fromkeys(variables, option)


def check_stats(value: object) -> tuple[str, ...]:
    """``stats``: summaries of each variable's window, from :data:`STATS`."""
    if value is None:
        return ()
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise TypeError(f"stats must be a list such as ('mean', 'std'), got {describe(value)}")
    unknown = [v for v in value if v not in STATS]
    if unknown:
        raise ValueError(f"stats names {unknown}; valid summaries are {list(STATS)}")
    if len(set(value)) != len(value):
        raise ValueError(f"stats must not repeat a summary, got {list(value)}")
    return tuple(value)


def check_coord_features(
    value: object, dims: Sequence[Hashable], datetime_dims: Sequence[Hashable] | None = None
) -> tuple[tuple[str, str], ...]:
    """``coord_features``: ``(source, encoding)`` pairs from a list of sources (raw) or a
    dict source -> "raw" | "cyclic". A source is a dim (its coordinate) or
    ``dim.field`` with a calendar field of a datetime coordinate.

    Examples
    --------
    >>> check_coord_features(["lat", "time.hour"], ["time", "lat"])
    (('lat', 'raw'), ('time.hour', 'raw'))
    >>> check_coord_features({"time.month": "cyclic"}, ["time"])
    (('time.month', 'cyclic'),)
    """
    if value is None:
        return ()
    if isinstance(value, Mapping):
        items = list(value.items())
    elif isinstance(value, str) or not isinstance(value, Sequence):
        raise TypeError(
            f"coord_features must be a list such as ['lat', 'time.hour'] or a dict of them "
            f"to 'raw' or 'cyclic', got {describe(value)}"
        )
    else:
        items = [(v, "raw") for v in value]
    out = []
    for source, encoding in items:
        if not isinstance(source, str):
            raise TypeError(f"coord_features entries must be strings, got {describe(source)}")
        dim, _, field_ = source.partition(".")
        if dim not in dims:
            raise ValueError(
                f"coord_features names {source!r}, but {dim!r} is not a dim of the data; "
                f"its dims are {list(dims)}"
            )
        if field_ and field_ not in CALENDAR:
            raise ValueError(
                f"coord_features names {source!r}: {field_!r} is not a calendar field; "
                f"valid fields are {list(CALENDAR)}"
            )
        if field_ and datetime_dims is not None and dim not in datetime_dims:
            raise ValueError(
                f"coord_features names {source!r}, but {dim!r} has no datetime coordinate "
                "to take a calendar field from"
            )
        if encoding not in ("raw", "cyclic"):
            raise ValueError(
                f"coord_features[{source!r}] must be 'raw' or 'cyclic', got {encoding!r}"
            )
        if encoding == "cyclic" and (field_ or dim) not in PERIODS and field_ != "dayofyear":
            raise ValueError(
                f"coord_features[{source!r}] cannot be cyclic: only "
                f"{sorted([*PERIODS, 'dayofyear'])} have a period"
            )
        out.append((source, encoding))
    if len({s for s, _ in out}) != len(out):
        raise ValueError(f"coord_features must not repeat a source, got {[s for s, _ in out]}")
    return tuple(out)
