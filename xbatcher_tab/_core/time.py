"""Time labels of every calendar: numpy ``datetime64`` and ``cftime`` dates alike.

CMIP6 files come in the calendars of their models (``noleap``, ``360_day``, ...),
which xarray decodes to ``cftime`` objects; reanalyses come as ``datetime64`` of any
resolution. Everything the package does with time labels lives here, so that both
work the same way:

* what kind of labels a coordinate holds (:func:`label_kind`) and their calendar;
* the step between labels (:func:`regular_step`) or, for months and years, their
  frequency (:func:`infer_frequency`), and the labels after the last one
  (:func:`labels_after`), for forecasts past the data's end;
* fixed-unit numbers for features: days since :data:`EPOCH` in the labels' own
  calendar (:func:`days_since_epoch`), whatever the datetime64 resolution, and
  calendar fields (:func:`calendar_field`, :func:`days_in_year`).
"""

from __future__ import annotations

import datetime
import numbers
from collections.abc import Hashable

import numpy as np
import pandas as pd
import xarray as xr

__all__ = [
    "EPOCH",
    "calendar_field",
    "calendar_of",
    "check_step",
    "days_in_year",
    "days_since_epoch",
    "infer_frequency",
    "label_kind",
    "labels_after",
    "regular_step",
    "skipped_steps",
]

EPOCH = "1970-01-01"


def label_kind(values: np.ndarray) -> str:
    """``"numeric"``, ``"datetime"`` (datetime64), ``"cftime"`` or ``"other"``.

    Examples
    --------
    >>> label_kind(np.arange(3.0)), label_kind(np.array(["2000-01-01"], "datetime64[D]"))
    ('numeric', 'datetime')
    >>> label_kind(xr.date_range("2000", periods=2, calendar="noleap", use_cftime=True).values)
    'cftime'
    """
    values = np.asarray(values)
    if values.dtype.kind in "iuf":
        return "numeric"
    if values.dtype.kind == "M":
        return "datetime"
    if values.dtype.kind == "O" and values.size and _is_cftime(values.flat[0]):
        return "cftime"
    return "other"


def _is_cftime(value: object) -> bool:
    return type(value).__module__.startswith("cftime")


def calendar_of(values: np.ndarray) -> str | None:
    """The calendar of time labels (``"proleptic_gregorian"`` for datetime64), else
    None."""
    kind = label_kind(values)
    if kind == "cftime":
        return np.asarray(values).flat[0].calendar
    return "proleptic_gregorian" if kind == "datetime" else None


def regular_step(values: np.ndarray):
    """The constant step between consecutive labels (a number, a ``timedelta64`` or,
    for cftime, a ``datetime.timedelta``), or None if the steps differ or there are
    fewer than two labels or they cannot be subtracted."""
    values = np.asarray(values)
    kind = label_kind(values)
    if len(values) < 2 or kind == "other":
        return None
    steps = np.diff(values)
    step = steps[0]
    if kind == "numeric" and values.dtype.kind == "f":
        regular = np.allclose(steps, step, rtol=1e-9, atol=0)
    else:
        regular = all(s == step for s in steps) if kind == "cftime" else bool(np.all(steps == step))
    return step if regular else None


def infer_frequency(values: np.ndarray) -> str | None:
    """The calendar frequency of time labels (``"MS"``, ``"YS"``, ``"D"``, ...) when
    xarray can infer one (three labels or more on the frequency's dates), else None.
    """
    values = np.asarray(values)
    kind = label_kind(values)
    if kind not in ("datetime", "cftime") or len(values) < 3:
        return None
    index = xr.CFTimeIndex(values) if kind == "cftime" else pd.DatetimeIndex(values)
    try:
        return xr.infer_freq(index)
    except (TypeError, ValueError):
        return None


def skipped_steps(values: np.ndarray) -> list[tuple[object, object]]:
    """Where time labels that step regularly skip steps: ``(label, next label)`` at
    each gap (steps of days or hours; or months, quarters, years, by the calendar).
    Empty for a regular step, a calendar frequency, labels irregular in
    another way (no common step of which every step is a multiple), numbers (pressure
    levels and depths are irregular grids, not gappy ones), and steps that skip only
    29 February (a ``noleap`` calendar's days written as datetime64).

    Examples
    --------
    >>> days = np.array(["2000-01-01", "2000-01-02", "2000-01-04"], dtype="datetime64[D]")
    >>> [str(a) for a, _ in skipped_steps(days)]
    ['2000-01-02']
    >>> skipped_steps(np.array([0, 1, 2, 5, 6])), skipped_steps(days[:2])
    ([], [])
    >>> months = xr.date_range("2000-01-01", periods=5, freq="MS").delete(2).values
    >>> [str(a)[:10] for a, _ in skipped_steps(months)]
    ['2000-02-01']
    """
    values = np.asarray(values)
    kind = label_kind(values)
    if len(values) < 3 or kind not in ("datetime", "cftime") or regular_step(values) is not None:
        return []
    if infer_frequency(values) is not None:
        return []
    by_month = _month_gaps(values)
    if by_month is not None:
        return by_month
    steps = np.diff(values)
    if kind == "datetime":
        size = np.abs(steps / np.timedelta64(1, "ns")).astype(np.float64)
    elif kind == "cftime":
        size = np.abs(np.array([d.total_seconds() for d in steps], dtype=np.float64))
    else:
        size = np.abs(steps.astype(np.float64))
    base = float(size.min())
    if not base > 0:
        return []
    ratio = size / base
    whole = np.round(ratio)
    if not np.allclose(ratio, whole, rtol=0, atol=1e-6) or (whole == 1).sum() < (whole > 1).sum():
        return []  # no common step: irregular, not gappy
    gaps = []
    for i in np.flatnonzero(whole > 1):
        a, b = values[i], values[i + 1]
        missing = [a + (b - a) * k / int(whole[i]) for k in range(1, int(whole[i]))]
        if kind == "datetime" and all(_is_leap_day(m) for m in missing):
            continue  # a noleap calendar's days as datetime64: nothing is missing
        gaps.append((a, b))
    return gaps


def _month_gaps(values: np.ndarray) -> list[tuple[object, object]] | None:
    """The gaps of labels one per month, quarter or year (stamped at the start, middle
    or end of each, so at about the same day: days differ by 3 at most), counted in
    months; None for labels that are not so (days, hours, steps of no whole months)."""
    year, month, day = (calendar_field(values, f) for f in ("year", "month", "day"))
    months = np.diff(year * 12 + month)
    step = months.min()
    if not step >= 1 or day.max() - day.min() > 3 or np.any(months % step):
        return None
    if _seasonal(year, month, int(step)):
        return []

    return [(values[i], values[i + 1]) for i in np.flatnonzero(months > step)]


def _seasonal(year: np.ndarray, month: np.ndarray, step: int) -> bool:
    """Whether labels ``step`` months apart that skip some each year skip the same
    months every year (a wet and a dry season: 1 June and 1 October): a sampling, not
    gaps. The years between the first and the last hold the same months, fewer than a
    year of steps, and the first and last years some of them."""
    if 12 % step or step == 12:
        return False
    by_year: dict = {}
    for y, m in zip(year.tolist(), month.tolist(), strict=True):
        by_year.setdefault(y, set()).add(m)
    sets = list(by_year.values())
    inner = sets[1:-1] if len(sets) > 2 else sets
    every = inner[0]
    return (
        len(sets) >= 2
        and len(every) < 12 // step
        and all(s == every for s in inner)
        and sets[0] <= every
        and sets[-1] <= every
    )


def _is_leap_day(label: object) -> bool:
    stamp = pd.Timestamp(label)
    return stamp.month == 2 and stamp.day == 29


def check_step(name: str, values: np.ndarray, step: object) -> object:
    """``step``, to label cells past the end of time or numeric labels ``values``,
    checked and put in the labels' terms: a positive number for numeric labels; a
    positive time delta (``np.timedelta64``, ``pd.Timedelta``, ``datetime.timedelta``)
    or frequency string (``"D"``, ``"6h"``, ``"MS"``) for time labels. ``name``: the
    argument, for the error.

    Examples
    --------
    >>> days = np.array(["2000-01-01", "2000-01-02"], dtype="datetime64[D]")
    >>> check_step("forecast_step", days, datetime.timedelta(days=1))
    np.timedelta64(86400000000,'us')
    >>> check_step("forecast_step", days, "-1D")
    Traceback (most recent call last):
    ...
    ValueError: forecast_step must step forward, got '-1D'
    """
    kind = label_kind(values)
    if np.asarray(values).dtype.kind == "m":  # lead times (cfgrib's step): deltas
        if isinstance(step, bool) or not isinstance(step, np.timedelta64 | datetime.timedelta):
            raise TypeError(
                f"{name} steps lead times (timedelta labels): give a time delta such as "
                f"np.timedelta64(6, 'h'), got {step!r}"
            )
        return _forward(name, step, cftime=False)
    time = kind in ("datetime", "cftime")
    if isinstance(step, str):
        if not time:
            raise TypeError(
                f"{name}: a frequency such as {step!r} steps time labels, not {kind} ones"
            )
        try:
            offset = pd.tseries.frequencies.to_offset(step)
        except ValueError:
            raise ValueError(
                f"{name} must be a frequency such as 'D', '6h' or 'MS', got {step!r}"
            ) from None
        if offset.n <= 0:
            raise ValueError(f"{name} must step forward, got {step!r}")
        return step
    if isinstance(step, bool) or not isinstance(
        step, numbers.Real | np.timedelta64 | datetime.timedelta
    ):
        raise TypeError(
            f"{name} must be a number, a time delta or a frequency string, got "
            f"{type(step).__name__} {step!r}"
        )
    is_delta = isinstance(step, np.timedelta64 | datetime.timedelta)  # pd.Timedelta too
    if time and not is_delta:
        raise TypeError(
            f"{name} steps time labels: give a time delta such as np.timedelta64(1, 'D') or "
            f"a frequency such as 'D' or 'MS', got {step!r}"
        )
    if not time and is_delta:
        raise TypeError(f"{name} {step!r} is a time delta; the labels are {kind}: give a number")
    if is_delta:
        return _forward(name, step, cftime=kind == "cftime")
    if not step > 0:
        raise ValueError(f"{name} must be a number > 0, got {step!r}")
    return step


def _forward(name: str, step: object, cftime: bool) -> object:
    """A time delta ``step``, checked to step forward, as cftime (``datetime.timedelta``)
    or numpy (``np.timedelta64``) labels add it."""
    delta = pd.Timedelta(step)
    if delta <= pd.Timedelta(0):
        raise ValueError(f"{name} must step forward, got {step!r}")
    return delta.to_pytimedelta() if cftime else delta.to_timedelta64()


def labels_after(values: np.ndarray, count: int, step: object) -> np.ndarray:
    """The ``count`` labels after the last of ``values``, ``step`` apart.

    ``step`` is a number or a time delta (added ``k`` times), or a frequency string
    (``"MS"``, ``"D"``, ``"6h"``: the next ``count`` dates on that frequency after the
    last label, in the labels' calendar).

    Examples
    --------
    >>> days = xr.date_range("2001-02-27", periods=2, calendar="noleap", use_cftime=True)
    >>> [str(d)[:10] for d in labels_after(days.values, 2, "D")]
    ['2001-03-01', '2001-03-02']
    """
    values = np.asarray(values)
    last = values[-1]
    if isinstance(step, str):
        kind = label_kind(values)
        if kind not in ("datetime", "cftime"):
            raise ValueError(f"a frequency such as {step!r} steps time labels, not {kind} ones")
        dates = xr.date_range(
            start=last,
            periods=count + 1,
            freq=step,
            calendar=calendar_of(values),
            use_cftime=kind == "cftime",
        )
        after = np.asarray(dates.values)
        after = after[after > last][:count]
        return after.astype(values.dtype) if kind == "datetime" else after
    if label_kind(values) == "cftime":
        delta = step if isinstance(step, datetime.timedelta) else pd.Timedelta(step)
        return np.array([last + k * delta for k in range(1, count + 1)], dtype=object)
    return last + np.arange(1, count + 1) * step


def days_since_epoch(labels: np.ndarray) -> np.ndarray:
    """Days since :data:`EPOCH` (float64) of time labels, in their own calendar: the same
    numbers whatever the datetime64 resolution (ns in memory, us or s after a round trip
    through a file).

    Examples
    --------
    >>> days_since_epoch(np.array(["1970-01-02T12"], "datetime64[h]")).tolist()
    [1.5]
    """
    labels = np.asarray(labels)
    kind = label_kind(labels)
    if kind == "datetime":
        return (labels - np.datetime64(EPOCH)) / np.timedelta64(1, "D")
    import cftime

    units = f"days since {EPOCH}"
    return np.asarray(cftime.date2num(labels, units, calendar=calendar_of(labels)), float)


def calendar_field(labels: np.ndarray, field: str) -> np.ndarray:
    """A calendar field (``month``, ``dayofyear``, ``hour``, ...) of time labels, in their
    calendar, as float64."""
    accessor = xr.DataArray(np.asarray(labels), dims="t").dt
    return np.asarray(getattr(accessor, field).values, dtype=np.float64)


def days_in_year(labels: np.ndarray) -> np.ndarray:
    """The length of each label's year in its calendar (365 or 366, 360 for 360_day)."""
    return calendar_field(labels, "days_in_year")


def describe_steps(values: np.ndarray, dim: Hashable) -> str:
    """What the steps of a coordinate are, for messages."""
    values = np.asarray(values)
    if len(values) < 2:
        return f"{dim!r} has {len(values)} label"
    steps = np.diff(values)
    return f"its steps run from {min(steps)} to {max(steps)}"
