"""``sample=``: a seeded subset of the samples a table keeps, chosen before any gather.

``sample`` is a fraction in (0, 1] (``round(fraction * n)`` samples, at least one) or a
count of samples. The sampled samples are drawn without replacement from those kept (after
``dropna`` and ``where``), as positions in storage order, by
:func:`~xbatcher_tab._core.seeds.sample_rng` of the seed: the same seed gives the same
samples on every path (batches, dask blocks, the deep-learning loaders), whatever the
epoch, the shuffle or the shares. Slabs none of whose samples is drawn are never read
(unless ``dropna`` or ``where`` must read them to know which samples they keep).
"""

from __future__ import annotations

import math

import numpy as np

from .._core.seeds import sample_rng
from .slabs import SlabSource
from .table import Tabular

__all__ = ["Sampled", "sample_size", "sampled_positions"]


def sample_size(sample: float | int, n: int) -> int:
    """How many of ``n`` samples ``sample`` draws (a count larger than ``n``: refused).

    Examples
    --------
    >>> sample_size(0.1, 1004), sample_size(0.001, 10), sample_size(7, 10)
    (100, 1, 7)
    """
    if isinstance(sample, int):
        if sample > n:
            raise ValueError(f"sample={sample} asks for more samples than the {n} the table keeps")
        return sample
    return min(n, max(1, math.floor(sample * n + 0.5))) if n else 0


def sampled_positions(counts: np.ndarray, sample: float | int, seed: object) -> np.ndarray:
    """Positions (in storage order, sorted) of the samples drawn among ``counts.sum()``."""
    n = int(np.sum(counts))
    k = sample_size(sample, n)
    return np.sort(sample_rng(seed).choice(n, size=k, replace=False))


class Sampled:
    """A :class:`SlabSource` narrowed to its sampled samples: the same slabs, each
    keeping only the samples drawn (``counts``: the samples each slab keeps, if
    known)."""

    def __init__(
        self,
        source: SlabSource,
        sample: float | int,
        seed: object,
        counts: np.ndarray | None = None,
    ) -> None:
        counts = source.counts() if counts is None else np.asarray(counts, dtype=np.int64)
        positions = sampled_positions(counts, sample, seed)
        ends = np.cumsum(counts)
        self._starts = ends - counts
        self._drawn = np.split(positions, np.searchsorted(positions, ends[:-1]))
        self.source = source
        self.slabs = source.slabs

    def positions(self, k: int) -> np.ndarray:
        """The drawn samples of slab ``k``, as positions among the samples it keeps."""
        return self._drawn[k] - self._starts[k]

    def counts(self) -> np.ndarray:
        return np.array([p.size for p in self._drawn], dtype=np.int64)

    def ids(self, k: int) -> np.ndarray:
        """Global ids of slab ``k``'s drawn samples (read only under dropna or where)."""
        if not self.source.layout.selects:
            return self.source.slabs[k].first_id + self.positions(k)
        return self.source.ids(k)[self.positions(k)]

    def rows(self, ids: np.ndarray) -> Tabular:
        return self.source.rows(ids)
