"""The options of every batch iterator, declared once and checked on creation."""

from __future__ import annotations

import dataclasses
import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from .checks import describe
from .params import Boolean, Function, Integer, Options, Rule, Seed, validate

__all__ = [
    "BATCH_OPTIONS_DOC",
    "BATCH_RULES",
    "BatchOptions",
    "batch_options_doc",
    "with_batch_options",
]


BATCH_OPTIONS_DOC = """\
batch_size : int, default 65536
    Samples per batch; the last batch is partial unless ``drop_last``. 65,536 rows of
    the notebook's 729 float32 features are 190 MB: large enough that the per-batch
    costs vanish, small enough to bound memory. The deep-learning loaders default to
    256 (a gradient step's batch) and ``WindowDataIter`` to 262,144 (xgboost's pages:
    fewer, larger pages build its sketches faster).
shuffle : bool or "full", default False
    ``True`` permutes the samples: all of them for numpy-backed data; for dask-backed
    data, the slabs are visited in a random order ``shuffle_buffer`` at a time and the
    samples of those slabs permuted (each chunk read about once per epoch). ``"full"``
    loads the whole source and permutes every sample.
random_state : int or numpy Generator, optional
    Seed of the shuffle, the augmentation and the sample: the same seed gives the same
    epoch on every path (``fit_batches``, ``WindowDataIter``, the torch and Keras
    loaders).
drop_last : bool, default False
    Drop the last, partial batch.
start : int, default 0
    Index of the first batch to yield, to resume an interrupted epoch (with the same
    ``random_state`` the remaining batches are those the full epoch gives).
shuffle_buffer : int, default 4
    Slabs shuffled together for dask-backed data.
augment : callable, optional
    ``augment(X, y, coords, rng) -> (X, y, coords)``, applied to each batch with a
    numpy Generator seeded from ``random_state`` and the batch's index (the same seed
    gives the same augmented epoch), e.g. :func:`xbatcher_tab.augment.flip`.
prefetch : int, default 0 (1 in ``fit_batches`` and ``WindowDataIter``, whose
    consumers work between batches while the next is gathered)
    Batches prepared ahead on a background thread (their slabs read and their rows
    gathered) while the caller works on the current one; memory holds at most
    ``prefetch + 1`` batches besides the caller's. The same batches in the same order;
    an error while preparing one is raised where that batch would come, and stopping
    early (``break``) stops the thread. 0: gathered in the caller's thread.
sample : float or int, optional
    Train on a seeded subset: a fraction in (0, 1] of the samples kept (after
    ``dropna`` and ``where``; ``round(fraction * n)``, at least one) or a count of them,
    drawn without replacement by ``random_state`` before anything is gathered (slabs
    with no sample drawn are not read). The same subset in every epoch and on every
    path for the same seed; never applied by ``xt.predict``.
epoch : int, default 0
    Which epoch's order: shuffles and augmentations of epoch ``e`` derive from
    ``random_state`` and ``e`` (epoch 0: from the seed itself), as the torch loaders'
    ``set_epoch(e)`` and ``fit_batches``' epoch ``e``.
row_order : "storage" or "random", default "storage"
    The order of a shuffled batch's rows. A shuffled batch is a random *set* of
    samples; with ``"storage"`` its rows come in the order their windows lie in the
    data (gathered faster: neighbouring windows share cache lines and slabs), which
    changes nothing for losses that sum over the batch (SGD, xgboost, torch and Keras
    losses). ``"random"`` keeps the epoch's permuted order within each batch too, for
    whoever needs it (splitting a batch into smaller steps, pairing consecutive rows).
    The same sets of samples either way; unshuffled batches are in storage order
    already."""


def batch_options_doc(indent: int) -> str:
    """:data:`BATCH_OPTIONS_DOC` for a numpydoc Parameters section indented by
    ``indent`` spaces (its first line is not indented: it replaces a placeholder)."""
    return BATCH_OPTIONS_DOC.replace("\n", "\n" + " " * indent)


def with_batch_options(indent: int) -> Callable:
    """A decorator filling the ``{batch_options}`` placeholder of a docstring with
    :data:`BATCH_OPTIONS_DOC` (indented by ``indent``); nothing under ``python -OO``,
    which strips docstrings."""

    def fill(obj):
        if obj.__doc__:
            obj.__doc__ = obj.__doc__.format(batch_options=batch_options_doc(indent))
        return obj

    return fill


class Sample(Rule):
    """``sample``: None, a fraction in (0, 1] (a float) or a count >= 1 (an integer).

    Examples
    --------
    >>> Sample().check("sample", 0.1), Sample().check("sample", 500)
    (0.1, 500)
    >>> Sample().check("sample", 1.5)
    Traceback (most recent call last):
    ...
    ValueError: sample must be a fraction in (0, 1] or a count of samples >= 1, got 1.5
    """

    def check(self, name: str, value: object) -> float | int | None:
        if value is None:
            return None
        valid = "a fraction in (0, 1] or a count of samples >= 1"
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"{name} must be {valid}, got {describe(value)}")
        if isinstance(value, numbers.Integral):
            if value < 1:
                raise ValueError(f"{name} must be {valid}, got {value!r}")
            return int(value)
        if not 0 < value <= 1:
            raise ValueError(f"{name} must be {valid}, got {value!r}")
        return float(value)


BATCH_RULES = {
    "batch_size": Integer(1),
    "shuffle": Options(True, False, "full"),
    "random_state": Seed(),
    "drop_last": Boolean(),
    "start": Integer(0, "a batch index >= 0"),
    "shuffle_buffer": Integer(1),
    "augment": Function("a function (X, y, coords, rng) -> (X, y, coords) or None"),
    "prefetch": Integer(0),
    "sample": Sample(),
    "epoch": Integer(0, "an epoch index >= 0"),
    "row_order": Options("storage", "random"),
}


@dataclass(frozen=True)
class BatchOptions:
    """The options of every batch iterator, declared once and checked on creation.

    :meth:`WindowTabularizer.iter_batches`, :func:`xbatcher_tab.fit_batches` and
    :class:`xbatcher_tab.WindowDataIter` take exactly these, as keyword arguments.

    Examples
    --------
    >>> BatchOptions.from_kwargs("iter_batches", {"batch_size": 20}).batch_size
    20
    >>> BatchOptions.from_kwargs("iter_batches", {"bach_size": 20})
    Traceback (most recent call last):
    ...
    TypeError: iter_batches got an unknown option 'bach_size'; the batch options are \
batch_size, shuffle, random_state, drop_last, start, shuffle_buffer, augment, prefetch, \
sample, epoch, row_order
    """

    batch_size: int = 65536
    shuffle: bool | str = False
    random_state: int | np.random.Generator | np.random.SeedSequence | None = None
    drop_last: bool = False
    start: int = 0
    shuffle_buffer: int = 4
    augment: Callable | None = None
    prefetch: int = 0
    sample: float | int | None = None
    epoch: int = 0
    row_order: str = "storage"

    def __post_init__(self) -> None:
        checked = validate(type(self).__name__, BATCH_RULES, self.as_kwargs())
        for name, value in checked.items():
            object.__setattr__(self, name, value)

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(cls))

    @classmethod
    def from_kwargs(cls, caller: str, kwargs: Mapping, **defaults: object) -> BatchOptions:
        """Options from keyword arguments (``defaults`` override the class defaults)."""
        unknown = [k for k in kwargs if k not in cls.names()]
        if unknown:
            raise TypeError(
                f"{caller} got an unknown option {unknown[0]!r}; the batch options are "
                + ", ".join(cls.names())
            )
        return cls(**{**defaults, **kwargs})

    def replace(self, **changes: object) -> BatchOptions:
        return dataclasses.replace(self, **changes)

    @property
    def random(self) -> bool:
        """Whether the batches draw random numbers (a shuffle, an augmentation or a
        sample): then
        a seed must be fixed once for every pass, worker and rank to agree."""
        return bool(self.shuffle) or self.augment is not None or self.sample is not None

    def as_kwargs(self) -> dict:
        """The options as keyword arguments (values not copied)."""
        return {name: getattr(self, name) for name in self.names()}
